import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { buildPod, validateCreate, type PodContext } from '../../../src/engine/model/translate.js';
import {
  capabilitiesFor,
  DOCKER_DEFAULT_CAPS,
  helperSecurityContext,
  podSecurityContext,
} from '../../../src/engine/model/security.js';
import { decidePod, policyFromLabels } from '../../../src/kube/pod-security/index.js';
import type { CreateBody } from '../../../src/engine/model/types.js';
import type { Level } from '../../../src/kube/pod-security/index.js';

const id = '0123456789abcdef'.repeat(4);
const ctx = (securityLevel: Level): PodContext => ({
  namespace: 'ns',
  instance: 'inst',
  owner: { name: 'kapi-abc', uid: 'u-1' },
  killGraceSeconds: 2,
  imagePullPolicy: 'IfNotPresent',
  automountServiceAccountToken: false,
  securityLevel,
});
const pod = (config: CreateBody, level: Level = 'baseline') =>
  buildPod(ctx(level), { id, name: 'web', config, run: 1, podName: 'web-0123456789ab' });
const admits = (level: Level, p: ReturnType<typeof pod>) =>
  decidePod(policyFromLabels({ 'pod-security.kubernetes.io/enforce': level }).policy, p.metadata, p.spec).allowed;

test('~> default Pod: Docker caps minus what baseline forbids, no escalation, seccomp RuntimeDefault; baseline admits it', () => {
  const p = pod({ Image: 'busybox' });
  const sc = p.spec.containers[0].securityContext!;
  assert.is(sc.allowPrivilegeEscalation, false);
  assert.equal(sc.capabilities!.drop, ['ALL']);
  assert.equal(
    sc.capabilities!.add,
    DOCKER_DEFAULT_CAPS.filter((c) => c !== 'NET_RAW'),
  );
  assert.equal(p.spec.securityContext, { seccompProfile: { type: 'RuntimeDefault' } });
  assert.ok(admits('baseline', p));
  assert.not.ok(admits('restricted', p), 'root image caps are too many for restricted');
});

test('~> restricted level: only NET_BIND_SERVICE, runAsNonRoot; restricted admits --user 1000', () => {
  const p = pod({ Image: 'busybox', User: '1000' }, 'restricted');
  const sc = p.spec.containers[0].securityContext!;
  assert.equal(sc.capabilities, { drop: ['ALL'], add: ['NET_BIND_SERVICE'] });
  assert.is(sc.runAsNonRoot, true);
  assert.ok(admits('restricted', p));
});

test('~> refused by baseline: --privileged, --cap-add SYS_ADMIN, --pid host, --ipc host, --device', () => {
  for (const hc of [
    { Privileged: true },
    { CapAdd: ['SYS_ADMIN'] },
    { PidMode: 'host' },
    { IpcMode: 'host' },
    { Devices: [{ PathOnHost: '/dev/fuse', PathInContainer: '/dev/fuse', CgroupPermissions: 'rwm' }] },
  ]) {
    const p = pod({ Image: 'busybox', HostConfig: hc });
    assert.not.ok(admits('baseline', p), JSON.stringify(hc));
    assert.ok(admits('privileged', p), JSON.stringify(hc));
  }
});

test('~> cap-drop and cap-add ALL follow Docker; --read-only maps; safe sysctls kept', () => {
  assert.equal(capabilitiesFor('baseline', [], ['ALL']).add, []);
  assert.equal(capabilitiesFor('baseline', ['NET_ADMIN'], ['chown']).add.includes('CHOWN'), false);
  assert.ok(capabilitiesFor('baseline', ['CAP_NET_ADMIN'], []).add.includes('NET_ADMIN'));
  assert.ok(capabilitiesFor('privileged', [], []).add.includes('NET_RAW'));
  assert.is(
    pod({ Image: 'x', HostConfig: { ReadonlyRootfs: true } }).spec.containers[0].securityContext!
      .readOnlyRootFilesystem,
    true,
  );
  assert.equal(podSecurityContext({ 'net.ipv4.tcp_syncookies': '1', 'net.core.somaxconn': '1024' }).sysctls, [
    { name: 'net.ipv4.tcp_syncookies', value: '1' },
  ]);
});

test('~> helpers: non-root with no capabilities; root only outside restricted, with file caps only', () => {
  assert.equal(helperSecurityContext('restricted', true), {
    allowPrivilegeEscalation: false,
    capabilities: { drop: ['ALL'] },
    runAsUser: 65534,
    runAsGroup: 65534,
    runAsNonRoot: true,
  });
  const root = helperSecurityContext('baseline', true);
  assert.is(root.runAsUser, 0);
  assert.equal(root.capabilities!.add, ['CHOWN', 'DAC_OVERRIDE', 'FOWNER', 'FSETID']);
});

test('~> warnings for fields without a Pod equivalent', () => {
  const w = validateCreate({
    Image: 'x',
    HostConfig: {
      SecurityOpt: ['seccomp=unconfined'],
      Sysctls: { 'net.core.somaxconn': '1' },
      Ulimits: [{ Name: 'nofile', Soft: 1, Hard: 2 }],
      PidsLimit: 10,
    },
  });
  for (const re of [/security-opt/, /--sysctl net.core.somaxconn/, /--ulimit nofile/, /--pids-limit/])
    assert.ok(
      w.some((x) => re.test(x)),
      String(re),
    );
});

test.run();
