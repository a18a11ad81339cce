/**
 * @module kube/pod-security/checks
 * Every Pod Security Standards check of Kubernetes 1.33, as a table: id, level, and the versioned
 * implementations (k8s.io/pod-security-admission/policy/check_*.go at v0.33). Each check is a pure
 * function of the pod's metadata and spec (plain JSON as the API carries it) and words its
 * reason and detail exactly as the upstream check does, since users read them in the 403.
 */
import type { Level } from './api.js';

type Obj = Record<string, any>;

export interface CheckResult {
  allowed: boolean;
  /** Short reason ("host namespaces"); set when not allowed. */
  reason?: string;
  /** The specifics ("hostNetwork=true"); optional. */
  detail?: string;
}

export type CheckFn = (meta: Obj, spec: Obj) => CheckResult;

export interface VersionedCheck {
  /** First policy minor version (v1.<minVersion>) this implementation applies to. */
  minVersion: number;
  check: CheckFn;
  /** Baseline checks this restricted check replaces at the restricted level. */
  overrides?: string[];
}

export interface Check {
  id: string;
  level: Exclude<Level, 'privileged'>;
  versions: VersionedCheck[];
}

const OK: CheckResult = { allowed: true };
const deny = (reason: string, detail?: string): CheckResult => ({ allowed: false, reason, detail });

// ------------------------------------------------------------------ helpers (policy/helpers.go, visitor.go)

export const joinQuote = (items: string[]) => (items.length ? `"${items.join('", "')}"` : '');
export const pluralize = (singular: string, plural: string, n: number) => (n === 1 ? singular : plural);
/** sets.NewString(...).List(): unique and sorted. */
const sortedSet = (items: Iterable<string>) => [...new Set(items)].sort();
const containersPhrase = (names: string[]) =>
  `${pluralize('container', 'containers', names.length)} ${joinQuote(names)}`;

/** Init containers, then containers, then ephemeral containers (visitContainers). */
export function visitContainers(spec: Obj, fn: (c: Obj) => void): void {
  for (const c of spec.initContainers ?? []) fn(c);
  for (const c of spec.containers ?? []) fn(c);
  for (const c of spec.ephemeralContainers ?? []) fn(c);
}

const isWindows = (spec: Obj) => spec.os?.name === 'windows';
/** 1.25+: Windows pods are exempt from the Linux-only restricted checks. */
const exemptWindows =
  (check: CheckFn): CheckFn =>
  (meta, spec) =>
    isWindows(spec) ? OK : check(meta, spec);

// ------------------------------------------------------------------ baseline

function appArmorProfile(meta: Obj, spec: Obj): CheckResult {
  const allowedType = (t: unknown) => t === 'RuntimeDefault' || t === 'Localhost';
  const setters: string[] = [];
  const badValues = new Set<string>();
  const podProfile = spec.securityContext?.appArmorProfile;
  if (podProfile && !allowedType(podProfile.type)) {
    setters.push('pod');
    badValues.add(String(podProfile.type ?? ''));
  }
  const bad: string[] = [];
  visitContainers(spec, (c) => {
    const p = c.securityContext?.appArmorProfile;
    if (p && !allowedType(p.type)) {
      bad.push(c.name);
      badValues.add(String(p.type ?? ''));
    }
  });
  if (bad.length) setters.push(containersPhrase(bad));
  const annotations: string[] = [];
  for (const [k, v] of Object.entries((meta.annotations ?? {}) as Record<string, string>)) {
    if (
      k.startsWith('container.apparmor.security.beta.kubernetes.io/') &&
      !(v === '' || v === 'runtime/default' || v.startsWith('localhost/'))
    ) {
      annotations.push(`${k}=${JSON.stringify(v)}`);
    }
  }
  const values = sortedSet(badValues);
  if (annotations.length) {
    values.push(...annotations.sort());
    setters.push(pluralize('annotation', 'annotations', annotations.length));
  }
  if (!setters.length) return OK;
  return deny(
    pluralize('forbidden AppArmor profile', 'forbidden AppArmor profiles', values.length),
    `${setters.join(' and ')} must not set AppArmor profile type to ${joinQuote(values)}`,
  );
}

/**
 * What `baseline` lets a container add (check_capabilities_baseline.go): the default set of the container
 * runtimes, i.e. moby oci/caps/defaults.go DefaultCapabilities without NET_RAW. kuber-api's Pods add it.
 */
