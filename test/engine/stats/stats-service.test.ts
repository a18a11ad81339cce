/**
 * engine/stats/stats.ts against a fake Kubernetes client: the metrics API read for a running
 * container, the clear 501 where the cluster serves none, a zero reading for a Pod not scraped
 * yet, dockerd's empty sample for a container that does not run.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { StatsService, NO_METRICS_API } from '../../../src/engine/stats/stats.js';
import type { StatsHost } from '../../../src/engine/stats/host.js';
import { KubeApiError } from '../../../src/kube/client.js';
import { statusFromError } from '../../../src/errors.js';

const notFound = () => new KubeApiError(404, 'NotFound', 'the server could not find the requested resource');

function host(opts: { running: boolean; served: boolean; podMetrics?: unknown }): { h: StatsHost; gets: string[] } {
  const gets: string[] = [];
  const rec = { id: 'c'.repeat(64), name: 'web' };
  const pod = {
    metadata: { name: 'web-cccccccccccc-1' },
    spec: { nodeName: 'n1', containers: [{ name: 'main', resources: { limits: { memory: '256Mi' } } }] },
  };
  const h = {
    namespace: 'ci',
    index: { resolve: () => rec, get: () => rec, currentPod: () => pod, pods: { list: () => [pod] } },
    stateOf: () => ({ Running: opts.running }),
    kube: {
      client: {
        get: async (path: string) => {
          gets.push(path);
          if (path === '/apis/metrics.k8s.io/v1beta1') {
            if (!opts.served) throw notFound();
            return { kind: 'APIResourceList' };
          }
          if (path === '/api/v1/nodes/n1') return { status: { capacity: { cpu: '4', memory: '8Gi' } } };
          if (path.includes('/pods/') && opts.podMetrics) return opts.podMetrics;
          throw notFound();
        },
      },
    },
  } as unknown as StatsHost;
  return { h, gets };
}

test('~> a running container: PodMetrics of its Pod, the node CPUs, the container memory limit', async () => {
  const { h, gets } = host({
    running: true,
    served: true,
    podMetrics: {
      timestamp: new Date().toISOString(),
      window: '10s',
      containers: [{ name: 'main', usage: { cpu: '250m', memory: '64Mi' } }],
    },
  });
  const r = await new StatsService(h).reader('web');
  assert.ok(r.running());
  const s = (await r.sample()) as any;
  assert.is(s.name, '/web');
  assert.is(s.cpu_stats.online_cpus, 4);
  assert.is(s.memory_stats.usage, 64 * 2 ** 20);
  assert.is(s.memory_stats.limit, 256 * 2 ** 20);
  const pct =
    ((s.cpu_stats.cpu_usage.total_usage - s.precpu_stats.cpu_usage.total_usage) /
      (s.cpu_stats.system_cpu_usage - s.precpu_stats.system_cpu_usage)) *
    4 *
    100;
  assert.ok(Math.abs(pct - 25) < 1e-6, String(pct));
  assert.ok(gets.includes('/apis/metrics.k8s.io/v1beta1/namespaces/ci/pods/web-cccccccccccc-1'));
});

test('~> no metrics API on the cluster: a 501 naming metrics-server', async () => {
  const { h } = host({ running: true, served: false });
  try {
    await new StatsService(h).reader('web');
    assert.unreachable();
  } catch (e) {
    assert.is(statusFromError(e), 501);
    assert.is((e as Error).message, NO_METRICS_API);
    assert.match(NO_METRICS_API, 'metrics-server');
  }
});

test('~> a Pod the metrics API has no reading for yet: a zero reading, not an error', async () => {
  const { h } = host({ running: true, served: true });
  const s = (await (await new StatsService(h).reader('web')).sample()) as any;
  assert.is(s.memory_stats.usage, 0);
  assert.is(s.cpu_stats.cpu_usage.total_usage - s.precpu_stats.cpu_usage.total_usage, 0);
});

test("~> a container that does not run: dockerd's empty sample, no metrics read", async () => {
  const { h, gets } = host({ running: false, served: false });
  const r = await new StatsService(h).reader('web');
  assert.not.ok(r.running());
  const s = (await r.sample()) as any;
  assert.is(s.read, '0001-01-01T00:00:00Z');
  assert.equal(gets, []);
});

test('~> the node cache keeps only nodes that host a Pod of this instance (bounded by the Pods, not the cluster history)', async () => {
  const rec = { id: 'c'.repeat(64), name: 'web' };
  let pod = { metadata: { name: 'web-1' }, spec: { nodeName: 'n0', containers: [{ name: 'main' }] } };
  const h = {
    namespace: 'ci',
    index: { resolve: () => rec, get: () => rec, currentPod: () => pod, pods: { list: () => [pod] } },
    stateOf: () => ({ Running: true }),
    kube: {
      client: {
        get: async (path: string) => {
          if (path === '/apis/metrics.k8s.io/v1beta1') return { kind: 'APIResourceList' };
          if (path.startsWith('/api/v1/nodes/')) return { status: { capacity: { cpu: '2', memory: '1Gi' } } };
          throw notFound();
        },
      },
    },
  } as unknown as StatsHost;
  const stats = new StatsService(h);
  // The container's Pod lands on a new node at each run (node churn): 200 nodes over time.
  for (let i = 0; i < 200; i++) {
    pod = { ...pod, spec: { ...pod.spec, nodeName: `n${i}` } };
    const s = (await (await stats.reader('web')).sample()) as any;
    assert.is(s.cpu_stats.online_cpus, 2);
  }
  assert.is(stats.nodeCacheSize, 1);
});

test.run();
