/**
 * The engine in-process against kube-sim: lookups (ambiguous prefixes), the streaming seams
 * (target, waiting on the cache, AutoRemove holds), wait conditions, the restart policy and a
 * manual stop, and record CAS updates.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { pino } from 'pino';
import { startSim, type SimHandle } from '../helpers/sim.js';
import { Kube } from '../../src/kube/index.js';
import { KubeEngine } from '../../src/engine/kube-engine.js';
import { parsePs } from '../../src/engine/containers/top.js';
import { mainStatus } from '../../src/engine/model/state.js';
import { statusFromError } from '../../src/errors.js';

let sim: SimHandle;
let kube: Kube;
let engine: KubeEngine;
const never = new AbortController().signal;

test.before(async () => {
  sim = await startSim();
  kube = Kube.load({ kubeconfig: sim.kubeconfigPath });
  engine = new KubeEngine(kube, { instance: 'engine-test' }, pino({ level: process.env.TEST_LOG ?? 'silent' }));
  await engine.start();
});
test.after(async () => {
  engine.close();
  kube.close();
  await sim.stop();
});

test('~> ID prefixes: unique ones resolve, a shared one is a 400 with moby text', async () => {
  const ids: string[] = [];
  for (let i = 0; i < 17; i++)
    ids.push((await engine.createContainer(undefined, { Image: 'busybox', Labels: { t: 'prefix' } })).Id);
  // 17 IDs over 16 hex digits: two share their first character.
  const first = ids.map((x) => x[0]!);
  const shared = first.find((c, i) => first.indexOf(c) !== i)!;
  try {
    engine.target(shared);
    assert.unreachable();
  } catch (e) {
    assert.is(statusFromError(e), 400);
    assert.is((e as Error).message, `multiple IDs found with provided prefix: ${shared}`);
  }
  assert.is(engine.target(ids[0]!.slice(0, 20)).id, ids[0]);
  const names = engine.index
    .all()
    .filter((r) => r.config.Labels?.t === 'prefix')
    .map((r) => r.name);
  assert.is(new Set(names).size, 17, 'generated names are unique');
  for (const id of ids) await engine.removeContainer(id, { force: false, volumes: false, link: false });
});

test('~> target() and cache waits give the streaming side the pod to dial', async () => {
  const { Id } = await engine.createContainer('seam', {
    Image: 'busybox',
    Cmd: ['sleep', '300'],
    Tty: true,
    OpenStdin: true,
  });
  const before = engine.target('seam');
  assert.equal([before.run, before.podName, before.state.Status], [0, undefined, 'created']);
  await engine.startContainer(Id);
  const t = engine.target('/seam');
  assert.equal([t.run, t.namespace, t.containerName, t.config.Tty], [1, 'default', 'main', true]);
  assert.match(t.podName!, /^seam-[0-9a-f]{12}$/);
  const pod = await engine.index.when(
    () => {
      const r = engine.index.get(Id);
      const p = r && engine.index.currentPod(r);
      return mainStatus(p)?.state?.running ? p : undefined;
    },
    { timeoutMs: 10_000 },
  );
  assert.is(pod.metadata.name, t.podName);
  await engine.removeContainer(Id, { force: true, volumes: false, link: false });
});

test('~> wait: not-running answers at once for a created container; removed waits for AutoRemove and its holds', async () => {
  const created = await engine.createContainer(undefined, { Image: 'busybox' });
  const w0 = await engine.waitContainer(created.Id, 'not-running', never);
  assert.equal(await w0.result, { StatusCode: 0 });
  await engine.removeContainer(created.Id, { force: false, volumes: false, link: false });

  const { Id } = await engine.createContainer(undefined, {
    Image: 'busybox',
    Cmd: ['sh', '-c', 'sleep 0.3; exit 5'],
    HostConfig: { AutoRemove: true },
  });
  const release = engine.holdAutoRemove(Id);
  const removed = await engine.waitContainer(Id, 'removed', never);
  const exit = await engine.waitContainer(Id, 'next-exit', never);
  await engine.startContainer(Id);
  assert.equal(await exit.result, { StatusCode: 5 });
  await new Promise((r) => setTimeout(r, 300));
  assert.ok(engine.index.get(Id), 'the hold keeps the container');
  release();
  assert.equal(await removed.result, { StatusCode: 5 });
  assert.is(engine.index.get(Id), undefined);
  const actions = engine.events
    .recent()
    .filter((e) => e.Actor.ID === Id)
    .map((e) => e.Action);
  assert.equal(actions, ['create', 'start', 'die', 'destroy']);
});

test('~> restart policy always: restarts until a manual stop, which is final', async () => {
  const { Id } = await engine.createContainer('always', {
    Image: 'busybox',
    Cmd: ['sh', '-c', 'sleep 0.2; exit 1'],
    HostConfig: { RestartPolicy: { Name: 'always' } },
  });
  await engine.startContainer(Id);
  await engine.index.when(() => ((engine.index.get(Id)?.state.restartCount ?? 0) >= 2 ? true : undefined), {
    timeoutMs: 20_000,
  });
  await engine.stopContainer(Id, { timeout: 1 });
  const st = engine.stateOf(engine.index.get(Id)!);
  assert.is(st.Running, false);
  const count = engine.index.get(Id)!.state.restartCount;
  await new Promise((r) => setTimeout(r, 1500));
  assert.is(engine.index.get(Id)!.state.restartCount, count, 'no restart after a manual stop');
  assert.is(engine.stateOf(engine.index.get(Id)!).Status, 'exited');
  await engine.removeContainer(Id, { force: true, volumes: false, link: false });
});

test('~> record updates are compare-and-swap: a stale write is retried, not lost', async () => {
  const { Id } = await engine.createContainer(undefined, { Image: 'busybox' });
  const a = engine.updateState(Id, (s) => ({ ...s, restartCount: s.restartCount + 1 }));
  const b = engine.updateState(Id, (s) => ({ ...s, restartCount: s.restartCount + 1 }));
  await Promise.all([a, b]);
  const fresh = await kube.client.get(kube.path('configmaps', engine.index.get(Id)!.object.name));
  assert.is(JSON.parse(fresh.metadata.annotations['kuber-api.io/state']).restartCount, 2);
  await engine.removeContainer(Id, { force: false, volumes: false, link: false });
});

test('~> top output: titles, rows with the command as the last column, our own ps left out', () => {
  const out =
    'PID   USER     COMMAND\n    1 root     sleep 300\n    7 root     sh -c while true; do x; done\n   12 root     ps -ef\n';
  assert.equal(parsePs(out, 'ps -ef'), {
    Titles: ['PID', 'USER', 'COMMAND'],
    Processes: [
      ['1', 'root', 'sleep 300'],
      ['7', 'root', 'sh -c while true; do x; done'],
    ],
  });
});

test.run();
