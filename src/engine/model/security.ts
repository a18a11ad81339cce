/**
 * @module engine/model/security
 * The securityContext every Pod kuber-api makes gets (pure). Docker's defaults, stated explicitly
 * so that they pass the namespace's Pod Security level and do not depend on the container
 * runtime's own defaults:
 * - capabilities: `drop: ["ALL"]`, then `add` = Docker's default set (moby oci/caps/defaults.go
 *   DefaultCapabilities) + CapAdd - CapDrop. Default capabilities the level does not allow are left
 *   out (NET_RAW under `baseline`, all but NET_BIND_SERVICE under `restricted`); an explicit
 *   `--cap-add` the level does not allow is kept, so that the policy check refuses it by name.
 * - `allowPrivilegeEscalation: false` (no setuid gains), unless `--privileged`.
 * - `seccompProfile: RuntimeDefault` on the Pod (dockerd's default profile is its seccomp default).
 * - `restricted`: `runAsNonRoot: true` (the kubelet refuses an image that would run as root).
 * Helpers (init containers, inspectors) get the same, and run as a non-root user.
 */
import { BASELINE_CAPABILITIES, RESTRICTED_CAPABILITIES, type Level } from '../../kube/pod-security/index.js';
import type { V1PodSecurityContext, V1SecurityContext, V1Sysctl } from '@kubernetes/client-node';

/** moby oci/caps/defaults.go DefaultCapabilities. */
export const DOCKER_DEFAULT_CAPS: readonly string[] = [
  'CHOWN',
  'DAC_OVERRIDE',
  'FSETID',
  'FOWNER',
  'MKNOD',
  'NET_RAW',
  'SETGID',
  'SETUID',
  'SETFCAP',
  'SETPCAP',
  'NET_BIND_SERVICE',
  'SYS_CHROOT',
  'KILL',
  'AUDIT_WRITE',
];

/** Sysctls every Pod Security level allows (check_sysctls.go, policy v1.32): they are namespaced and safe. */
export const SAFE_SYSCTLS: readonly string[] = [
  'kernel.shm_rmid_forced',
  'net.ipv4.ip_local_port_range',
  'net.ipv4.tcp_syncookies',
  'net.ipv4.ping_group_range',
  'net.ipv4.ip_unprivileged_port_start',
  'net.ipv4.ip_local_reserved_ports',
  'net.ipv4.tcp_keepalive_time',
  'net.ipv4.tcp_fin_timeout',
  'net.ipv4.tcp_keepalive_intvl',
  'net.ipv4.tcp_keepalive_probes',
  'net.ipv4.tcp_rmem',
  'net.ipv4.tcp_wmem',
];

/** The uid helpers run as: `nobody` in busybox and most images. */
export const HELPER_UID = 65534;

export const allowedCaps = (level: Level): readonly string[] | undefined =>
  level === 'privileged' ? undefined : level === 'baseline' ? BASELINE_CAPABILITIES : RESTRICTED_CAPABILITIES;

const capName = (x: unknown) => String(x).toUpperCase().replace(/^CAP_/, '');

/** Docker's capability set for a container, as a Kubernetes drop-ALL-then-add list (see the module comment). */
export function capabilitiesFor(level: Level, capAdd: unknown, capDrop: unknown): { drop: string[]; add: string[] } {
  const add = Array.isArray(capAdd) ? capAdd.map(capName) : [];
  const drop = Array.isArray(capDrop) ? capDrop.map(capName) : [];
  const allowed = allowedCaps(level);
  let set = drop.includes('ALL')
    ? []
    : DOCKER_DEFAULT_CAPS.filter((c) => !drop.includes(c) && (!allowed || allowed.includes(c)));
  if (add.includes('ALL')) set = [...new Set([...set, 'ALL'])];
  for (const c of add) if (c !== 'ALL' && !set.includes(c)) set.push(c);
  return { drop: ['ALL'], add: set };
}

