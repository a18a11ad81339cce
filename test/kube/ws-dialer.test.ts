/** The WebSocket dialer against kube-sim's exec: TLS + token, v5 negotiation, v4 fallback, errors. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startSim, type SimHandle } from '../helpers/sim.js';
import { Kube, KubeApiError, CHANNEL_PROTOCOLS, type KObject } from '../../src/kube/index.js';
import { execRun } from '../../src/engine/containers/exec-run.js';
import { parseStatus } from '../../src/stream/k8s-channel.js';
import { withRequestSignal } from '../../src/cancel-scope.js';
import { createServer, type Socket } from 'node:net';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const limits = { timeoutMs: 10_000, maxOutput: 4096 };

let sim: SimHandle;
let kube: Kube;

test.before(async () => {
  sim = await startSim();
  kube = Kube.load({ kubeconfig: sim.kubeconfigPath });
  await kube.client.create(kube.path('pods'), {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'dial', labels: { t: 'dial' } },
    spec: {
      restartPolicy: 'Never',
      terminationGracePeriodSeconds: 1,
      containers: [{ name: 'main', image: 'busybox', command: ['sleep', '300'] }],
    },
  });
  const cache = kube.cache<KObject>('pods', 't=dial');
  await cache.start();
  await cache.when(
    () => ((cache.get('dial') as any)?.status?.containerStatuses?.[0]?.state?.running ? true : undefined),
    { timeoutMs: 30_000 },
  );
  cache.stop();
});
test.after(async () => {
  kube.close();
  await sim.stop();
});

test('~> exec over TLS with the bearer token negotiates v5 and carries stdout and the exit code', async () => {
  const { ws, protocol } = await kube.dialer.exec('default', 'dial', {
    container: 'main',
    command: ['sh', '-c', 'echo out; echo err >&2; exit 3'],
  });
  assert.is(protocol, 'v5.channel.k8s.io');
  const chunks: Record<number, string> = { 1: '', 2: '', 3: '' };
  await new Promise<void>((resolve) => {
    ws.on('message', (d: Buffer) => {
      if (d.length > 1) chunks[d[0]!] = (chunks[d[0]!] ?? '') + d.subarray(1).toString();
    });
    ws.on('close', () => resolve());
  });
  assert.is(chunks[1], 'out\n');
  assert.is(chunks[2], 'err\n');
  assert.equal(parseStatus(chunks[3]!), { kind: 'exit', exitCode: 3 });
  // The raw ws socket is exposed for backpressure.
  assert.type(ws.pause, 'function');
  assert.type(ws.bufferedAmount, 'number');
});

test('~> offering only v4 negotiates v4', async () => {
  const { ws, protocol } = await kube.dialer.exec(
    'default',
    'dial',
    { container: 'main', command: ['true'] },
    { protocols: ['v4.channel.k8s.io'] },
  );
  assert.is(protocol, 'v4.channel.k8s.io');
  ws.close(1000);
  assert.equal([...CHANNEL_PROTOCOLS], ['v5.channel.k8s.io', 'v4.channel.k8s.io']);
});

test('~> errors before the upgrade are the apiserver Status: 404 pod, 400 container', async () => {
  try {
    await kube.dialer.exec('default', 'nosuchpod', { command: ['true'] });
    assert.unreachable();
  } catch (e) {
    assert.instance(e, KubeApiError);
    assert.is((e as KubeApiError).status, 404);
    assert.match((e as Error).message, /nosuchpod/);
  }
  try {
    await kube.dialer.exec('default', 'dial', { container: 'nope', command: ['true'] });
    assert.unreachable();
  } catch (e) {
    assert.is((e as KubeApiError).status, 400);
    assert.match((e as Error).message, /nope/);
  }
});

test('~> execRun collects the exit code (what the engine uses to signal PID 1)', async () => {
  assert.equal(await execRun(kube.dialer, 'default', 'dial', 'main', ['sh', '-c', 'echo hi; exit 5'], limits), {
    exitCode: 5,
    output: 'hi\n',
  });
  assert.equal((await execRun(kube.dialer, 'default', 'dial', 'main', ['true'], limits)).exitCode, 0);
  const nf = await execRun(kube.dialer, 'default', 'dial', 'main', ['no-such-binary'], limits);
  assert.is(nf.exitCode, 127);
  assert.match(nf.output, /executable file not found/);
});

test('~> a dial takes the signal of the Docker request it runs for: aborted, it ends at once and closes its socket', async () => {
  // An apiserver that takes the upgrade request and never answers it.
  const held = new Set<Socket>();
  let closed = 0;
  const hole = createServer((s) => {
    held.add(s);
    s.resume(); // read the upgrade request (and the client's FIN when it gives up)
    s.on('error', () => {});
    s.on('close', () => closed++);
  });
  await new Promise<void>((r) => hole.listen(0, '127.0.0.1', r));
  const port = (hole.address() as { port: number }).port;
  const dir = mkdtempSync(join(tmpdir(), 'ws-dial-'));
  writeFileSync(
    join(dir, 'config'),
    `apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: http://127.0.0.1:${port}\n` +
      `users:\n- name: u\n  user: {}\ncontexts:\n- name: x\n  context: {cluster: c, user: u, namespace: default}\ncurrent-context: x\n`,
  );
  const k = Kube.load({ kubeconfig: join(dir, 'config') }, { wsHandshakeTimeoutMs: 120_000 });
  try {
    const request = new AbortController();
    const dial = withRequestSignal(request.signal, () => k.dialer.exec('default', 'p', { command: ['true'] }));
    const outcome = dial.then(
      () => undefined,
      (e: Error) => e,
    );
    for (let i = 0; i < 500 && held.size === 0; i++) await new Promise((r) => setTimeout(r, 10));
    assert.is(held.size, 1, 'the upgrade reached the apiserver');
    request.abort(new Error('the client went away'));
    const err = await outcome;
    assert.ok(err, 'the dial failed');
    assert.match(err!.message, 'the client went away');
    for (let i = 0; i < 500 && closed === 0; i++) await new Promise((r) => setTimeout(r, 10));
    assert.is(closed, 1, 'its connection closed');
  } finally {
    k.close();
    for (const s of held) s.destroy();
    hole.close();
  }
});

test.run();
