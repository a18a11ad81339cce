import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { IncomingMessage } from 'node:http';
import { startFakeApiserver, type FakeApiserver } from './fake-apiserver.js';
import { loadKubeTarget, KubeClient, KubeApiError } from '../../src/kube/index.js';
import { openPodLog, podLogParams } from '../../src/kube/pod-log.js';

let api: FakeApiserver;
let cfg: string;

test.before(async () => {
  api = await startFakeApiserver();
  cfg = join(mkdtempSync(join(tmpdir(), 'pod-log-')), 'config');
  writeFileSync(cfg, api.kubeconfig);
});
test.after(async () => api.close());

const readAll = (res: IncomingMessage) =>
  new Promise<string>((resolve, reject) => {
    let s = '';
    res.on('data', (d: Buffer) => (s += d.toString('utf8')));
    res.on('end', () => resolve(s));
    res.on('error', reject);
  });

test('~> PodLogOptions become the query the apiserver reads', () => {
  assert.equal(
    podLogParams({
      container: 'main',
      follow: true,
      timestamps: true,
      tailLines: 0,
      sinceTime: '2024-01-01T00:00:00Z',
      stream: 'Stdout',
    }),
    {
      container: 'main',
      follow: 'true',
      timestamps: 'true',
      tailLines: '0',
      sinceTime: '2024-01-01T00:00:00Z',
      stream: 'Stdout',
    },
  );
  assert.equal(podLogParams({ follow: false }), {});
});

test('~> pods/log is retried with the REST client policy (5xx before the body), then streamed unread', async () => {
  const c = new KubeClient(loadKubeTarget({ kubeconfig: cfg }), { retryBaseMs: 1 });
  api.failNext = { status: 503, count: 2, pathContains: '/log' };
  const res = await openPodLog(c, 'fakens', 'p1', { container: 'main' });
  assert.is(res.statusCode, 200);
  assert.is(c.stats.retries, 2);
  assert.ok((await readAll(res)).length > 0);
  c.close();
});

test('~> a refusal that is not retryable surfaces at once as the Status error', async () => {
  const c = new KubeClient(loadKubeTarget({ kubeconfig: cfg }), { retryBaseMs: 1 });
  api.failNext = { status: 422, count: 1, pathContains: '/log' };
  try {
    await openPodLog(c, 'fakens', 'p1', { container: 'main', stream: 'Stdout' });
    assert.unreachable('should throw');
  } catch (err) {
    assert.instance(err, KubeApiError);
    assert.is((err as KubeApiError).status, 422);
    assert.is(c.stats.retries, 0);
  }
  c.close();
});

test('~> the retry bound of one call overrides the client one', async () => {
  const c = new KubeClient(loadKubeTarget({ kubeconfig: cfg }), { retryBaseMs: 1, maxRetries: 6 });
  api.failNext = { status: 500, count: 10, pathContains: '/log' };
  try {
    await openPodLog(c, 'fakens', 'p1', {}, { retries: 1 });
    assert.unreachable('should throw');
  } catch (err) {
    assert.is((err as KubeApiError).status, 500);
    assert.is(c.stats.retries, 1);
  }
  api.failNext = { status: 0, count: 0 };
  c.close();
});

test.run();