export const BASELINE_CAPABILITIES: readonly string[] = [
  'AUDIT_WRITE',
  'CHOWN',
  'DAC_OVERRIDE',
  'FOWNER',
  'FSETID',
  'KILL',
  'MKNOD',
  'NET_BIND_SERVICE',
  'SETFCAP',
  'SETGID',
  'SETPCAP',
  'SETUID',
  'SYS_CHROOT',
];
const DEFAULT_CAPABILITIES = new Set(BASELINE_CAPABILITIES);
/** What `restricted` lets a container add after dropping ALL (check_capabilities_restricted.go). */
export const RESTRICTED_CAPABILITIES: readonly string[] = ['NET_BIND_SERVICE'];

function capabilitiesBaseline(_meta: Obj, spec: Obj): CheckResult {
  const bad: string[] = [];
  const caps = new Set<string>();
  visitContainers(spec, (c) => {
    const add: string[] = c.securityContext?.capabilities?.add ?? [];
    const extra = add.filter((x) => !DEFAULT_CAPABILITIES.has(x));
    if (extra.length) {
      bad.push(c.name);
      for (const x of extra) caps.add(x);
    }
  });
  if (!bad.length) return OK;
  return deny(
    'non-default capabilities',
    `${containersPhrase(bad)} must not include ${joinQuote(sortedSet(caps))} in securityContext.capabilities.add`,
  );
}

function hostNamespaces(_meta: Obj, spec: Obj): CheckResult {
  const set: string[] = [];
  if (spec.hostNetwork === true) set.push('hostNetwork=true');
  if (spec.hostPID === true) set.push('hostPID=true');
  if (spec.hostIPC === true) set.push('hostIPC=true');
  return set.length ? deny('host namespaces', set.join(', ')) : OK;
}

function hostPathVolumes(_meta: Obj, spec: Obj): CheckResult {
  const vols = (spec.volumes ?? []).filter((v: Obj) => v.hostPath != null).map((v: Obj) => v.name as string);
  return vols.length
    ? deny('hostPath volumes', `${pluralize('volume', 'volumes', vols.length)} ${joinQuote(vols)}`)
    : OK;
}

function hostPorts(_meta: Obj, spec: Obj): CheckResult {
  const bad: string[] = [];
  const ports = new Set<string>();
  visitContainers(spec, (c) => {
    const used = (c.ports ?? []).filter((p: Obj) => p.hostPort && p.hostPort !== 0);
    if (used.length) {
      bad.push(c.name);
      for (const p of used) ports.add(String(p.hostPort));
    }
  });
  if (!bad.length) return OK;
  const list = sortedSet(ports);
  return deny(
    'hostPort',
    `${containersPhrase(bad)} ${pluralize('uses', 'use', bad.length)} ${pluralize('hostPort', 'hostPorts', list.length)} ${list.join(', ')}`,
  );
}

function privileged(_meta: Obj, spec: Obj): CheckResult {
  const bad: string[] = [];
  visitContainers(spec, (c) => {
    if (c.securityContext?.privileged === true) bad.push(c.name);
  });
  return bad.length ? deny('privileged', `${containersPhrase(bad)} must not set securityContext.privileged=true`) : OK;
}

function procMount(_meta: Obj, spec: Obj): CheckResult {
  const bad: string[] = [];
  const types = new Set<string>();
  visitContainers(spec, (c) => {
    const pm = c.securityContext?.procMount;
    if (pm != null && pm !== 'Default') {
      bad.push(c.name);
      types.add(pm);
    }
  });
  if (!bad.length) return OK;
  return deny(
    'procMount',
    `${containersPhrase(bad)} must not set securityContext.procMount to ${joinQuote(sortedSet(types))}`,
  );
}

const seLinuxOptions =
  (allowedTypes: string[]): CheckFn =>
  (_meta, spec) => {
    const setters: string[] = [];
    const badTypes = new Set<string>();
    let setUser = false;
    let setRole = false;
    const valid = (o: Obj) => {
      let ok = true;
      if (!allowedTypes.includes(o.type ?? '')) {
        ok = false;
        badTypes.add(o.type ?? '');
      }
      if (o.user) ((ok = false), (setUser = true));
      if (o.role) ((ok = false), (setRole = true));
      return ok;
    };
    if (spec.securityContext?.seLinuxOptions && !valid(spec.securityContext.seLinuxOptions)) setters.push('pod');
    const bad: string[] = [];
    visitContainers(spec, (c) => {
      if (c.securityContext?.seLinuxOptions && !valid(c.securityContext.seLinuxOptions)) bad.push(c.name);
    });
    if (bad.length) setters.push(containersPhrase(bad));
    if (!setters.length) return OK;
    const data: string[] = [];
    if (badTypes.size) data.push(`${pluralize('type', 'types', badTypes.size)} ${joinQuote(sortedSet(badTypes))}`);
    if (setUser) data.push('user may not be set');
    if (setRole) data.push('role may not be set');
    return deny(
      'seLinuxOptions',
      `${setters.join(' and ')} set forbidden securityContext.seLinuxOptions: ${data.join('; ')}`,
    );
  };