export interface ContainerSecurityInput {
  level: Level;
  privileged?: boolean;
  capAdd?: unknown;
  capDrop?: unknown;
  readOnlyRootFilesystem?: boolean;
  uid?: number;
  gid?: number;
}

/** The securityContext of a user container (see the module comment). */
export function containerSecurityContext(i: ContainerSecurityInput): V1SecurityContext {
  const sc: V1SecurityContext = {};
  if (i.uid !== undefined) sc.runAsUser = i.uid;
  if (i.gid !== undefined) sc.runAsGroup = i.gid;
  if (i.privileged) sc.privileged = true;
  else {
    sc.allowPrivilegeEscalation = false;
    sc.capabilities = capabilitiesFor(i.level, i.capAdd, i.capDrop);
  }
  if (i.level === 'restricted') sc.runAsNonRoot = true;
  if (i.readOnlyRootFilesystem) sc.readOnlyRootFilesystem = true;
  return sc;
}

/**
 * A helper container's securityContext. Non-root by default; `root` keeps CHOWN/DAC_OVERRIDE/
 * FOWNER only (what extracting an archive with its owners, or reading any file for `docker cp`,
 * needs), and is asked for only where the level allows root (not `restricted`).
 */
export function helperSecurityContext(level: Level, asRoot: boolean, uid = HELPER_UID): V1SecurityContext {
  const root = asRoot && level !== 'restricted';
  return {
    allowPrivilegeEscalation: false,
    capabilities: { drop: ['ALL'], ...(root ? { add: ['CHOWN', 'DAC_OVERRIDE', 'FOWNER', 'FSETID'] } : {}) },
    runAsUser: root ? 0 : uid,
    runAsGroup: root ? 0 : uid,
    ...(root ? {} : { runAsNonRoot: true }),
  };
}

/** The Pod-level securityContext: seccomp RuntimeDefault, and the safe sysctls of `--sysctl`. */
export function podSecurityContext(sysctls: Record<string, string> | null | undefined): V1PodSecurityContext {
  const safe: V1Sysctl[] = Object.entries(sysctls ?? {})
    .filter(([k]) => SAFE_SYSCTLS.includes(k))
    .map(([name, value]) => ({ name, value: String(value) }));
  return { seccompProfile: { type: 'RuntimeDefault' }, ...(safe.length ? { sysctls: safe } : {}) };
}

/** Create-time warnings for what has no Kubernetes equivalent (dockerd's `Warnings` of POST /containers/create). */
export function unmappedWarnings(hc: Record<string, any>): string[] {
  const w: string[] = [];
  if (Array.isArray(hc.SecurityOpt) && hc.SecurityOpt.length)
    w.push(
      `kuber-api: --security-opt ${hc.SecurityOpt.join(', ')} has no Pod equivalent and is ignored (Pods run with seccomp RuntimeDefault and allowPrivilegeEscalation=false)`,
    );
  const unsafe = Object.keys(hc.Sysctls ?? {}).filter((k) => !SAFE_SYSCTLS.includes(k));
  if (unsafe.length)
    w.push(
      `kuber-api: --sysctl ${unsafe.join(', ')} ignored: only the namespaced safe sysctls (${SAFE_SYSCTLS.join(', ')}) are set on the Pod`,
    );
  if (Array.isArray(hc.Ulimits) && hc.Ulimits.length)
    w.push(
      `kuber-api: --ulimit ${hc.Ulimits.map((u: { Name?: string }) => u.Name).join(', ')} ignored: Kubernetes has no per-Pod rlimits (the node's runtime defaults apply)`,
    );
  if (typeof hc.PidsLimit === 'number' && hc.PidsLimit > 0)
    w.push('kuber-api: --pids-limit ignored: the PID limit is a node setting (kubelet podPidsLimit)');
  if (Array.isArray(hc.Devices) && hc.Devices.length && !hc.Privileged)
    w.push(
      'kuber-api: --device becomes a hostPath mount of the device node; its cgroup permissions (rwm) have no Pod equivalent, and without --privileged the runtime may deny access',
    );
  return w;
}
