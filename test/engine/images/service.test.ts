/**
 * The image family in-process against kube-sim and the registry test double (as a Docker Hub
 * mirror and as a registry of its own): pulls with progress and events, inspect/list shapes,
 * tag and rmi semantics, state in ConfigMaps surviving a new engine, the create-time merge and
 * the Pod it gives, and the offline policies.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { pino } from 'pino';
import { createServer } from 'node:net';
import { startSim, type SimHandle } from '../../helpers/sim.js';
import { startRegistry, type TestRegistry, type PushedImage } from '../../helpers/registry.js';
import { Kube } from '../../../src/kube/index.js';
import { KubeEngine } from '../../../src/engine/kube-engine.js';
import { hostPlatform } from '../../../src/engine/images/registry/registry.js';
import { statusFromError } from '../../../src/errors.js';
import type { DockerEvent } from '../../../src/engine/events/events.js';
import type { ProgressMessage } from '../../../src/engine/backend/images.js';

let sim: SimHandle;
let kube: Kube;
let reg: TestRegistry;
let engine: KubeEngine;
let busybox: PushedImage;
let web: PushedImage;
const log = pino({ level: process.env.TEST_LOG ?? 'silent' });
const arch = `linux/${hostPlatform().architecture}`;
const events: DockerEvent[] = [];

function newEngine(instance: string, images: Record<string, unknown>): KubeEngine {
  return new KubeEngine(kube, { instance, images }, log);
}

async function pull(e: KubeEngine, ref: string, opts = {}): Promise<ProgressMessage[]> {
  const out: ProgressMessage[] = [];
  await e.pullImage(ref, opts, (m) => out.push(m));
  return out;
}

async function status(p: Promise<unknown>): Promise<{ code: number; message: string }> {
  try {
    await p;
  } catch (e) {
    return { code: statusFromError(e), message: (e as Error).message };
  }
  throw new Error('expected a failure');
}

test.before(async () => {
  [sim, reg] = await Promise.all([startSim(), startRegistry()]);
  kube = Kube.load({ kubeconfig: sim.kubeconfigPath });
  busybox = reg.push('library/busybox', 'latest', {
    config: { Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'], Cmd: ['sh'] },
    platforms: ['linux/amd64', 'linux/arm64'],
    layers: 1,
  });
  web = reg.push('app/web', '2', {
    config: {
      User: 'web',
      Env: ['PATH=/usr/bin:/bin', 'WEB_VERSION=2'],
      Cmd: ['web-server'],
      WorkingDir: '/srv',
      ExposedPorts: { '80/tcp': {}, '443/tcp': {} },
      Labels: { 'org.example.image': 'web' },
      Healthcheck: { Test: ['CMD-SHELL', 'true'], Interval: 1e9, Retries: 1 },
      StopSignal: 'SIGQUIT',
      // An anonymous volume at start (engine/volumes): under the private /tmp, because kube-sim runs this
      // image on the read-only host root, where bwrap cannot make a mount point that the host lacks.
      Volumes: { '/tmp/web-data': {} },
    },
    extra: {
      container_config: { Cmd: ['/bin/sh', '-c', '#(nop) CMD ["web-server"]'] },
      docker_version: '24.0.7',
      author: 'tester',
    },
    format: 'docker',
    layers: 3,
  });
  engine = newEngine('img-test', { mode: 'registry', mirrors: [reg.url] });
  engine.events.subscribe({ filters: { type: ['image'] } }, (e) => events.push(e));
  await engine.start();
});

test.after(async () => {
  engine.close();
  kube.close();
  await Promise.all([sim.stop(), reg.close()]);
});

test('~> pull: inspect-then-pull, honest progress, the config digest as ID, "up to date" the second time, a pull event', async () => {
  assert.equal(await status(engine.inspectImage('busybox', '1.51')), { code: 404, message: 'No such image: busybox' });
  const p = await pull(engine, 'busybox');
  const pushed = busybox.platforms[arch]!;
  assert.equal(p[0], { status: 'Pulling from library/busybox', id: 'latest' });
  assert.equal(p[1], {
    status: 'Not downloaded: the kubelet pulls layers',
    progressDetail: {},
    id: pushed.manifest === '' ? '' : p[1]!.id,
  });
  assert.equal(p.slice(-2), [
    { status: `Digest: ${busybox.digest}` },
    { status: 'Status: Downloaded newer image for busybox:latest' },
  ]);
  const ii = (await engine.inspectImage('busybox', '1.51')) as Record<string, any>;
  assert.is(ii.Id, pushed.config);
  assert.equal(ii.RepoTags, ['busybox:latest']);
  assert.equal(ii.RepoDigests, [`busybox@${busybox.digest}`]);
  assert.equal(ii.Config.Cmd, ['sh']);
  assert.equal([ii.Config.Hostname, ii.Config.Image, ii.Config.Entrypoint], ['', '', null]);
  assert.is(ii.Created, '2024-05-01T12:00:00.123456789Z');
  assert.is(ii.Size, pushed.layerSizes[0]);
  assert.equal(ii.RootFS.Layers.length, 1);
  assert.is(ii.Architecture, hostPlatform().architecture);
  assert.not.ok('ContainerConfig' in ii);
  // The same image by ID, by ID prefix, by digest reference.
  for (const name of [pushed.config, pushed.config.slice(7, 19), `busybox@${busybox.digest}`])
    assert.is(((await engine.inspectImage(name, '1.51')) as { Id: string }).Id, pushed.config, name);
  const again = await pull(engine, 'busybox:latest');
  assert.equal(again.at(-1), { status: 'Status: Image is up to date for busybox:latest' });
  const pulls = events.filter((e) => e.Action === 'pull');
  assert.equal(pulls[0]?.Actor, { ID: 'busybox:latest', Attributes: { name: 'busybox:latest' } });
  // The state is a ConfigMap of this instance.
  const cms = await kube.client.get<{
    items: Array<{
      metadata: { labels: Record<string, string>; annotations: Record<string, string> };
      data: Record<string, string>;
    }>;
  }>(kube.path('configmaps'), { labelSelector: 'kuber-api.io/instance=img-test,kuber-api.io/kind=image' });
  assert.is(cms.items.length, 1);
  assert.is(cms.items[0]!.metadata.annotations['kuber-api.io/image-id'], pushed.config);
  assert.equal(JSON.parse(cms.items[0]!.data['config.json']!).config.Cmd, ['sh']);
});

test('~> API versions: ContainerConfig/Container below 1.45, VirtualSize below 1.44, the empty container fields gone from 1.52', async () => {
  await pull(engine, `${reg.host}/app/web:2`);
  const old = (await engine.inspectImage(`${reg.host}/app/web:2`, '1.38')) as Record<string, any>;
  assert.equal(old.ContainerConfig.Cmd, ['/bin/sh', '-c', '#(nop) CMD ["web-server"]']);
  assert.is(old.ContainerConfig.Hostname, '');
  assert.is(old.VirtualSize, old.Size);
  assert.equal([old.DockerVersion, old.Author], ['24.0.7', 'tester']);
  assert.is(
    old.Size,
    web.platforms[arch]!.layerSizes.reduce((a, b) => a + b, 0),
  );
  const v52 = (await engine.inspectImage(`${reg.host}/app/web:2`, '1.52')) as Record<string, any>;
  assert.equal(Object.keys(v52.Config).sort(), [
    'Cmd',
    'Env',
    'ExposedPorts',
    'Healthcheck',
    'Labels',
    'StopSignal',
    'User',
    'Volumes',
    'WorkingDir',
  ]);
  assert.not.ok('ContainerConfig' in v52);
});

test('~> pull failures: 404 with moby wording before any output; an unreachable registry fails in registry mode with a hint', async () => {
  const out: ProgressMessage[] = [];
  const r = await status(engine.pullImage('busybox:nope', {}, (m) => out.push(m)));
  assert.equal(r, { code: 404, message: 'manifest for busybox:nope not found: manifest unknown: manifest unknown' });
  assert.is(out.length, 0);
  assert.equal(await status(pull(engine, `${reg.host}/no/such`)), {
    code: 404,
    message: `repository ${reg.host}/no/such not found: name unknown: repository name not known to registry`,
  });
  assert.equal((await status(pull(engine, 'Bad:Ref'))).code, 400);
  const srv = createServer();
  await new Promise<void>((res) => srv.listen(0, '127.0.0.1', res));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((res) => srv.close(() => res()));
  const u = await status(pull(engine, `127.0.0.1:${port}/gone:1`));
  assert.is(u.code, 500);
  assert.match(u.message, `Get "http://127.0.0.1:${port}/v2/gone/manifests/1": ECONNREFUSED`);
  assert.match(u.message, '--image-metadata best-effort');
});

test('~> create merges the image config as dockerd; the Pod carries it (but the image USER) with ports, probe, stop signal', async () => {
  const ref = `${reg.host}/app/web:2`;
  const { Id, Warnings } = await engine.createContainer('webc', {
    Image: ref,
    Cmd: ['sleep', '30'],
    Env: ['EXTRA=1'],
    Labels: { mine: 'yes' },
  });
  assert.equal(Warnings, []);
  const ci = (await engine.inspectContainer(Id, { size: false }, '1.51')) as Record<string, any>;
  const id = web.platforms[arch]!.config;
  assert.is(ci.Image, id);
  assert.is(ci.Config.Image, ref);
  assert.equal(ci.Config.Env, ['EXTRA=1', 'PATH=/usr/bin:/bin', 'WEB_VERSION=2']);
  assert.equal(ci.Config.Cmd, ['sleep', '30']);
  assert.equal([ci.Config.User, ci.Config.WorkingDir, ci.Config.StopSignal], ['web', '/srv', 'SIGQUIT']);
  assert.equal(Object.keys(ci.Config.ExposedPorts).sort(), ['443/tcp', '80/tcp']);
  assert.equal(ci.Config.Labels, { 'org.example.image': 'web', mine: 'yes' });
  assert.equal(ci.Config.Healthcheck.Test, ['CMD-SHELL', 'true']);
  assert.equal(ci.Config.Volumes, { '/tmp/web-data': {} });
  assert.equal([ci.Path, ci.Args], ['sleep', ['30']]);
  const listed = (
    (await engine.listContainers(
      { all: true, size: false, filters: { ancestor: [id.slice(7, 19)] } },
      '1.51',
    )) as Array<Record<string, any>>
  ).map((c) => c.Id);
  assert.equal(listed, [Id]);
  await engine.startContainer(Id);
  const podName = engine.target(Id).podName!;
  const pod = await kube.client.get<{ spec: { containers: Array<Record<string, any>> } }>(kube.path('pods', podName));
  const c = pod.spec.containers[0]!;
  assert.is(
    c.image,
    `${reg.host}/app/web:2@${web.digest}`,
    'the Pod pulls the image the container was created from, pinned to its digest',
  );
  assert.equal([c.command, c.args], [undefined, ['sleep', '30']]);
  assert.equal(c.env, [
    { name: 'EXTRA', value: '1' },
    { name: 'PATH', value: '/usr/bin:/bin' },
    { name: 'WEB_VERSION', value: '2' },
  ]);
  assert.equal(
    [c.securityContext?.runAsUser, c.securityContext?.runAsGroup],
    [undefined, undefined],
    'USER web (a name) is left to the runtime',
  );
  assert.is(c.workingDir, '/srv');
  assert.equal(c.ports.map((p: { containerPort: number }) => p.containerPort).sort(), [443, 80]);
  assert.equal(c.readinessProbe.exec.command, ['/bin/sh', '-c', 'true']);
  assert.equal(c.lifecycle.preStop.exec.command, ['/bin/sh', '-c', 'kill -3 1']);
  const health = await engine.index.when(
    () => {
      const r = engine.index.get(Id)!;
      return engine.stateOf(r).Health?.Status === 'healthy' ? true : undefined;
    },
    { timeoutMs: 20_000 },
  );
  assert.ok(health, 'the image HEALTHCHECK runs as the readiness probe');
  await engine.removeContainer(Id, { force: true, volumes: false, link: false });
});

test('~> tag and rmi follow moby image_delete.go (untag first, conflicts, multiple repositories, force)', async () => {
  const id = busybox.platforms[arch]!.config;
  const seen = events.length;
  await engine.tagImage('busybox', 'mine/bb', '1');
  await engine.tagImage(id.slice(7, 19), 'mine/bb:2');
  assert.equal(((await engine.inspectImage('mine/bb:1', '1.51')) as { RepoTags: string[] }).RepoTags, [
    'busybox:latest',
    'mine/bb:1',
    'mine/bb:2',
  ]);
  assert.equal(await status(engine.tagImage('nosuch', 'x')), { code: 404, message: 'No such image: nosuch' });
  assert.equal(await engine.removeImage('mine/bb:1', { force: false, noprune: false }), [{ Untagged: 'mine/bb:1' }]);
  const r = await status(engine.removeImage(id, { force: false, noprune: false }));
  assert.equal(r, {
    code: 409,
    message: `conflict: unable to delete ${id.slice(7, 19)} (must be forced) - image is referenced in multiple repositories`,
  });
  const { Id } = await engine.createContainer(undefined, { Image: 'busybox', Cmd: ['sleep', '30'] });
  assert.equal(await engine.removeImage('mine/bb:2', { force: false, noprune: false }), [{ Untagged: 'mine/bb:2' }]);
  const c = await status(engine.removeImage('busybox', { force: false, noprune: false }));
  assert.equal(c, {
    code: 409,
    message: `conflict: unable to remove repository reference "busybox" (must force) - container ${Id.slice(0, 12)} is using its referenced image ${id.slice(7, 19)}`,
  });
  await engine.startContainer(Id);
  // Forced while a container runs it: the references go, the image stays (dangling) for that container.
  assert.equal(await engine.removeImage('busybox', { force: true, noprune: false }), [
    { Untagged: 'busybox:latest' },
    { Untagged: `busybox@${busybox.digest}` },
  ]);
  const dangling = (await engine.listImages({ all: false, filters: { dangling: ['true'] } }, '1.51')) as Array<{
    Id: string;
    RepoTags: string[];
    Containers: number;
  }>;
  assert.equal(
    dangling.map((d) => [d.Id, d.RepoTags, d.Containers]),
    [[id, [], 1]],
  );
  const hard = await status(engine.removeImage(id, { force: true, noprune: false }));
  assert.equal(hard, {
    code: 409,
    message: `conflict: unable to delete ${id.slice(7, 19)} (cannot be forced) - image is being used by running container ${Id.slice(0, 12)}`,
  });
  await engine.removeContainer(Id, { force: true, volumes: false, link: false });
  assert.equal(await engine.removeImage(id.slice(7, 19), { force: false, noprune: false }), [{ Deleted: id }]);
  assert.equal(await status(engine.inspectImage(id, '1.51')), { code: 404, message: `No such image: ${id}` });
  const actions = events.slice(seen).map((e) => e.Action);
  assert.equal(actions, ['tag', 'tag', 'untag', 'untag', 'untag', 'untag', 'delete']);
  // A stopped container does not stop a forced removal (moby: only running containers are hard conflicts).
  await pull(engine, 'busybox');
  const stopped = await engine.createContainer(undefined, { Image: 'busybox', Cmd: ['true'] });
  assert.equal(
    (await status(engine.removeImage(id, { force: false, noprune: false }))).message,
    `conflict: unable to delete ${id.slice(7, 19)} (must be forced) - image is being used by stopped container ${stopped.Id.slice(0, 12)}`,
  );
  assert.equal(await engine.removeImage(id, { force: true, noprune: false }), [
    { Untagged: 'busybox:latest' },
    { Untagged: `busybox@${busybox.digest}` },
    { Deleted: id },
  ]);
  await engine.removeContainer(stopped.Id, { force: true, volumes: false, link: false });
});

test('~> state in Kubernetes: another engine of the same instance sees the images; list filters', async () => {
  await pull(engine, 'busybox');
  const other = newEngine('img-test', { mode: 'off' });
  await other.start();
  try {
    const ii = (await other.inspectImage('busybox', '1.51')) as { Id: string; Config: { Cmd: string[] } };
    assert.is(ii.Id, busybox.platforms[arch]!.config);
    assert.equal(ii.Config.Cmd, ['sh']);
    const names = (f: Record<string, string[]>) =>
      other
        .listImages({ all: false, filters: f }, '1.51')
        .then((l) => (l as Array<{ RepoTags: string[] }>).flatMap((x) => x.RepoTags).sort());
    assert.equal(await names({ reference: ['busy*'] }), ['busybox:latest']);
    assert.equal(await names({ label: ['org.example.image=web'] }), [`${reg.host}/app/web:2`]);
    assert.equal(await names({ dangling: ['false'] }), [`${reg.host}/app/web:2`, 'busybox:latest']);
    assert.equal((await status(other.listImages({ all: false, filters: { nope: ['x'] } }, '1.51'))).code, 400);
  } finally {
    other.close();
  }
});

test('~> offline policies: best-effort records an unreachable image, off never asks; create never needs a registry', async () => {
  const srv = createServer();
  await new Promise<void>((res) => srv.listen(0, '127.0.0.1', res));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((res) => srv.close(() => res()));
  const be = newEngine('img-offline', { mode: 'best-effort', lookupTimeoutMs: 2000 });
  await be.start();
  try {
    const ref = `127.0.0.1:${port}/tools/busybox:1`;
    const p = await pull(be, ref);
    assert.match(p[1]!.status!, 'the registry could not be reached');
    assert.equal(p.at(-1), { status: `Status: Downloaded newer image for ${ref}` });
    const ii = (await be.inspectImage(ref, '1.51')) as { Id: string; Comment: string; Config: { Cmd: unknown } };
    assert.match(ii.Comment, 'configuration not read');
    assert.is(ii.Config.Cmd, null);
    // A create of an image nobody pulled: looked up, fails, created anyway (no warning: the CLI would print it).
    const other = `127.0.0.1:${port}/tools/busybox:2`;
    const { Id, Warnings } = await be.createContainer(undefined, { Image: other, Cmd: ['echo', 'hi'] });
    assert.equal(Warnings, []);
    assert.ok(await be.inspectImage(other, '1.51'), 'the image is recorded');
    await be.startContainer(Id);
    await be.removeContainer(Id, { force: true, volumes: false, link: false });
    // A registry that says "no such image" makes the create a 404, so that the docker CLI pulls.
    const missing = await status(be.createContainer(undefined, { Image: `${reg.host}/app/web:none` }));
    assert.equal(missing, { code: 404, message: `No such image: ${reg.host}/app/web:none` });
    assert.equal(await status(be.createContainer(undefined, { Image: 'f'.repeat(64) })), {
      code: 404,
      message: `No such image: ${'f'.repeat(64)}`,
    });
  } finally {
    be.close();
  }
  const off = newEngine('img-off', { mode: 'off' });
  await off.start();
  try {
    reg.requests.length = 0;
    const p = await pull(off, `${reg.host}/app/web:2`);
    assert.match(p[1]!.status!, 'kuber-api does not contact registries (--image-metadata off)');
    await off.createContainer(undefined, { Image: `${reg.host}/app/web:3` });
    assert.is(reg.requests.length, 0);
  } finally {
    off.close();
  }
});

test('~> login: refused credentials are 401 as moby words them; accepted ones serve lookups and reach the Pod as imagePullSecrets', async () => {
  reg.push('private/busybox', '1');
  reg.protect('private/busybox', { username: 'u', password: 'p' });
  const ref = `${reg.host}/private/busybox:1`;
  // Anonymous: the registry denies, so the create is a 404 (the docker CLI then pulls with its login).
  assert.equal(await status(engine.createContainer(undefined, { Image: ref })), {
    code: 404,
    message: `No such image: ${ref}`,
  });
  assert.equal(await status(engine.login({ username: 'u', password: 'x', serveraddress: reg.host })), {
    code: 401,
    message: `Get "https://${reg.host}/v2/": unauthorized: incorrect username or password`,
  });
  assert.equal(await engine.login({ username: 'u', password: 'p', serveraddress: `http://${reg.host}/` }), {
    Status: 'Login Succeeded',
    IdentityToken: '',
  });
  const { Id } = await engine.createContainer(undefined, { Image: ref, Cmd: ['sleep', '30'] });
  // The lookup at create used the login: the image's config was read (not recorded by reference).
  const img = (await engine.inspectImage(ref, '1.51')) as { Id: string; Config: { Cmd: string[] } };
  assert.equal(img.Config.Cmd, ['sh']);
  assert.is(((await engine.inspectContainer(Id, { size: false }, '1.51')) as { Image: string }).Image, img.Id);
  await engine.startContainer(Id);
  const pod = await kube.client.get<{ spec: { imagePullSecrets?: Array<{ name: string }> } }>(
    kube.path('pods', engine.target(Id).podName!),
  );
  assert.match(pod.spec.imagePullSecrets?.[0]?.name ?? '', /^kapi-regcred-/);
  await engine.removeContainer(Id, { force: true, volumes: false, link: false });
});

test.run();
