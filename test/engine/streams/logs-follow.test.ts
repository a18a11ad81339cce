/**
 * engine/logs against kube-sim (in process, split streams on): a `follow` made while the Pod is
 * still Pending (not yet scheduled) stays open, starts streaming when the container runs, keeps
 * stdout and stderr apart, and ends when the container exits; a non-follow read of a Pending Pod
 * is empty. The engine is a minimal StreamsHost over a real watch cache.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { EventEmitter } from 'node:events';
import { startSim, type SimHandle } from '../../helpers/sim.js';
import { Kube, type KObject } from '../../../src/kube/index.js';
import { containerLogs } from '../../../src/engine/streams/logs.js';
import type { StreamsHost, StreamPod } from '../../../src/engine/streams/host.js';
import type { ContainerRecord } from '../../../src/engine/model/types.js';

let sim: SimHandle;
let kube: Kube;

test.before(async () => {
  sim = await startSim({ featureGates: { PodLogsQuerySplitStreams: true } });
  kube = Kube.load({ kubeconfig: sim.kubeconfigPath, namespace: 'default', env: {} });
});
test.after(async () => {
  kube?.close();
  await sim?.stop();
});

/** A Writable-like sink that records what it is given. */
class Sink extends EventEmitter {
  chunks: Buffer[] = [];
  write(b: Uint8Array): boolean {
    this.chunks.push(Buffer.from(b));
    return true;
  }
  get bytes(): Buffer {
    return Buffer.concat(this.chunks);
  }
}

function demux(b: Buffer): { out: string; err: string } {
  let out = '',
    err = '';
  for (let i = 0; i + 8 <= b.length;) {
    const len = b.readUInt32BE(i + 4);
    const p = b.subarray(i + 8, i + 8 + len).toString();
    if (b[i] === 2) err += p;
    else out += p;
    i += 8 + len;
  }
  return { out, err };
}

function hostFor(podName: string, cache: ReturnType<Kube['cache']>): StreamsHost {
  const rec = {
    id: 'c'.repeat(64),
    name: 'x',
    config: {},
    state: { run: 1, restartCount: 0 },
  } as unknown as ContainerRecord;
  return {
    kube,
    target: () => ({
      id: rec.id,
      name: 'x',
      namespace: 'default',
      config: {},
      run: 1,
      podName,
      containerName: 'main',
      state: {} as never,
    }),
    index: {
      get: () => rec,
      currentPod: () => cache.get(podName) as StreamPod | undefined,
      when: (check, opts) => cache.when(check, opts ?? {}),
    },
    events: { container: () => undefined },
    eventSource: () => ({ id: rec.id, name: 'x', image: 'busybox', labels: {} }),
  };
}

test('~> follow on a Pending pod stays open, streams once it runs (stdout/stderr apart), ends at exit', async () => {
  const cache = kube.cache<KObject>('pods', 'test=logs-follow');
  await cache.start();
  await kube.client.create(kube.path('pods'), {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'pending', labels: { test: 'logs-follow' } },
    spec: {
      schedulerName: 'manual',
      restartPolicy: 'Never',
      containers: [
        { name: 'main', image: 'busybox', command: ['sh', '-c', 'echo hello; echo oops >&2; sleep 0.3; echo bye'] },
      ],
    },
  });
  const host = hostFor('pending', cache);
  const empty = new Sink();
  await containerLogs(host, 'x', { stdout: true, stderr: true, follow: false, timestamps: false }, { holdMs: 5 }).run(
    empty as never,
    new AbortController().signal,
  );
  assert.is(empty.bytes.length, 0, 'a non-follow read of a Pending pod is empty');

  const sink = new Sink();
  let ended = false;
  const running = containerLogs(
    host,
    'x',
    { stdout: true, stderr: true, follow: true, timestamps: false },
    { holdMs: 5 },
  )
    .run(sink as never, new AbortController().signal)
    .then(() => (ended = true));
  await new Promise((r) => setTimeout(r, 700));
  assert.is(ended, false, 'the follow stays open while the pod is Pending');
  assert.is(sink.bytes.length, 0);
  const node = (await kube.client.get<{ items: Array<{ metadata: { name: string } }> }>('/api/v1/nodes')).items[0]!
    .metadata.name;
  await kube.client.create(kube.path('pods', 'pending', 'binding'), {
    apiVersion: 'v1',
    kind: 'Binding',
    metadata: { name: 'pending' },
    target: { apiVersion: 'v1', kind: 'Node', name: node },
  });
  await running;
  assert.equal(demux(sink.bytes), { out: 'hello\nbye\n', err: 'oops\n' });
  cache.stop();
});

test.run();
