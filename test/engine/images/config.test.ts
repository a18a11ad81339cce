import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mergeImageConfig, podIntent, defaultsOf } from '../../../src/engine/images/config.js';
import type { ImageContainerConfig } from '../../../src/engine/images/store.js';
import { buildPod, type PodContext } from '../../../src/engine/model/translate.js';

const nginx: ImageContainerConfig = {
  User: 'nginx',
  ExposedPorts: { '80/tcp': {} },
  Env: ['PATH=/usr/bin:/bin', 'NGINX_VERSION=1.27.5'],
  Entrypoint: ['/docker-entrypoint.sh'],
  Cmd: ['nginx', '-g', 'daemon off;'],
  WorkingDir: '/srv',
  Labels: { maintainer: 'nginx', tier: 'image' },
  StopSignal: 'SIGQUIT',
  Volumes: { '/var/cache/nginx': {} },
  Healthcheck: { Test: ['CMD-SHELL', 'curl -f localhost'], Interval: 5e9, Retries: 2 },
};

test('~> merge follows moby daemon/commit.go: user values win, unions for ports/volumes/labels, env by key', () => {
  const m = mergeImageConfig(
    {
      Image: 'nginx',
      Env: ['NGINX_VERSION=custom', 'A=1'],
      ExposedPorts: { '8080': {} },
      Labels: { tier: 'mine' },
      Volumes: { '/data': {} },
    },
    nginx,
  );
  assert.equal(m.Env, ['NGINX_VERSION=custom', 'A=1', 'PATH=/usr/bin:/bin']);
  assert.equal(Object.keys(m.ExposedPorts!).sort(), ['80/tcp', '8080']);
  assert.equal(m.Labels, { maintainer: 'nginx', tier: 'mine' });
  assert.equal(Object.keys(m.Volumes!).sort(), ['/data', '/var/cache/nginx']);
  assert.equal([m.User, m.WorkingDir, m.StopSignal], ['nginx', '/srv', 'SIGQUIT']);
  assert.equal([m.Entrypoint, m.Cmd], [['/docker-entrypoint.sh'], ['nginx', '-g', 'daemon off;']]);
  assert.equal(m.Healthcheck, nginx.Healthcheck);
  // The same port given without /tcp is not added twice.
  assert.equal(Object.keys(mergeImageConfig({ ExposedPorts: { '80': {} } }, nginx).ExposedPorts!), ['80']);
});

test('~> Entrypoint/Cmd: an explicit entrypoint drops the image CMD; Cmd alone keeps the image entrypoint; [""] resets it', () => {
  const a = mergeImageConfig({ Entrypoint: ['/bin/sh'] }, nginx);
  assert.equal([a.Entrypoint, a.Cmd], [['/bin/sh'], undefined]);
  const b = mergeImageConfig({ Cmd: ['nginx', '-t'] }, nginx);
  assert.equal([b.Entrypoint, b.Cmd], [['/docker-entrypoint.sh'], ['nginx', '-t']]);
  // `--entrypoint ""` is [""]: not empty for moby, so the image CMD is not inherited either.
  const c = mergeImageConfig({ Entrypoint: [''], Cmd: null }, nginx);
  assert.equal([c.Entrypoint, c.Cmd], [[''], null]);
  const d = mergeImageConfig({ Healthcheck: { Test: [], Interval: 1e9 } }, nginx);
  assert.equal(d.Healthcheck, {
    Test: ['CMD-SHELL', 'curl -f localhost'],
    Interval: 1e9,
    Timeout: undefined,
    StartPeriod: undefined,
    Retries: 2,
  });
  assert.equal(mergeImageConfig({ Healthcheck: { Test: ['NONE'] } }, nginx).Healthcheck, {
    Test: ['NONE'],
    Interval: 5e9,
    Timeout: undefined,
    StartPeriod: undefined,
    Retries: 2,
  });
  assert.equal(mergeImageConfig({ Image: 'x' }, undefined), { Image: 'x' });
});

const ctx: PodContext = {
  namespace: 'ns',
  instance: 'i',
  owner: { name: 'kapi-x', uid: 'u' },
  killGraceSeconds: 2,
  imagePullPolicy: 'IfNotPresent',
  automountServiceAccountToken: false,
};
const podOf = (body: Record<string, unknown>) => {
  const merged = mergeImageConfig(body, nginx);
  return buildPod(ctx, {
    id: 'a'.repeat(64),
    name: 'n',
    config: podIntent(merged, { defaults: defaultsOf(nginx) }),
    run: 1,
    podName: 'p',
  }).spec.containers[0];
};

test('~> the Pod carries the merged config (ENTRYPOINT/CMD, ENV, WORKDIR, ports, probe, stop signal) and leaves only the image USER to the runtime', () => {
  const c = podOf({ Image: 'nginx' });
  assert.equal(c.command, ['/docker-entrypoint.sh']);
  assert.equal(c.args, ['nginx', '-g', 'daemon off;']);
  assert.equal(c.env, [
    { name: 'PATH', value: '/usr/bin:/bin' },
    { name: 'NGINX_VERSION', value: '1.27.5' },
  ]);
  assert.is(c.workingDir, '/srv');
  assert.equal(
    [c.securityContext?.runAsUser, c.securityContext?.runAsGroup],
    [undefined, undefined],
    'USER nginx is resolved by the runtime, not a securityContext',
  );
  assert.equal(c.ports, [{ containerPort: 80, protocol: 'TCP' }]);
  assert.equal(c.readinessProbe?.exec?.command, ['/bin/sh', '-c', 'curl -f localhost']);
  assert.equal(c.lifecycle?.preStop?.exec?.command, ['/bin/sh', '-c', 'kill -3 1']);
  const withArgs = podOf({ Image: 'nginx', Cmd: ['nginx', '-t'], Env: ['A=1'], User: '1000' });
  assert.equal([withArgs.command, withArgs.args], [['/docker-entrypoint.sh'], ['nginx', '-t']]);
  assert.equal(withArgs.env, [
    { name: 'A', value: '1' },
    { name: 'PATH', value: '/usr/bin:/bin' },
    { name: 'NGINX_VERSION', value: '1.27.5' },
  ]);
  assert.is(withArgs.securityContext?.runAsUser, 1000);
  // An explicit entrypoint drops the image CMD (Docker and Kubernetes agree).
  const explicit = podOf({ Image: 'nginx', Entrypoint: ['/docker-entrypoint.sh'] });
  assert.equal([explicit.command, explicit.args], [['/docker-entrypoint.sh'], undefined]);
  const reset = podOf({ Image: 'nginx', Entrypoint: [''], Cmd: ['echo', 'hi'] });
  assert.equal([reset.command, reset.args], [['echo', 'hi'], undefined]);
  assert.equal(podIntent({ Image: 'x', Cmd: ['a'] }, undefined), { Image: 'x', Cmd: ['a'] });
  assert.equal(podIntent({ Image: 'x', User: 'web' }, { defaults: { User: 'web' } }), { Image: 'x' });
  assert.equal(podIntent({ Image: 'x', User: '0' }, { defaults: { User: 'web' } }), { Image: 'x', User: '0' });
  assert.equal(
    podIntent(
      { Image: 'busybox', Cmd: ['a'] },
      { pullRef: `docker.io/library/busybox:latest@sha256:${'a'.repeat(64)}` },
    ),
    { Image: `docker.io/library/busybox:latest@sha256:${'a'.repeat(64)}`, Cmd: ['a'] },
  );
});

test.run();
