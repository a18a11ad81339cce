/**
 * The Pod Security Standards policy (src/kube/pod-security), as a table: every check of
 * Kubernetes 1.33 at each level — a violating pod with the exact reason/detail upstream words,
 * and at which levels it is refused — plus versioned behaviour, the restricted overrides of
 * baseline checks, label parsing and the warn default.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  CHECKS,
  decidePod,
  evaluate,
  existingPodWarnings,
  forbiddenDetail,
  LATEST,
  policyFromLabels,
  v1,
  type Level,
} from '../../src/kube/pod-security/index.js';

type Obj = Record<string, any>;

/** A restricted-compliant pod; cases change one thing. */
const base = (): { meta: Obj; spec: Obj } => ({
  meta: { name: 'p' },
  spec: {
    securityContext: { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } },
    containers: [
      {
        name: 'main',
        image: 'busybox',
        securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } },
      },
    ],
  },
});
const sc = (p: { spec: Obj }) => p.spec.containers[0].securityContext;

interface Case {
  check: string;
  /** The lowest level that refuses it. */
  refusedFrom: Exclude<Level, 'privileged'>;
  change: (p: { meta: Obj; spec: Obj }) => void;
  detail: string;
}

const CASES: Case[] = [
  {
    check: 'appArmorProfile',
    refusedFrom: 'baseline',
    change: (p) => (sc(p).appArmorProfile = { type: 'Unconfined' }),
    detail: 'forbidden AppArmor profile (container "main" must not set AppArmor profile type to "Unconfined")',
  },
  {
    check: 'appArmorProfile',
    refusedFrom: 'baseline',
    change: (p) => (p.meta.annotations = { 'container.apparmor.security.beta.kubernetes.io/main': 'unconfined' }),
    detail:
      'forbidden AppArmor profile (annotation must not set AppArmor profile type to "container.apparmor.security.beta.kubernetes.io/main="unconfined"")',
  },
  {
    check: 'capabilities_baseline',
    refusedFrom: 'baseline',
    change: (p) => (sc(p).capabilities.add = ['SYS_ADMIN', 'NET_RAW']),
    detail:
      'non-default capabilities (container "main" must not include "NET_RAW", "SYS_ADMIN" in securityContext.capabilities.add)',
  },
  {
    check: 'hostNamespaces',
    refusedFrom: 'baseline',
    change: (p) => Object.assign(p.spec, { hostNetwork: true, hostPID: true, hostIPC: true }),
    detail: 'host namespaces (hostNetwork=true, hostPID=true, hostIPC=true)',
  },
  {
    check: 'hostPathVolumes',
    refusedFrom: 'baseline',
    change: (p) =>
      (p.spec.volumes = [
        { name: 'a', hostPath: { path: '/' } },
        { name: 'b', hostPath: { path: '/etc' } },
      ]),
    detail: 'hostPath volumes (volumes "a", "b")',
  },
  {
    check: 'hostPorts',
    refusedFrom: 'baseline',
    change: (p) =>
      (p.spec.containers[0].ports = [
        { containerPort: 80, hostPort: 8080 },
        { containerPort: 81, hostPort: 8081 },
      ]),
    detail: 'hostPort (container "main" uses hostPorts 8080, 8081)',
  },
  {
    check: 'privileged',
    refusedFrom: 'baseline',
    change: (p) => (sc(p).privileged = true),
    detail: 'privileged (container "main" must not set securityContext.privileged=true)',
  },
  {
    check: 'procMount',
    refusedFrom: 'baseline',
    change: (p) => (sc(p).procMount = 'Unmasked'),
    detail: 'procMount (container "main" must not set securityContext.procMount to "Unmasked")',
  },
  {
    check: 'seLinuxOptions',
    refusedFrom: 'baseline',
    change: (p) => (p.spec.securityContext.seLinuxOptions = { type: 'spc_t', user: 'root' }),
    detail: 'seLinuxOptions (pod set forbidden securityContext.seLinuxOptions: type "spc_t"; user may not be set)',
  },
  {
    check: 'seccompProfile_baseline',
    refusedFrom: 'baseline',
    change: (p) => (sc(p).seccompProfile = { type: 'Unconfined' }),
    detail: 'seccompProfile (container "main" must not set securityContext.seccompProfile.type to "Unconfined")',
  },
  {
    check: 'sysctls',
    refusedFrom: 'baseline',
    change: (p) =>
      (p.spec.securityContext.sysctls = [
        { name: 'kernel.msgmax', value: '1' },
        { name: 'net.ipv4.tcp_rmem', value: '4096 87380 6291456' },
      ]),
    detail: 'forbidden sysctls (kernel.msgmax)',
  },
  {
    check: 'windowsHostProcess',
    refusedFrom: 'baseline',
    change: (p) => (p.spec.securityContext.windowsOptions = { hostProcess: true }),
    detail: 'hostProcess (pod must not set securityContext.windowsOptions.hostProcess=true)',
  },
  {
    check: 'allowPrivilegeEscalation',
    refusedFrom: 'restricted',
    change: (p) => delete sc(p).allowPrivilegeEscalation,
    detail:
      'allowPrivilegeEscalation != false (container "main" must set securityContext.allowPrivilegeEscalation=false)',
  },
  {
    check: 'capabilities_restricted',
    refusedFrom: 'restricted',
    change: (p) => (sc(p).capabilities = { add: ['CHOWN'] }),
    detail:
      'unrestricted capabilities (container "main" must set securityContext.capabilities.drop=["ALL"]; container "main" must not include "CHOWN" in securityContext.capabilities.add)',
  },
  {
    check: 'restrictedVolumes',
    refusedFrom: 'restricted',
    change: (p) =>
      (p.spec.volumes = [
        { name: 'n', nfs: { server: 'x', path: '/' } },
        { name: 'e', emptyDir: {} },
      ]),
    detail: 'restricted volume types (volume "n" uses restricted volume type "nfs")',
  },
  {
    check: 'runAsNonRoot',
    refusedFrom: 'restricted',
    change: (p) => (sc(p).runAsNonRoot = false),
    detail: 'runAsNonRoot != true (container "main" must not set securityContext.runAsNonRoot=false)',
  },
  {
    check: 'runAsUser',
    refusedFrom: 'restricted',
    change: (p) => (p.spec.securityContext.runAsUser = 0),
    detail: 'runAsUser=0 (pod must not set runAsUser=0)',
  },
  {
    check: 'seccompProfile_restricted',
    refusedFrom: 'restricted',
    change: (p) => delete p.spec.securityContext.seccompProfile,
    detail:
      'seccompProfile (pod or container "main" must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost")',
  },
];