const SELINUX_1_0 = ['', 'container_t', 'container_init_t', 'container_kvm_t'];
const SELINUX_1_31 = [...SELINUX_1_0, 'container_engine_t'];

const validSeccomp = (t: unknown) => t === 'Localhost' || t === 'RuntimeDefault';
const validSeccompAnnotation = (v: string) =>
  v === 'runtime/default' || v === 'docker/default' || v.startsWith('localhost/');

/** Before 1.19 the seccomp profile was read from the alpha annotations. */
function seccompBaseline_1_0(meta: Obj, spec: Obj): CheckResult {
  const ann = (meta.annotations ?? {}) as Record<string, string>;
  const forbidden = new Set<string>();
  const podKey = 'seccomp.security.alpha.kubernetes.io/pod';
  if (podKey in ann && !validSeccompAnnotation(ann[podKey]!)) forbidden.add(`${podKey}=${JSON.stringify(ann[podKey])}`);
  visitContainers(spec, (c) => {
    const k = `container.seccomp.security.alpha.kubernetes.io/${c.name}`;
    if (k in ann && !validSeccompAnnotation(ann[k]!)) forbidden.add(`${k}=${JSON.stringify(ann[k])}`);
  });
  if (!forbidden.size) return OK;
  return deny(
    'seccompProfile',
    `forbidden ${pluralize('annotation', 'annotations', forbidden.size)} ${sortedSet(forbidden).join(', ')}`,
  );
}

/** The explicit bad values of seccompProfile.type (shared by the baseline and restricted checks). */
function seccompExplicit(spec: Obj): { setters: string[]; values: Set<string>; podValid: boolean; unset: string[] } {
  const setters: string[] = [];
  const values = new Set<string>();
  let podValid = false;
  const podProfile = spec.securityContext?.seccompProfile;
  if (podProfile) {
    if (!validSeccomp(podProfile.type)) {
      setters.push('pod');
      values.add(String(podProfile.type ?? ''));
    } else podValid = true;
  }
  const bad: string[] = [];
  const unset: string[] = [];
  visitContainers(spec, (c) => {
    const p = c.securityContext?.seccompProfile;
    if (p) {
      if (!validSeccomp(p.type)) {
        bad.push(c.name);
        values.add(String(p.type ?? ''));
      }
    } else unset.push(c.name);
  });
  if (bad.length) setters.push(containersPhrase(bad));
  return { setters, values, podValid, unset };
}

function seccompBaseline_1_19(_meta: Obj, spec: Obj): CheckResult {
  const { setters, values } = seccompExplicit(spec);
  if (!setters.length) return OK;
  return deny(
    'seccompProfile',
    `${setters.join(' and ')} must not set securityContext.seccompProfile.type to ${joinQuote(sortedSet(values))}`,
  );
}

function seccompRestricted_1_19(_meta: Obj, spec: Obj): CheckResult {
  const { setters, values, podValid, unset } = seccompExplicit(spec);
  if (setters.length)
    return deny(
      'seccompProfile',
      `${setters.join(' and ')} must not set securityContext.seccompProfile.type to ${joinQuote(sortedSet(values))}`,
    );
  if (!podValid && unset.length) {
    return deny(
      'seccompProfile',
      `pod or ${containersPhrase(unset)} must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost"`,
    );
  }
  return OK;
}

const SYSCTLS_1_0 = [
  'kernel.shm_rmid_forced',
  'net.ipv4.ip_local_port_range',
  'net.ipv4.tcp_syncookies',
  'net.ipv4.ping_group_range',
  'net.ipv4.ip_unprivileged_port_start',
];
const SYSCTLS_1_27 = [...SYSCTLS_1_0, 'net.ipv4.ip_local_reserved_ports'];
const SYSCTLS_1_29 = [
  ...SYSCTLS_1_27,
  'net.ipv4.tcp_keepalive_time',
  'net.ipv4.tcp_fin_timeout',
  'net.ipv4.tcp_keepalive_intvl',
  'net.ipv4.tcp_keepalive_probes',
];
const SYSCTLS_1_32 = [...SYSCTLS_1_29, 'net.ipv4.tcp_rmem', 'net.ipv4.tcp_wmem'];
const sysctls =
  (allowed: string[]): CheckFn =>
  (_meta, spec) => {
    const bad = (spec.securityContext?.sysctls ?? [])
      .map((s: Obj) => s.name as string)
      .filter((n: string) => !allowed.includes(n));
    return bad.length ? deny('forbidden sysctls', bad.join(', ')) : OK;
  };

