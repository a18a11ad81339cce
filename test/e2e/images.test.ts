/**
 * Registry-backed images through real clients (the docker CLI, dockerode, testcontainers) against
 * kuber-api on kube-sim and the registry test double (test/helpers/registry.ts), which serves both
 * as a registry of its own (`127.0.0.1:<port>/...`) and as kuber-api's Docker Hub mirror
 * (`--registry-mirror`), so that `docker pull busybox` reads busybox's manifest list from it.
 * Covers: pull progress and errors as dockerd words them (404 manifest unknown, pull access
 * denied), images/inspect/tag/rmi (409 while a container uses it, -f)/prune, the image's
 * Cmd/Env/WorkingDir applied to a container at create (and run by the Pod), image events, and
 * the images kept in Kubernetes (ConfigMaps) across a kuber-api restart.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import Docker from 'dockerode';
import { spawnSim, kubectl, type SpawnedSim } from '../helpers/sim.js';
import { startKuber, type Kuber } from '../helpers/kuber.js';
import { docker, dockerAvailable } from '../helpers/docker-cli.js';
import { startRegistry, type TestRegistry, type PushedImage } from '../helpers/registry.js';
import { hostPlatform } from '../../src/engine/images/registry/registry.js';

let sim: SpawnedSim;
let kuber: Kuber;
let reg: TestRegistry;
let busybox: PushedImage;
let app: PushedImage;
let dockerode: Docker;
const available = dockerAvailable();
if (!available) console.log('SKIP images e2e tests: no `docker` on PATH');
const t = available ? test : test.skip;
const arch = `linux/${hostPlatform().architecture}`;
const PATH = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

test.before(async () => {
  if (!available) return;
  [sim, reg] = await Promise.all([spawnSim(), startRegistry()]);
  busybox = reg.push('library/busybox', 'latest', {
    config: { Env: [PATH], Cmd: ['sh'] },
    platforms: ['linux/amd64', 'linux/arm64/v8'],
    layers: 2,
  });
  // kube-sim runs any image whose last path component is "busybox" on its busybox root filesystem.
  app = reg.push('tests/busybox', 'app', {
    config: {
      Env: [PATH, 'GREETING=hello'],
      Cmd: ['sh', '-c', 'echo "$GREETING from $(pwd)"; [ -z "$STAY" ] || { echo ready; exec sleep 300; }'],
      WorkingDir: '/tmp',
      ExposedPorts: { '8080/tcp': {} },
      Labels: { 'org.example.app': 'yes' },
    },
  });
  reg.push('private/busybox', '1');
  reg.protect('private/busybox', { username: 'u', password: 'p' });
  kuber = await startKuber({ kubeconfig: sim.kubeconfigPath, args: ['--registry-mirror', reg.url] });
  dockerode = new Docker({ socketPath: kuber.socketPath });
});
test.after(async () => {
  await kuber?.stop();
  await Promise.all([sim?.stop(), reg?.close()]);
});

const d = (...args: string[]) => docker(kuber.dockerHost, args, { timeoutMs: 60_000 });
const ok = async (p: Promise<{ code: number; stdout: string; stderr: string }>) => {
  const r = await p;
  assert.is(r.code, 0, r.stderr);
  return r.stdout.trim();
};
const nowSecs = () => (Date.now() / 1000).toFixed(3);
const APP = () => `${reg.host}/tests/busybox:app`;

t('~> docker pull: progress as dockerd prints it, the config digest as ID, "up to date" the second time', async () => {
  const out = await ok(d('pull', 'busybox'));
  const lines = out.split('\n');
  assert.equal(lines.slice(0, 2), ['Using default tag: latest', 'latest: Pulling from library/busybox']);
  assert.equal(lines.slice(-3), [
    `Digest: ${busybox.digest}`,
    'Status: Downloaded newer image for busybox:latest',
    'docker.io/library/busybox:latest',
  ]);
  // One line per layer of the platform's manifest (the kubelet downloads them, kuber-api does not).
  assert.is(lines.filter((l) => l.includes('Not downloaded')).length, 2);
  const again = await ok(d('pull', 'busybox:latest'));
  assert.match(again, 'Status: Image is up to date for busybox:latest');
  const ii = JSON.parse(await ok(d('image', 'inspect', 'busybox')))[0];
  assert.is(ii.Id, busybox.platforms[arch]!.config);
  assert.equal(ii.RepoTags, ['busybox:latest']);
  assert.equal(ii.RepoDigests, [`busybox@${busybox.digest}`]);
  assert.equal(ii.Config.Cmd, ['sh']);
  assert.is(ii.Architecture, hostPlatform().architecture);
  // The mirror served it (manifest list, then the platform manifest, then the config blob).
  assert.ok(reg.requests.some((r) => r.path === `/v2/library/busybox/manifests/${busybox.platforms[arch]!.manifest}`));
});

t('~> docker pull errors as dockerd: manifest unknown, pull access denied (404), bad reference', async () => {
  const nope = await d('pull', 'busybox:nope');
  assert.is(nope.code, 1);
  assert.match(
    nope.stderr,
    'Error response from daemon: manifest for busybox:nope not found: manifest unknown: manifest unknown',
  );
  const denied = await d('pull', `${reg.host}/private/busybox:1`);
  assert.is(denied.code, 1);
  assert.match(
    denied.stderr,
    `Error response from daemon: pull access denied for ${reg.host}/private/busybox, repository does not exist or may require 'docker login'`,
  );
  const status = async (ref: string) => {
    try {
      await dockerode.pull(ref);
      return { code: 200, message: '' };
    } catch (e) {
      // docker-modem: "(HTTP code 404) unexpected - <the daemon's message> "
      return {
        code: (e as { statusCode: number }).statusCode,
        message: (e as Error).message.replace(/^\(HTTP code \d+\) [a-z ]+ - /, '').trim(),
      };
    }
  };
  assert.equal(await status(`${reg.host}/private/busybox:1`), {
    code: 404,
    message: `pull access denied for ${reg.host}/private/busybox, repository does not exist or may require 'docker login': denied: requested access to the resource is denied`,
  });
  assert.equal((await status(`${reg.host}/no/such:1`)).code, 404);
  assert.is((await status('Bad:Ref')).code, 400);
});

t(
  '~> dockerode pull + followProgress; a container made from a registry image runs its Cmd with its Env and WorkingDir',
  async () => {
    const stream = await dockerode.pull(APP());
    const progress = await new Promise<Array<{ status?: string; id?: string }>>((resolve, reject) =>
      dockerode.modem.followProgress(stream, (err: Error | null, out: Array<{ status?: string }>) =>
        err ? reject(err) : resolve(out),
      ),
    );
    assert.equal(progress[0], { status: 'Pulling from tests/busybox', id: 'app' });
    assert.equal(progress.at(-1), { status: `Status: Downloaded newer image for ${APP()}` });
    const id = await ok(d('create', '--name', 'from-app', APP()));
    const ci = JSON.parse(await ok(d('inspect', id)))[0];
    assert.equal(ci.Config.Cmd, (app.platforms[arch]!.configJson.config as { Cmd: string[] }).Cmd);
    assert.equal(ci.Config.Env, [PATH, 'GREETING=hello']);
    assert.is(ci.Config.WorkingDir, '/tmp');
    assert.equal(ci.Config.Labels, { 'org.example.app': 'yes' });
    assert.is(ci.Image, app.platforms[arch]!.config);
    const run = await d('run', '--rm', '-e', 'GREETING=hi', APP());
    assert.is(run.code, 0, run.stderr);
    assert.is(run.stdout, 'hi from /tmp\n');
    // By image ID too (the Pod pulls the digest-pinned reference: the kubelet cannot pull an ID).
    const byId = await d('run', '--rm', app.platforms[arch]!.config.slice(7, 19));
    assert.is(byId.stdout, 'hello from /tmp\n', byId.stderr);
    // The image's EXPOSE is the container's: `-P` publishes it.
    const web = await ok(d('run', '-d', '-P', '--entrypoint', 'httpd', APP(), '-f', '-p', '8080'));
    assert.match(await ok(d('port', web)), /^8080\/tcp -> 127\.0\.0\.1:\d+/);
    await ok(d('rm', '-f', web));
    // The container pins the image: a plain rmi is a conflict, as with dockerd.
    const rmi = await d('rmi', APP());
    assert.is(rmi.code, 1);
    assert.match(
      rmi.stderr,
      `Error response from daemon: conflict: unable to remove repository reference "${APP()}" (must force) - container ${id.slice(0, 12)} is using its referenced image ${app.platforms[arch]!.config.slice(7, 19)}`,
    );
    const ps = await ok(d('ps', '-a', '--filter', `ancestor=${APP()}`, '--format', '{{.Names}}'));
    assert.is(ps, 'from-app');
    await ok(d('rm', id));
  },
);

t('~> docker images, tag, rmi (untag, -f), image prune; image events pull/tag/untag/delete', async () => {
  const since = nowSecs();
  await ok(d('pull', APP()));
  await ok(d('tag', 'busybox', 'mine/bb:1'));
  await ok(d('tag', APP(), 'mine/app'));
  const list = await ok(d('images', '--format', '{{.Repository}}:{{.Tag}} {{.ID}}'));
  const rows = list.split('\n').sort();
  const short = (s: string) => s.slice(7, 19);
  assert.ok(rows.includes(`busybox:latest ${short(busybox.platforms[arch]!.config)}`), list);
  assert.ok(rows.includes(`mine/bb:1 ${short(busybox.platforms[arch]!.config)}`), list);
  assert.ok(rows.includes(`mine/app:latest ${short(app.platforms[arch]!.config)}`), list);
  assert.is(
    (await ok(d('images', '--filter', 'reference=mine/*', '--format', '{{.Repository}}:{{.Tag}}')))
      .split('\n')
      .sort()
      .join(','),
    'mine/app:latest,mine/bb:1',
  );
  assert.is(await ok(d('rmi', 'mine/bb:1')), 'Untagged: mine/bb:1');
  // A stopped container uses the app image: rmi -f untags and deletes it anyway (only running ones block).
  const c = await ok(d('create', APP()));
  const forced = (await ok(d('rmi', '-f', APP(), 'mine/app'))).split('\n');
  assert.ok(forced.includes(`Untagged: ${APP()}`), forced.join('\n'));
  assert.ok(forced.includes('Untagged: mine/app:latest'), forced.join('\n'));
  assert.ok(forced.includes(`Deleted: ${app.platforms[arch]!.config}`), forced.join('\n'));
  await ok(d('rm', c));
  // prune -a removes every unused image.
  const pruned = await ok(d('image', 'prune', '-a', '-f'));
  // The CLI prints prune records in lower case (docker/cli image prune).
  assert.match(pruned, `deleted: ${busybox.platforms[arch]!.config}`);
  assert.match(pruned, 'untagged: busybox:latest');
  assert.is(await ok(d('images', '-q')), '');
  const until = (Date.now() / 1000 + 0.5).toFixed(3);
  const ev = (
    await ok(
      d(
        'events',
        '--since',
        since,
        '--until',
        until,
        '--filter',
        'type=image',
        '--format',
        '{{.Action}} {{.Actor.Attributes.name}}',
      ),
    )
  ).split('\n');
  assert.ok(ev.includes(`pull ${APP()}`), ev.join('\n'));
  assert.ok(ev.includes('tag mine/bb:1'), ev.join('\n'));
  assert.ok(ev.includes('tag mine/app:latest'), ev.join('\n'));
  assert.ok(ev.includes(`untag ${app.platforms[arch]!.config}`), ev.join('\n'));
  assert.ok(ev.includes(`delete ${app.platforms[arch]!.config}`), ev.join('\n'));
  assert.ok(ev.includes(`delete ${busybox.platforms[arch]!.config}`), ev.join('\n'));
});

t('~> images live in Kubernetes (one ConfigMap each) and survive a kuber-api restart', async () => {
  await ok(d('pull', APP()));
  const cms = await kubectl(
    '1.33',
    ['get', 'configmaps', '-l', `kuber-api.io/instance=${kuber.instanceId},kuber-api.io/kind=image`, '-o', 'json'],
    { kubeconfig: sim.kubeconfigPath },
  );
  const items = JSON.parse(cms.stdout).items as Array<{ metadata: { annotations: Record<string, string> } }>;
  assert.equal(
    items.map((i) => i.metadata.annotations['kuber-api.io/image-id']),
    [app.platforms[arch]!.config],
  );
  await kuber.restart();
  assert.is(JSON.parse(await ok(d('image', 'inspect', APP())))[0].Id, app.platforms[arch]!.config);
});

t(
  '~> docker login is checked by the registry (401 as dockerd); its credentials pull a private image and reach the kubelet as imagePullSecrets',
  async () => {
    const bad = await d('login', '-u', 'u', '-p', 'wrong', reg.host);
    assert.is(bad.code, 1);
    assert.match(
      bad.stderr,
      `Error response from daemon: Get "https://${reg.host}/v2/": unauthorized: incorrect username or password`,
    );
    assert.match(await ok(d('login', '-u', 'u', '-p', 'p', reg.host)), 'Login Succeeded');
    const priv = `${reg.host}/private/busybox:1`;
    assert.match(await ok(d('pull', priv)), `Status: Downloaded newer image for ${priv}`);
    const id = await ok(d('run', '-d', priv, 'sleep', '30'));
    const pods = JSON.parse(
      (
        await kubectl('1.33', ['get', 'pods', '-l', `kuber-api.io/instance=${kuber.instanceId}`, '-o', 'json'], {
          kubeconfig: sim.kubeconfigPath,
        })
      ).stdout,
    ).items as Array<{
      metadata: { annotations: Record<string, string> };
      spec: { imagePullSecrets?: Array<{ name: string }> };
    }>;
    const pod = pods.find((p) => p.metadata.annotations['kuber-api.io/id'] === id)!;
    assert.ok(pod, 'the container has a Pod');
    const secretName = pod.spec.imagePullSecrets?.[0]?.name ?? '';
    assert.match(secretName, /^kapi-regcred-/);
    const secret = JSON.parse(
      (await kubectl('1.33', ['get', 'secret', secretName, '-o', 'json'], { kubeconfig: sim.kubeconfigPath })).stdout,
    ) as { type: string; data: Record<string, string> };
    assert.is(secret.type, 'kubernetes.io/dockerconfigjson');
    const auths = JSON.parse(Buffer.from(secret.data['.dockerconfigjson']!, 'base64').toString('utf8')).auths;
    assert.equal(auths[reg.host], { username: 'u', password: 'p', auth: Buffer.from('u:p').toString('base64') });
    await ok(d('rm', '-f', id));
  },
);

t(
  '~> a Ryuk image under a mirror prefix is played by kuber-api (engine/ryuk): created and started without a Pod, with the image label',
  async () => {
    const id = (await ok(d('create', '-p', '127.0.0.1::8080', '127.0.0.1:1/hub/testcontainers/ryuk:0.11.0'))).trim();
    await ok(d('start', id));
    const c = JSON.parse(await ok(d('inspect', id)))[0];
    assert.is(c.State.Status, 'running');
    assert.is(c.Config.Labels['org.testcontainers.ryuk'], 'true');
    const pods = JSON.parse(
      (
        await kubectl('1.33', ['get', 'pods', '-l', `kuber-api.io/container=${id.slice(0, 12)}`, '-o', 'json'], {
          kubeconfig: sim.kubeconfigPath,
        })
      ).stdout,
    ).items as unknown[];
    assert.is(pods.length, 0);
    await ok(d('rm', '-f', id));
  },
);

t(
  '~> testcontainers GenericContainer from the test registry: pulled, started with the image Cmd/Env/WorkingDir, exec, stopped',
  async () => {
    process.env.DOCKER_HOST = kuber.dockerHost;
    process.env.TESTCONTAINERS_RYUK_DISABLED = 'true';
    const { GenericContainer, Wait } = await import('testcontainers');
    await ok(d('rmi', APP()));
    const c = await new GenericContainer(APP())
      .withEnvironment({ STAY: '1' })
      .withWaitStrategy(Wait.forLogMessage('ready'))
      .withStartupTimeout(60_000)
      .start();
    try {
      const r = await c.exec(['sh', '-c', 'echo "$GREETING in $(pwd)"']);
      assert.is(r.exitCode, 0);
      assert.is(r.output, 'hello in /tmp\n');
      const ii = JSON.parse(await ok(d('image', 'inspect', APP())))[0];
      assert.is(ii.Id, app.platforms[arch]!.config);
    } finally {
      await c.stop({ timeout: 1 });
    }
  },
);

test.run();