test('the table covers every check of the policy', () => {
  assert.equal([...new Set(CASES.map((c) => c.check))].sort(), CHECKS.map((c) => c.id).sort());
});

test('the compliant pod passes every level', () => {
  const p = base();
  for (const level of ['privileged', 'baseline', 'restricted'] as Level[])
    assert.ok(evaluate({ level, version: LATEST }, p.meta, p.spec).allowed, level);
});

for (const c of CASES) {
  test(`${c.check}: ${c.detail.slice(0, 60)}`, () => {
    const p = base();
    c.change(p);
    assert.ok(
      evaluate({ level: 'privileged', version: LATEST }, p.meta, p.spec).allowed,
      'privileged admits everything',
    );
    const b = evaluate({ level: 'baseline', version: LATEST }, p.meta, p.spec);
    const r = evaluate({ level: 'restricted', version: LATEST }, p.meta, p.spec);
    assert.is(b.allowed, c.refusedFrom !== 'baseline', 'baseline');
    assert.is(r.allowed, false, 'restricted refuses');
    // A baseline violation reads the same at restricted (unless a restricted check replaces it).
    assert.is(forbiddenDetail(c.refusedFrom === 'baseline' ? b : r), c.detail);
  });
}

test('restricted replaces baseline checks: capabilities, hostPath (restrictedVolumes), seccomp', () => {
  const p = base();
  sc(p).capabilities = { drop: ['ALL'], add: ['SYS_ADMIN'] };
  p.spec.volumes = [{ name: 'h', hostPath: { path: '/' } }];
  assert.is(
    forbiddenDetail(evaluate({ level: 'restricted', version: LATEST }, p.meta, p.spec)),
    'unrestricted capabilities (container "main" must not include "SYS_ADMIN" in securityContext.capabilities.add), restricted volume types (volume "h" uses restricted volume type "hostPath")',
  );
});