function windowsHostProcess(_meta: Obj, spec: Obj): CheckResult {
  const bad: string[] = [];
  visitContainers(spec, (c) => {
    if (c.securityContext?.windowsOptions?.hostProcess === true) bad.push(c.name);
  });
  const setters: string[] = [];
  if (spec.securityContext?.windowsOptions?.hostProcess === true) setters.push('pod');
  if (bad.length) setters.push(containersPhrase(bad));
  return setters.length
    ? deny('hostProcess', `${setters.join(' and ')} must not set securityContext.windowsOptions.hostProcess=true`)
    : OK;
}

// ------------------------------------------------------------------ restricted

function allowPrivilegeEscalation(_meta: Obj, spec: Obj): CheckResult {
  const bad: string[] = [];
  visitContainers(spec, (c) => {
    if (c.securityContext?.allowPrivilegeEscalation !== false) bad.push(c.name);
  });
  return bad.length
    ? deny(
        'allowPrivilegeEscalation != false',
        `${containersPhrase(bad)} must set securityContext.allowPrivilegeEscalation=false`,
      )
    : OK;
}

function capabilitiesRestricted(_meta: Obj, spec: Obj): CheckResult {
  const missingDrop: string[] = [];
  const adding: string[] = [];
  const forbidden = new Set<string>();
  visitContainers(spec, (c) => {
    const caps = c.securityContext?.capabilities;
    if (!caps) {
      missingDrop.push(c.name);
      return;
    }
    if (!(caps.drop ?? []).includes('ALL')) missingDrop.push(c.name);
    const extra = (caps.add ?? []).filter((x: string) => !RESTRICTED_CAPABILITIES.includes(x));
    if (extra.length) {
      adding.push(c.name);
      for (const x of extra) forbidden.add(x);
    }
  });
  const details: string[] = [];
  if (missingDrop.length)
    details.push(`${containersPhrase(missingDrop)} must set securityContext.capabilities.drop=["ALL"]`);
  if (adding.length)
    details.push(
      `${containersPhrase(adding)} must not include ${joinQuote(sortedSet(forbidden))} in securityContext.capabilities.add`,
    );
  return details.length ? deny('unrestricted capabilities', details.join('; ')) : OK;
}

/** Inline volume sources the restricted level allows; anything else is named by its field. */
const ALLOWED_VOLUMES = [
  'configMap',
  'csi',
  'downwardAPI',
  'emptyDir',
  'ephemeral',
  'image',
  'persistentVolumeClaim',
  'projected',
  'secret',
];
const RESTRICTED_VOLUMES = [
  'hostPath',
  'gcePersistentDisk',
  'awsElasticBlockStore',
  'gitRepo',
  'nfs',
  'iscsi',
  'glusterfs',
  'rbd',
  'flexVolume',
  'cinder',
  'cephfs',
  'flocker',
  'fc',
  'azureFile',
  'vsphereVolume',
  'quobyte',
  'azureDisk',
  'photonPersistentDisk',
  'portworxVolume',
  'scaleIO',
  'storageos',
];

function restrictedVolumes(_meta: Obj, spec: Obj): CheckResult {
  const bad: string[] = [];
  const types = new Set<string>();
  for (const v of spec.volumes ?? []) {
    if (ALLOWED_VOLUMES.some((k) => v[k] != null)) continue;
    bad.push(v.name);
    types.add(RESTRICTED_VOLUMES.find((k) => v[k] != null) ?? 'unknown');
  }
  if (!bad.length) return OK;
  const list = sortedSet(types);
  return deny(
    'restricted volume types',
    `${pluralize('volume', 'volumes', bad.length)} ${joinQuote(bad)} ${pluralize('uses', 'use', bad.length)} ${pluralize('restricted volume type', 'restricted volume types', list.length)} ${joinQuote(list)}`,
  );
}

