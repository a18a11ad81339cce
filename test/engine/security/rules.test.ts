import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { bindError, bindSources, effectiveLevel, podSecurityError } from '../../../src/engine/security/rules.js';
import { PodSecurityGate } from '../../../src/engine/security/gate.js';
import { statusFromError } from '../../../src/errors.js';

const o = { bindRoots: ['/builds', '/tmp'], bindDeny: ['/var/run/secrets', '/tmp/state'] };

test('~> the level: the enforce label, else the default; privileged needs --allow-privileged; a bad label fails closed', () => {
  const d = { defaultLevel: 'baseline' as const, allowPrivileged: false };
  assert.is(effectiveLevel({ namespace: 'n' }, d).level, 'baseline');
  assert.is(effectiveLevel({ namespace: 'n', label: 'restricted' }, d).level, 'restricted');
  assert.is(effectiveLevel({ namespace: 'n', label: 'privileged' }, d).level, 'baseline');
  assert.is(
    effectiveLevel({ namespace: 'n', label: 'privileged' }, { ...d, allowPrivileged: true }).level,
    'privileged',
  );
  assert.is(effectiveLevel({ namespace: 'n', label: 'bogus' }, d).level, 'restricted');
  assert.is(effectiveLevel({ namespace: 'n', label: 'baseline', labelVersion: 'v1.25' }, d).version.latest, false);
});

test('~> bind sources: Binds and bind Mounts; outside the roots or onto credentials is a 403', () => {
  assert.equal(
    bindSources({
      Binds: ['/builds/x:/x', 'named:/data', '/tmp/a:/a:ro'],
      Mounts: [
        { Type: 'bind', Source: '/etc' },
        { Type: 'volume', Source: 'v' },
      ],
    }),
    ['/builds/x', '/tmp/a', '/etc'],
  );
  assert.is(bindError(['/builds/proj/src', '/tmp/x'], o), undefined);
  const outside = bindError(['/etc'], o)!;
  assert.is(statusFromError(outside), 403);
  assert.match(outside.message, /outside the allowed roots \(\/builds, \/tmp\); allow a root with --bind-root/);
  assert.match(bindError(['/var/run/secrets/kubernetes.io/serviceaccount'], o)!.message, /kuber-api's own credentials/);
  assert.match(
    bindError(['/tmp'], o)!.message,
    /own credentials \(\/tmp\/state\)/,
    'a parent of a denied path is denied',
  );
  assert.match(bindError(['/tmp/../etc'], o)!.message, /outside/);
  assert.match(bindError(['/tmp/link'], o, () => '/etc')!.message, /outside/, 'symlinks are resolved');
});

test('~> the 403 names the rule, the Docker flag, and the label/flag that relaxes it', () => {
  const spec = { containers: [{ name: 'main', securityContext: { privileged: true } }] };
  const e = podSecurityError(
    'the container',
    { level: 'baseline', version: { latest: true } },
    { namespace: 'ci' },
    { allowPrivileged: false },
    {},
    spec,
  )!;
  assert.is(statusFromError(e), 403);
  assert.match(
    e.message,
    /^the container is refused by Pod Security "baseline:latest" \(from kuber-api's --pod-security-default/,
  );
  assert.match(
    e.message,
    /privileged \(container "main" must not set securityContext.privileged=true\): --privileged needs a privileged namespace: label namespace "ci" pod-security.kubernetes.io\/enforce=privileged and start kuber-api with --allow-privileged/,
  );
  assert.is(
    podSecurityError(
      'x',
      { level: 'privileged', version: { latest: true } },
      { namespace: 'ci' },
      { allowPrivileged: true },
      {},
      spec,
    ),
    undefined,
  );
});

test('~> the gate reads the namespace labels once per cache period; unreadable means the default', async () => {
  let gets = 0;
  let labels: Record<string, string> | Error = { 'pod-security.kubernetes.io/enforce': 'restricted' };
  const client = {
    get: async () => (gets++, labels instanceof Error ? Promise.reject(labels) : { metadata: { labels } }),
  };
  const g = new PodSecurityGate(client as any, 'ci', {
    defaultLevel: 'baseline',
    allowPrivileged: false,
    bindRoots: ['/tmp'],
    bindDeny: [],
    levelCacheMs: 1000,
  });
  await g.refresh(10_000);
  await g.refresh(10_500);
  assert.equal([gets, g.levelName], [1, 'restricted']);
  labels = new Error('forbidden');
  await g.refresh(11_500);
  assert.equal([gets, g.levelName], [2, 'baseline']);
  assert.throws(
    () => g.checkCreate({ Image: 'busybox', HostConfig: { PidMode: 'host' } }),
    /host namespaces \(hostPID=true\)/,
  );
  g.checkCreate({ Image: 'busybox' });
});

test('~> namespaceLabels (the operator tells them): read instead of a GET, followed when they change', async () => {
  let gets = 0;
  let told: Record<string, string> = { 'pod-security.kubernetes.io/enforce': 'baseline' };
  const g = new PodSecurityGate({ get: async () => (gets++, {}) } as any, 'kapi-job-x', {
    defaultLevel: 'baseline',
    allowPrivileged: false,
    bindRoots: ['/tmp'],
    bindDeny: [],
    levelCacheMs: 1000,
    namespaceLabels: () => told,
  });
  await g.refresh(10_000);
  g.checkCreate({ Image: 'busybox' });
  told = { 'pod-security.kubernetes.io/enforce': 'restricted' };
  await g.refresh(11_500);
  assert.equal([gets, g.levelName], [0, 'restricted']);
  assert.throws(() => g.checkCreate({ Image: 'busybox', HostConfig: { CapAdd: ['NET_RAW'] } }), /restricted/);
});

test.run();