test('versions: checks and allowed values follow the policy version; newer versions evaluate as the newest', () => {
  const p = base();
  p.spec.securityContext.runAsUser = 0;
  assert.ok(evaluate({ level: 'restricted', version: v1(22) }, p.meta, p.spec).allowed, 'runAsUser arrived in v1.23');
  assert.not.ok(evaluate({ level: 'restricted', version: v1(23) }, p.meta, p.spec).allowed);
  const s = base();
  s.spec.securityContext.sysctls = [{ name: 'net.ipv4.tcp_keepalive_time', value: '60' }];
  assert.not.ok(evaluate({ level: 'baseline', version: v1(28) }, s.meta, s.spec).allowed);
  assert.ok(evaluate({ level: 'baseline', version: v1(29) }, s.meta, s.spec).allowed);
  assert.ok(evaluate({ level: 'baseline', version: v1(99) }, s.meta, s.spec).allowed);
  const e = base();
  e.spec.securityContext.seLinuxOptions = { type: 'container_engine_t' };
  assert.not.ok(evaluate({ level: 'baseline', version: v1(30) }, e.meta, e.spec).allowed);
  assert.ok(evaluate({ level: 'baseline', version: v1(31) }, e.meta, e.spec).allowed);
  // Before v1.19 seccomp came from annotations.
  const a = base();
  a.meta.annotations = { 'seccomp.security.alpha.kubernetes.io/pod': 'unconfined' };
  assert.is(
    forbiddenDetail(evaluate({ level: 'baseline', version: v1(18) }, a.meta, a.spec)),
    'seccompProfile (forbidden annotation seccomp.security.alpha.kubernetes.io/pod="unconfined")',
  );
  assert.ok(evaluate({ level: 'baseline', version: v1(19) }, a.meta, a.spec).allowed);
  // Windows pods are exempt from the Linux-only restricted checks from v1.25.
  const w = {
    meta: { name: 'w' },
    spec: {
      os: { name: 'windows' },
      securityContext: { runAsNonRoot: true },
      containers: [{ name: 'main', image: 'x' }],
    },
  };
  assert.ok(evaluate({ level: 'restricted', version: LATEST }, w.meta, w.spec).allowed);
  assert.not.ok(evaluate({ level: 'restricted', version: v1(24) }, w.meta, w.spec).allowed);
});

test('init and ephemeral containers are checked, plural wording follows the count', () => {
  const p = base();
  p.spec.initContainers = [{ name: 'init', image: 'busybox', securityContext: { privileged: true } }];
  p.spec.ephemeralContainers = [{ name: 'debug', image: 'busybox', securityContext: { privileged: true } }];
  assert.is(
    forbiddenDetail(evaluate({ level: 'baseline', version: LATEST }, p.meta, p.spec)),
    'privileged (containers "init", "debug" must not set securityContext.privileged=true)',
  );
});

test('labels -> policy: defaults, warn follows a stricter enforce, bad values fail closed/open with errors', () => {
  assert.equal(policyFromLabels(undefined).policy.enforce, { level: 'privileged', version: LATEST });
  const p = policyFromLabels({
    'pod-security.kubernetes.io/enforce': 'baseline',
    'pod-security.kubernetes.io/enforce-version': 'v1.29',
  }).policy;
  assert.equal(p.warn, { level: 'baseline', version: v1(29) });
  const q = policyFromLabels({
    'pod-security.kubernetes.io/enforce': 'baseline',
    'pod-security.kubernetes.io/warn': 'privileged',
  }).policy;
  assert.is(q.warn.level, 'privileged', 'an explicit warn level is kept');
  const bad = policyFromLabels({
    'pod-security.kubernetes.io/enforce': 'nope',
    'pod-security.kubernetes.io/warn': 'nope',
    'pod-security.kubernetes.io/audit-version': 'v2.0',
  });
  assert.is(bad.policy.enforce.level, 'restricted');
  assert.is(bad.policy.warn.level, 'privileged');
  assert.equal(
    bad.errors.map((e) => e.label),
    [
      'pod-security.kubernetes.io/enforce',
      'pod-security.kubernetes.io/audit-version',
      'pod-security.kubernetes.io/warn',
    ],
  );
});

test('decidePod: the 403 text, warn only when admitted; namespace warnings group pods by reason', () => {
  const { policy } = policyFromLabels({
    'pod-security.kubernetes.io/enforce': 'baseline',
    'pod-security.kubernetes.io/warn': 'restricted',
  });
  const p = base();
  sc(p).privileged = true;
  const d = decidePod(policy, p.meta, p.spec);
  assert.is(
    d.denial,
    'violates PodSecurity "baseline:latest": privileged (container "main" must not set securityContext.privileged=true)',
  );
  assert.equal(d.warnings, []);
  const ok = base();
  delete sc(ok).allowPrivilegeEscalation;
  assert.equal(decidePod(policy, ok.meta, ok.spec), {
    allowed: true,
    warnings: [
      'would violate PodSecurity "restricted:latest": allowPrivilegeEscalation != false (container "main" must set securityContext.allowPrivilegeEscalation=false)',
    ],
  });
  const pods = ['c', 'b', 'a', 'd'].map((name) => ({
    metadata: { name },
    spec: { hostPID: true, containers: [{ name: 'x', image: 'y' }] },
  }));
  assert.equal(existingPodWarnings('ns', { level: 'baseline', version: LATEST }, pods, 3), [
    'new PodSecurity enforce level only checked against the first 3 of 4 existing pods',
    'existing pods in namespace "ns" violate the new PodSecurity enforce level "baseline:latest"',
    'a (and 2 other pods): host namespaces',
  ]);
});

test.run();