function runAsNonRoot(_meta: Obj, spec: Obj): CheckResult {
  const setters: string[] = [];
  let podNonRoot = false;
  const pod = spec.securityContext?.runAsNonRoot;
  if (pod === false) setters.push('pod');
  else if (pod === true) podNonRoot = true;
  const explicit: string[] = [];
  const implicit: string[] = [];
  visitContainers(spec, (c) => {
    const v = c.securityContext?.runAsNonRoot;
    if (v === false) explicit.push(c.name);
    else if (v == null && !podNonRoot) implicit.push(c.name);
  });
  if (explicit.length) setters.push(containersPhrase(explicit));
  if (setters.length)
    return deny('runAsNonRoot != true', `${setters.join(' and ')} must not set securityContext.runAsNonRoot=false`);
  if (implicit.length)
    return deny(
      'runAsNonRoot != true',
      `pod or ${containersPhrase(implicit)} must set securityContext.runAsNonRoot=true`,
    );
  return OK;
}

function runAsUser(_meta: Obj, spec: Obj): CheckResult {
  const setters: string[] = [];
  if (spec.securityContext?.runAsUser === 0) setters.push('pod');
  const bad: string[] = [];
  visitContainers(spec, (c) => {
    if (c.securityContext?.runAsUser === 0) bad.push(c.name);
  });
  if (bad.length) setters.push(containersPhrase(bad));
  return setters.length ? deny('runAsUser=0', `${setters.join(' and ')} must not set runAsUser=0`) : OK;
}

// ------------------------------------------------------------------ the table

export const CHECKS: readonly Check[] = [
  { id: 'appArmorProfile', level: 'baseline', versions: [{ minVersion: 0, check: appArmorProfile }] },
  { id: 'capabilities_baseline', level: 'baseline', versions: [{ minVersion: 0, check: capabilitiesBaseline }] },
  { id: 'hostNamespaces', level: 'baseline', versions: [{ minVersion: 0, check: hostNamespaces }] },
  { id: 'hostPathVolumes', level: 'baseline', versions: [{ minVersion: 0, check: hostPathVolumes }] },
  { id: 'hostPorts', level: 'baseline', versions: [{ minVersion: 0, check: hostPorts }] },
  { id: 'privileged', level: 'baseline', versions: [{ minVersion: 0, check: privileged }] },
  { id: 'procMount', level: 'baseline', versions: [{ minVersion: 0, check: procMount }] },
  {
    id: 'seLinuxOptions',
    level: 'baseline',
    versions: [
      { minVersion: 0, check: seLinuxOptions(SELINUX_1_0) },
      { minVersion: 31, check: seLinuxOptions(SELINUX_1_31) },
    ],
  },
  {
    id: 'seccompProfile_baseline',
    level: 'baseline',
    versions: [
      { minVersion: 0, check: seccompBaseline_1_0 },
      { minVersion: 19, check: seccompBaseline_1_19 },
    ],
  },
  {
    id: 'sysctls',
    level: 'baseline',
    versions: [
      { minVersion: 0, check: sysctls(SYSCTLS_1_0) },
      { minVersion: 27, check: sysctls(SYSCTLS_1_27) },
      { minVersion: 29, check: sysctls(SYSCTLS_1_29) },
      { minVersion: 32, check: sysctls(SYSCTLS_1_32) },
    ],
  },
  { id: 'windowsHostProcess', level: 'baseline', versions: [{ minVersion: 0, check: windowsHostProcess }] },
  {
    id: 'allowPrivilegeEscalation',
    level: 'restricted',
    versions: [
      { minVersion: 8, check: allowPrivilegeEscalation },
      { minVersion: 25, check: exemptWindows(allowPrivilegeEscalation) },
    ],
  },
  {
    id: 'capabilities_restricted',
    level: 'restricted',
    versions: [
      { minVersion: 22, check: capabilitiesRestricted, overrides: ['capabilities_baseline'] },
      { minVersion: 25, check: exemptWindows(capabilitiesRestricted), overrides: ['capabilities_baseline'] },
    ],
  },
  {
    id: 'restrictedVolumes',
    level: 'restricted',
    versions: [{ minVersion: 0, check: restrictedVolumes, overrides: ['hostPathVolumes'] }],
  },
  { id: 'runAsNonRoot', level: 'restricted', versions: [{ minVersion: 0, check: runAsNonRoot }] },
  { id: 'runAsUser', level: 'restricted', versions: [{ minVersion: 23, check: runAsUser }] },
  {
    id: 'seccompProfile_restricted',
    level: 'restricted',
    versions: [
      { minVersion: 19, check: seccompRestricted_1_19, overrides: ['seccompProfile_baseline'] },
      { minVersion: 25, check: exemptWindows(seccompRestricted_1_19), overrides: ['seccompProfile_baseline'] },
    ],
  },
];
