/**
 * The docker CLI against kuber-api (a child process) on kube-sim (another child process): the
 * container lifecycle cases, plus what needs the simulator: restarting kuber-api loses nothing,
 * image pull failures surface with Kubernetes' reason, health checks become State.Health.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { kubectl } from '../helpers/sim.js';
import { startKuber } from '../helpers/kuber.js';
import { docker } from '../helpers/docker-cli.js';
import { cliSuite } from '../helpers/streams-env.js';
import { registerContainerCases, ok, until } from './containers-cases.js';

const { t, d, env, sim } = cliSuite('docker CLI container tests', { timeoutMs: 60_000 });

registerContainerCases((name, fn) => t(name, fn), { dockerHost: () => env().api.dockerHost, prefix: 'sim' });
const inspect = async (name: string) => JSON.parse(ok(await d('inspect', '--type', 'container', name)))[0];

t('~> restarting kuber-api loses no container: created, running and exited are listed and inspected', async () => {
  const created = ok(await d('create', '--name', 'rs-created', '--label', 'rs=1', 'busybox', 'echo', 'hi'));
  const running = ok(await d('run', '-d', '--name', 'rs-running', '--label', 'rs=1', 'busybox', 'sleep', '300'));
  const exited = ok(await d('run', '-d', '--name', 'rs-exited', '--label', 'rs=1', 'busybox', 'sh', '-c', 'exit 4'));
  ok(await d('wait', exited));
  const before = ok(await d('ps', '-a', '--filter', 'label=rs=1', '--format', '{{.ID}} {{.Names}} {{.State}}'));
  await env().api.restart();
  const after = ok(await d('ps', '-a', '--filter', 'label=rs=1', '--format', '{{.ID}} {{.Names}} {{.State}}'));
  assert.is(after, before);
  assert.equal(
    after
      .split('\n')
      .map((l) => l.split(' ')[2])
      .sort(),
    ['created', 'exited', 'running'],
  );
  assert.is((await inspect('rs-created')).Id, created);
  const r = await inspect('rs-running');
  assert.equal([r.Id, r.State.Status], [running, 'running']);
  const e = await inspect('rs-exited');
  assert.equal([e.Id, e.State.Status, e.State.ExitCode], [exited, 'exited', 4]);
  // The model still works after the restart: start the created one, stop the running one.
  ok(await d('start', 'rs-created'));
  assert.is(ok(await d('wait', 'rs-created')), '0');
  ok(await d('stop', '-t', '1', 'rs-running'));
  assert.is((await inspect('rs-running')).State.ExitCode, 137);
  ok(await d('rm', '-f', created, running, exited));
});

t('~> an image pull failure fails start with Kubernetes reason; the container stays Created', async () => {
  await sim().setFaults({ failImagePull: ['registry.invalid/nope*'] });
  try {
    const id = ok(await d('create', '--name', 'pullfail', 'registry.invalid/nope:1'));
    const r = await d('start', 'pullfail');
    assert.is.not(r.code, 0);
    assert.match(r.stderr, /ErrImagePull|ImagePullBackOff/);
    const j = await inspect(id);
    assert.is(j.State.Status, 'created');
    assert.match(j.State.Error, /ErrImagePull|ImagePullBackOff/);
    assert.is(ok(await d('ps', '-a', '--filter', `id=${id}`, '--format', '{{.Status}}')), 'Created');
    ok(await d('rm', id));
  } finally {
    await sim().clearFaults();
  }
});

t(
  "~> a pod that stays ContainerCreating: start fails after --start-timeout-ms naming the kubelet's Warning event",
  async () => {
    const short = await startKuber({ kubeconfig: sim().kubeconfigPath, args: ['--start-timeout-ms', '3000'] });
    await sim().setFaults({ failSandboxes: 1000 });
    try {
      const ds = (...args: string[]) => docker(short.dockerHost, args, { timeoutMs: 60_000 });
      const id = ok(await ds('create', '--name', 'nosandbox', 'busybox', 'true'));
      const r = await ds('start', 'nosandbox');
      assert.is.not(r.code, 0);
      assert.match(
        r.stderr,
        /did not start within 3000 ms \(FailedCreatePodSandBox: Failed to create pod sandbox: injected fault/,
      );
      const j = JSON.parse(ok(await ds('inspect', '--type', 'container', id)))[0];
      assert.is(j.State.Status, 'created');
      assert.match(j.State.Error, /FailedCreatePodSandBox/);
      ok(await ds('rm', id));
    } finally {
      await sim().clearFaults();
      await short.stop();
    }
  },
);

t('~> a runtime start failure (no such executable) fails start with exit code 127 in the CLI', async () => {
  const r = await d('run', '-d', '--name', 'noexec', 'busybox', 'definitely-not-a-command');
  assert.is(r.code, 127, r.stderr);
  assert.match(r.stderr, /not found/);
  const j = await inspect('noexec');
  assert.is(j.State.Status, 'created');
  assert.is(j.State.ExitCode, 127);
  ok(await d('rm', 'noexec'));
});

t('~> a healthcheck becomes State.Health: healthy, then unhealthy, shown by ps and in events', async () => {
  const since = Math.floor(Date.now() / 1000);
  // Healthy until the container makes itself sick after 4 s.
  ok(
    await d(
      'run',
      '-d',
      '--name',
      'health',
      '--health-cmd',
      'test ! -e /tmp/sick',
      '--health-interval',
      '1s',
      '--health-retries',
      '1',
      'busybox',
      'sh',
      '-c',
      'sleep 4; touch /tmp/sick; sleep 300',
    ),
  );
  const h = await until(
    async () => {
      const j = await inspect('health');
      return j.State.Health?.Status === 'healthy' ? j.State.Health : undefined;
    },
    30_000,
    'healthy',
  );
  assert.is(h.FailingStreak, 0);
  assert.match(ok(await d('ps', '--filter', 'name=health', '--format', '{{.Status}}')), /\(healthy\)$/);
  assert.equal(ok(await d('ps', '--filter', 'health=healthy', '--format', '{{.Names}}')), 'health');
  const u = await until(
    async () => {
      const j = await inspect('health');
      return j.State.Health?.Status === 'unhealthy' ? j.State.Health : undefined;
    },
    30_000,
    'unhealthy',
  );
  assert.is(u.FailingStreak, 1);
  const ev = ok(
    await d(
      'events',
      '--since',
      String(since),
      '--until',
      String(Math.floor(Date.now() / 1000) + 1),
      '--filter',
      'container=health',
      '--filter',
      'event=health_status',
      '--format',
      '{{.Action}}',
    ),
  );
  assert.equal(ev.split('\n'), ['health_status: healthy', 'health_status: unhealthy']);
  ok(await d('rm', '-f', 'health'));
});

t('~> Kubernetes side: /info names the simulated cluster; the record owns the pod; rm deletes both', async () => {
  const info = JSON.parse(ok(await d('info', '--format', '{{json .}}')));
  assert.is(info.Driver, 'kubernetes');
  assert.ok(
    info.DriverStatus.some((kv: string[]) => kv[0] === 'Simulated' && kv[1] === 'true'),
    JSON.stringify(info.DriverStatus),
  );
  assert.ok(info.DriverStatus.some((kv: string[]) => kv[0] === 'Namespace' && kv[1] === 'default'));
  const id = ok(await d('run', '-d', '--name', 'owned', 'busybox', 'sleep', '300'));
  const pods = await kubectl(
    '1.33',
    ['get', 'pods', '-l', `kuber-api.io/instance=${env().api.instanceId}`, '-o', 'json'],
    {
      kubeconfig: sim().kubeconfigPath,
    },
  );
  const pod = JSON.parse(pods.stdout).items.find((p: any) => p.metadata.annotations['kuber-api.io/id'] === id);
  assert.ok(pod, pods.stderr);
  assert.is(pod.metadata.ownerReferences[0].kind, 'ConfigMap');
  assert.is(pod.metadata.labels['kuber-api.io/container'], id.slice(0, 12));
  const cm = await kubectl('1.33', ['get', 'configmap', pod.metadata.ownerReferences[0].name, '-o', 'json'], {
    kubeconfig: sim().kubeconfigPath,
  });
  const rec = JSON.parse(cm.stdout);
  assert.is(rec.metadata.uid, pod.metadata.ownerReferences[0].uid);
  assert.is(rec.metadata.annotations['kuber-api.io/name'], 'owned');
  ok(await d('rm', '-f', id));
  // The record is gone, and the pod with it.
  await until(
    async () => {
      const r = await kubectl(
        '1.33',
        ['get', 'pods', '-l', `kuber-api.io/container=${id.slice(0, 12)}`, '-o', 'name'],
        { kubeconfig: sim().kubeconfigPath },
      );
      return r.stdout.trim() === '' ? true : undefined;
    },
    20_000,
    'pod deletion',
  );
});

test.run();
