/**
 * kube-sim keeps its objects across a restart on the same state directory (`persist`), as an
 * apiserver finds them in etcd: objects and the revision come back, older watches get 410, the
 * `kubernetes` Service points at the new port; the restarted kubelet fails a Never pod it was
 * running (ContainerStatusUnknown, 137) and still serves the logs of that pod and of a finished one;
 * two simulators never share a state directory. Without `persist` nothing is kept.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { start, type SimHandle } from '../../../src/sim/index.js';
import { StorePersistence, lockStateDir, readStoreFile } from '../../../src/sim/store/persist.js';
import { defOf } from '../../../src/sim/store/resources.js';
import { Store } from '../../../src/sim/store/store.js';
import { call, until } from '../client.js';

const CM = defOf({ group: '', resource: 'configmaps' });
const NS = defOf({ group: '', resource: 'namespaces' });

const dirs: string[] = [];
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'kube-sim-persist-'));
  dirs.push(d);
  return d;
};
test.after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

test('a write is saved after the debounce, and flush() saves at once; load() restores objects and the revision without events', async () => {
  const dir = tempDir();
  const a = new Store();
  const p = new StorePersistence(a, dir, { debounceMs: 20 });
  a.create(NS, undefined, { metadata: { name: 'default' } });
  a.create(CM, 'default', { metadata: { name: 'one' }, data: { k: 'v' } });
  await until(() => existsSync(join(dir, 'store.json')), 5000, 'the debounced write');
  a.create(CM, 'default', { metadata: { name: 'two' } });
  p.close();
  const saved = readStoreFile(dir)!;
  assert.is(saved.rv, a.rv);
  const b = new Store();
  let events = 0;
  b.subscribe(CM, () => events++);
  b.load(saved);
  assert.is(events, 0);
  assert.is(b.rv, a.rv);
  assert.equal(b.get(CM, 'default', 'one')!.data, { k: 'v' });
  assert.is(
    b.get(CM, 'default', 'two')!.metadata.resourceVersion,
    a.get(CM, 'default', 'two')!.metadata.resourceVersion,
  );
  // The watch window starts at the restored revision: resuming from an older one is 410 Expired.
  assert.equal(b.eventsSince(CM, 1), { expired: b.rv });
  // New writes continue the revision.
  assert.is(Number(b.create(CM, 'default', { metadata: { name: 'three' } }).metadata.resourceVersion), a.rv + 1);
  assert.is(readStoreFile(tempDir()), undefined, 'no file: a first start');
  // One JSON line per object after the header: no string of the whole store is ever built.
  const lines = readFileSync(join(dir, 'store.json'), 'utf8').trimEnd().split('\n');
  assert.equal(JSON.parse(lines[0]!), { format: 2, rv: a.rv });
  assert.is(lines.length, 1 + Object.values(saved.tables).reduce((n, t) => n + t.length, 0));
});

test('a second simulator waits for the first to leave the state directory, then fails naming it', async () => {
  const dir = tempDir();
  const release = await lockStateDir(dir, 0);
  // Our own pid holds it: a different live process is needed; pid 1 is always alive.
  writeFileSync(join(dir, 'kube-sim.pid'), '1\n');
  const err = await lockStateDir(dir, 100).then(
    () => undefined,
    (e: Error) => e,
  );
  assert.match(String(err?.message), /in use by another kube-sim \(pid 1\)/);
  writeFileSync(join(dir, 'kube-sim.pid'), `${process.pid}\n`);
  release();
  assert.not.ok(existsSync(join(dir, 'kube-sim.pid')));
  // A stale lock (its process is gone) is taken over.
  writeFileSync(join(dir, 'kube-sim.pid'), '999999999\n');
  (await lockStateDir(dir, 0))();
});

const pod = (name: string, script: string) => ({
  metadata: { name },
  spec: {
    restartPolicy: 'Never',
    terminationGracePeriodSeconds: 1,
    containers: [{ name: 'c', image: 'busybox', command: ['sh', '-c', script] }],
  },
});
const getPod = async (sim: SimHandle, name: string) =>
  (await call(sim, 'GET', `/api/v1/namespaces/default/pods/${name}`)).json;

test('~> a restart on the same state directory keeps objects, fails the running Never pod and serves both pods logs', async () => {
  const stateDir = tempDir();
  let sim = await start({ stateDir, persist: true, persistDebounceMs: 20 });
  let stopped = false;
  try {
    assert.is(
      (
        await call(sim, 'POST', '/api/v1/namespaces/default/configmaps', {
          metadata: { name: 'kept' },
          data: { a: 'b' },
        })
      ).status,
      201,
    );
    assert.is((await call(sim, 'POST', '/api/v1/namespaces/default/pods', pod('done', 'echo finished'))).status, 201);
    assert.is(
      (await call(sim, 'POST', '/api/v1/namespaces/default/pods', pod('runs', 'echo started; exec sleep 1000'))).status,
      201,
    );
    await until(async () => (await getPod(sim, 'done')).status?.phase === 'Succeeded', 30_000, 'done Succeeded');
    await until(
      async () => (await call(sim, 'GET', '/api/v1/namespaces/default/pods/runs/log')).text === 'started\n',
      30_000,
      'runs logged',
    );
    const before = await getPod(sim, 'runs');
    const rv = Number((await call(sim, 'GET', '/api/v1/namespaces/default/configmaps')).json.metadata.resourceVersion);
    await sim.stop();
    stopped = true;
    sim = await start({ stateDir, persist: true });
    stopped = false;
    assert.equal((await call(sim, 'GET', '/api/v1/namespaces/default/configmaps/kept')).json.data, { a: 'b' });
    assert.ok(
      Number((await call(sim, 'GET', '/api/v1/namespaces/default/configmaps')).json.metadata.resourceVersion) >= rv,
    );
    const svc = (await call(sim, 'GET', '/api/v1/namespaces/default/services/kubernetes')).json;
    assert.is(svc.spec.ports[0].targetPort, sim.port);
    const done = await getPod(sim, 'done');
    assert.is(done.status.phase, 'Succeeded');
    assert.is((await call(sim, 'GET', '/api/v1/namespaces/default/pods/done/log')).text, 'finished\n');
    const runs = await getPod(sim, 'runs');
    assert.is(runs.metadata.uid, before.metadata.uid);
    assert.is(runs.status.phase, 'Failed');
    const term = runs.status.containerStatuses[0].state.terminated;
    assert.is(term.exitCode, 137);
    assert.is(term.reason, 'ContainerStatusUnknown');
    assert.is(term.containerID, before.status.containerStatuses[0].containerID);
    assert.is(term.startedAt, before.status.containerStatuses[0].state.running.startedAt);
    assert.is((await call(sim, 'GET', '/api/v1/namespaces/default/pods/runs/log')).text, 'started\n');
    // The pods are still the kubelet's: deleting one finishes.
    assert.is((await call(sim, 'DELETE', '/api/v1/namespaces/default/pods/runs')).status, 200);
    await until(
      async () => (await call(sim, 'GET', '/api/v1/namespaces/default/pods/runs')).status === 404,
      30_000,
      'runs deleted',
    );
  } finally {
    if (!stopped) await sim.stop();
  }
  // Without `persist`, a start on that directory begins empty (and leaves the saved store alone).
  const fresh = await start({ stateDir });
  try {
    assert.is((await call(fresh, 'GET', '/api/v1/namespaces/default/configmaps/kept')).status, 404);
  } finally {
    await fresh.stop();
  }
  assert.ok(readStoreFile(stateDir)!.tables.configmaps!.some((c) => c.metadata.name === 'kept'));
});

test.run();
