/**
 * @module sim/store/pod-security
 * Pod Security admission for namespaces labelled `pod-security.kubernetes.io/enforce`, as the
 * apiserver's built-in admission enforces it (kubernetes staging/src/k8s.io/pod-security-admission
 * policy/check_*.go): `baseline` refuses privileged containers, host namespaces and hostPath
 * volumes and capabilities beyond the default set; `restricted` adds non-root, no privilege
 * escalation, capabilities dropped (ALL; only NET_BIND_SERVICE may be added), a RuntimeDefault or
 * Localhost seccomp profile and the restricted volume types. Messages are the admission's
 * (`violates PodSecurity "restricted:latest": ...`).
 */
type Obj = Record<string, any>;

export const ENFORCE_LABEL = 'pod-security.kubernetes.io/enforce';

const BASELINE_CAPS = new Set(['AUDIT_WRITE', 'CHOWN', 'DAC_OVERRIDE', 'FOWNER', 'FSETID', 'KILL', 'MKNOD', 'NET_BIND_SERVICE', 'SETFCAP', 'SETGID', 'SETPCAP', 'SETUID', 'SYS_CHROOT']);
const RESTRICTED_VOLUMES = new Set(['configMap', 'csi', 'downwardAPI', 'emptyDir', 'ephemeral', 'persistentVolumeClaim', 'projected', 'secret']);

const list = (names: string[]) => names.map((n) => `"${n}"`).join(', ');
const plural = (names: string[], one: string, many: string) => (names.length === 1 ? one : many);

/** The violations of `level` ('baseline' | 'restricted') by a pod spec, in the admission's words. */
export function podSecurityViolations(level: string, pod: Obj): string[] {
  if (level !== 'baseline' && level !== 'restricted') return [];
  const spec: Obj = pod.spec ?? {};
  const psc: Obj = spec.securityContext ?? {};
  const containers: Obj[] = [...(spec.initContainers ?? []), ...(spec.containers ?? []), ...(spec.ephemeralContainers ?? [])];
  const out: string[] = [];
  const named = (f: (c: Obj) => boolean) => containers.filter(f).map((c) => String(c.name));
  const priv = named((c) => c.securityContext?.privileged === true);
  if (priv.length) out.push(`privileged (${plural(priv, 'container', 'containers')} ${list(priv)} must not set securityContext.privileged=true)`);
  if (spec.hostNetwork || spec.hostPID || spec.hostIPC) out.push('host namespaces (hostNetwork=true, hostPID=true or hostIPC=true must not be set)');
  const hostPath = (spec.volumes ?? []).filter((v: Obj) => v.hostPath).map((v: Obj) => String(v.name));
  if (hostPath.length) out.push(`hostPath volumes (${plural(hostPath, 'volume', 'volumes')} ${list(hostPath)})`);
  const caps = named((c) => (c.securityContext?.capabilities?.add ?? []).some((x: string) => !BASELINE_CAPS.has(String(x).replace(/^CAP_/, ''))));
  if (caps.length) out.push(`non-default capabilities (${plural(caps, 'container', 'containers')} ${list(caps)} must not include capabilities beyond the default set)`);
  if (level === 'baseline') return out;
  const volumes = (spec.volumes ?? []).filter((v: Obj) => !Object.keys(v).some((k) => RESTRICTED_VOLUMES.has(k)) && !v.hostPath).map((v: Obj) => String(v.name));
  if (volumes.length) out.push(`restricted volume types (${plural(volumes, 'volume', 'volumes')} ${list(volumes)} use restricted volume types)`);
  const escalation = named((c) => c.securityContext?.allowPrivilegeEscalation !== false);
  if (escalation.length) out.push(`allowPrivilegeEscalation != false (${plural(escalation, 'container', 'containers')} ${list(escalation)} must set securityContext.allowPrivilegeEscalation=false)`);
  const unrestricted = named((c) => !(c.securityContext?.capabilities?.drop ?? []).some((x: string) => String(x).toUpperCase() === 'ALL') || (c.securityContext?.capabilities?.add ?? []).some((x: string) => String(x).replace(/^CAP_/, '') !== 'NET_BIND_SERVICE'));
  if (unrestricted.length) out.push(`unrestricted capabilities (${plural(unrestricted, 'container', 'containers')} ${list(unrestricted)} must set securityContext.capabilities.drop=["ALL"])`);
  const nonRoot = psc.runAsNonRoot === true ? named((c) => c.securityContext?.runAsNonRoot === false) : named((c) => c.securityContext?.runAsNonRoot !== true);
  if (nonRoot.length) out.push(`runAsNonRoot != true (pod or ${plural(nonRoot, 'container', 'containers')} ${list(nonRoot)} must set securityContext.runAsNonRoot=true)`);
  const root = named((c) => (c.securityContext?.runAsUser ?? psc.runAsUser) === 0);
  if (root.length) out.push(`runAsUser=0 (${plural(root, 'container', 'containers')} ${list(root)} must not set runAsUser=0)`);
  const okProfile = (p: Obj | undefined) => p?.type === 'RuntimeDefault' || p?.type === 'Localhost';
  const seccomp = named((c) => !okProfile(c.securityContext?.seccompProfile) && !(okProfile(psc.seccompProfile) && c.securityContext?.seccompProfile === undefined));
  if (seccomp.length) out.push(`seccompProfile (pod or ${plural(seccomp, 'container', 'containers')} ${list(seccomp)} must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost")`);
  return out;
}
