/**
 * dockerode (testcontainers' client) against kuber-api on kube-sim: its per-call status-code maps
 * are strict (a 304 on start is an error, create wants 201, stop 204/304...), and it sends filters
 * as arrays and booleans as true/false.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import Docker from 'dockerode';
import { spawnSim, type SpawnedSim } from '../helpers/sim.js';
import { startKuber, type Kuber } from '../helpers/kuber.js';

let sim: SpawnedSim;
let kuber: Kuber;
let docker: Docker;

test.before(async () => {
  sim = await spawnSim();
  kuber = await startKuber({ kubeconfig: sim.kubeconfigPath });
  docker = new Docker({ socketPath: kuber.socketPath });
});
test.after(async () => {
  await kuber?.stop();
  await sim?.stop();
});

const statusOf = async (p: Promise<unknown>) => {
  try {
    await p;
    return 200;
  } catch (e) {
    return (e as { statusCode?: number }).statusCode ?? -1;
  }
};

test('~> create/start/inspect/stop/remove with dockerode status maps', async () => {
  const c = await docker.createContainer({
    Image: 'busybox',
    Cmd: ['sh', '-c', 'trap "exit 0" TERM; while true; do sleep 0.2; done'],
    name: 'dockerode-1',
    Labels: { 'org.testcontainers': 'true' },
  });
  assert.match(c.id, /^[0-9a-f]{64}$/);
  await c.start();
  assert.is(await statusOf(c.start()), 304, 'start of a running container: 304 (an error for dockerode)');
  const info = await c.inspect();
  assert.is(info.State.Status, 'running');
  assert.is(info.Name, '/dockerode-1');
  const list = await docker.listContainers({ filters: { label: ['org.testcontainers=true'], status: ['running'] } });
  assert.equal(
    list.map((x) => x.Id),
    [c.id],
  );
  assert.equal(list[0]!.Names, ['/dockerode-1']);
  assert.is(list[0]!.State, 'running');
  await c.stop({ t: 5 });
  assert.is(await statusOf(c.stop()), 304, 'stop of a stopped container: 304');
  assert.is((await c.inspect()).State.ExitCode, 0);
  assert.is(await statusOf(c.kill()), 409);
  await c.remove({ v: true });
  assert.is(await statusOf(c.inspect()), 404);
});

test('~> wait resolves with the exit code; remove force of a running container', async () => {
  const c = await docker.createContainer({ Image: 'busybox', Cmd: ['sh', '-c', 'sleep 0.3; exit 6'] });
  const waiting = c.wait({ condition: 'next-exit' });
  await c.start();
  assert.equal(await waiting, { StatusCode: 6 });
  await c.remove();
  const r = await docker.createContainer({ Image: 'busybox', Cmd: ['sleep', '300'] });
  await r.start();
  assert.is(await statusOf(r.remove()), 409);
  await r.remove({ force: true });
  assert.is(await statusOf(r.inspect()), 404);
});

test('~> 404 texts, the name conflict, images inspect-then-pull', async () => {
  try {
    await docker.getContainer('nosuch').inspect();
    assert.unreachable();
  } catch (e) {
    assert.is((e as { statusCode: number }).statusCode, 404);
    assert.match((e as Error).message, /No such container: nosuch/);
  }
  await docker.createContainer({ Image: 'busybox', name: 'dockerode-dup' });
  assert.is(await statusOf(docker.createContainer({ Image: 'busybox', name: 'dockerode-dup' })), 409);
  await docker.getContainer('dockerode-dup').remove();
  const img = docker.getImage('alpine:3.20');
  try {
    await img.inspect();
    assert.unreachable();
  } catch (e) {
    assert.is((e as { statusCode: number }).statusCode, 404);
    assert.match((e as Error).message, /no such image/i);
  }
  const stream = await docker.pull('alpine:3.20');
  const events = await new Promise<unknown[]>((resolve, reject) =>
    docker.modem.followProgress(stream, (err: Error | null, out: unknown[]) => (err ? reject(err) : resolve(out))),
  );
  assert.ok(events.length >= 1);
  const ii = await img.inspect();
  assert.match(ii.Id, /^sha256:[0-9a-f]{64}$/);
  assert.equal(ii.RepoTags, ['alpine:3.20']);
});

test.run();
