/**
 * @module engine/model/translate
 * Docker create body -> Pod (pure). `validateCreate` runs at `docker create` time, so a body that
 * cannot run on Kubernetes fails there with a clear message (as moby validates at create);
 * `buildPod` runs at each `docker start` and makes the Pod of one run.
 *
 * Mapping (moby api/types/container Config/HostConfig -> core/v1 Pod):
 * - Entrypoint -> command, Cmd -> args (Kubernetes has Docker's rules: a command replaces the
 *   image's ENTRYPOINT and drops its CMD; args alone keep the ENTRYPOINT). An explicitly empty
 *   Entrypoint (`--entrypoint ""`) runs Cmd as the command. Neither set: the image's defaults.
 * - Env, WorkingDir; User `uid[:gid]` (or `root`; names are resolved first by engine/users) -> securityContext runAsUser/runAsGroup.
 * - Labels -> only the `kuber-api.io/docker-labels` annotation, verbatim. Never Pod labels: a Pod
 *   label can enter selectors kuber-api does not own (a Service's endpoints, a NetworkPolicy's
 *   podSelector, the operator's job selector), so `--label app=db` would let a container take
 *   another workload's traffic or policy. Filters (`docker ps --filter label=`) read the record.
 * - Security (engine/model/security.ts): Docker's default capabilities as drop-ALL-then-add,
 *   allowPrivilegeEscalation=false, seccomp RuntimeDefault, ReadonlyRootfs -> readOnlyRootFilesystem,
 *   the safe Sysctls; PidMode/IpcMode `host` -> hostPID/hostIPC and Devices -> hostPath volumes,
 *   which the Pod Security check (engine/security) refuses unless the namespace and flags allow.
 * - Tty/OpenStdin/StdinOnce -> tty/stdin/stdinOnce.
 * - Memory -> limits.memory, MemoryReservation -> requests.memory, NanoCpus/CpuQuota -> limits.cpu,
 *   CpuShares -> requests.cpu (shares/1024 CPUs); requests are clamped to limits.
 * - ExtraHosts -> hostAliases; Hostname -> spec.hostname (default: the short ID, as Docker does).
 * - Tmpfs and ShmSize -> memory-backed emptyDirs (size limits kept, mount options not).
 * - Healthcheck -> a readiness probe (State.Health is derived from it: engine/model/state.ts).
 * - StopSignal other than SIGTERM -> a preStop `kill -<SIG> 1`, so that Kubernetes-initiated
 *   terminations (eviction, GC) send the container's stop signal too.
 * - restartPolicy Never: Docker restart policies are applied by the engine, one Pod per run.
 * - terminationGracePeriodSeconds is the engine's kill grace (default 2 s, the kubelet's minimum):
 *   `docker stop -t N` is carried out by the engine (stop signal, then after N seconds the kubelet
 *   kills through activeDeadlineSeconds), so N need not be frozen into the Pod.
 */
import { invalid, notImplemented } from '../../errors.js';
import type { CreateBody, HealthConfig } from './types.js';
import { shortId } from './ids.js';
import {
  ANN_ID,
  ANN_LABELS,
  ANN_NAME,
  ANN_RUN,
  ANN_STOP_SIGNAL,
  LABEL_CONTAINER,
  LABEL_INSTANCE,
  LABEL_KIND,
  LABEL_MANAGED_BY,
} from './record.js';
import { signalNumber, signalName } from './signals.js';
import { containerSecurityContext, podSecurityContext, unmappedWarnings } from './security.js';
import type { Level } from '../../kube/pod-security/index.js';
import { applyPodSettings, type PodSettings } from './pod-settings.js';
import type {
  V1Affinity,
  V1Container,
  V1ObjectMeta,
  V1Pod,
  V1PodSpec,
  V1Probe,
  V1ResourceRequirements,
  V1SecurityContext,
  V1Volume,
  V1VolumeMount,
} from '@kubernetes/client-node';
import { recordOwnerRef } from './owner.js';

/** The one container of every Pod we create. */
export const CONTAINER_NAME = 'main';

export interface PodContext {
  namespace: string;
  instance: string;
  /** The record ConfigMap that owns the Pod (GC deletes the Pod with it). */
  owner: { name: string; uid: string };
  /** terminationGracePeriodSeconds of every Pod. */
  killGraceSeconds: number;
  imagePullPolicy: 'IfNotPresent' | 'Always' | 'Never';
  /** Service account token in containers: off by default (a Docker container has none). */
  automountServiceAccountToken: boolean;
  /** The address `host-gateway` in ExtraHosts stands for (kuber-api's own pod IP), if known. */
  hostGatewayIp?: string;
  /** The instance's registry credentials Secret (engine/images/registry/credentials.ts), once there is one. */
  imagePullSecret?: string;
  /** The Pod Security level the Pod must pass (engine/security): it shapes the securityContext. */
  securityLevel?: Level;
  /** Cluster settings laid into every container Pod (engine/model/pod-settings.ts). */
  settings?: PodSettings;

  /** While kuber-api's embedded DNS serves (engine/dns): the Pod's dnsConfig under `dnsPolicy: None`. */
  dns?: { nameservers: string[]; searches: string[]; options: Array<{ name: string; value?: string }> };
}

const NS = 1e9;
const DOCKER_HEALTH_DEFAULTS = { interval: 30, timeout: 30, retries: 3 };

/** Docker's string-or-array fields (Cmd, Entrypoint) as arrays; a string is one shell-less argv[0]. */
export function argv(v: string[] | string | null | undefined): string[] | undefined {
  if (v === null || v === undefined) return undefined;
  return Array.isArray(v) ? v : [v];
}

/**
 * `uid[:gid]` -> numbers. `root` is uid/gid 0. Other names are left out here: engine/users resolves
 * them from the image's /etc/passwd and /etc/group before the Pod is built (a Pod's securityContext
 * takes numbers only), and an image's own named USER it could not resolve is left to the runtime.
 */
export function parseUser(user: string | undefined): { uid?: number; gid?: number } {
  if (!user) return {};
  const [u, g] = user.split(':', 2) as [string, string | undefined];
  const num = (s: string, what: string) => {
    if (s === 'root') return 0;
    if (/^\d+$/.test(s)) return Number(s);
    if (/^[A-Za-z0-9_.][A-Za-z0-9_.-]*\$?$/.test(s)) return undefined; // a name: engine/users
    throw invalid(`invalid ${what} "${s}" in user "${user}"`);
  };
  const uid = u === '' ? undefined : num(u, 'user name');
  const gid = g === undefined || g === '' ? undefined : num(g, 'group name');
  return { ...(uid !== undefined ? { uid } : {}), ...(gid !== undefined ? { gid } : {}) };
}

/** A user that needs no lookup: empty, numeric, or root (`uid[:gid]`). */
export function isNumericUser(user: string | undefined): boolean {
  return !user || user.split(':', 2).every((p) => p === '' || p === 'root' || /^\d+$/.test(p));
}

/** Tmpfs options `rw,size=64m,mode=1777` -> the size in bytes (the rest has no emptyDir equivalent). */
export function tmpfsSize(opts: string): number | undefined {
  const m = /(?:^|,)size=(\d+)([kmgKMG%]?)(?:,|$)/.exec(opts);
  if (!m) return undefined;
  if (m[2] === '%') return undefined;
  const mult = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[m[2]!.toLowerCase() as '' | 'k' | 'm' | 'g'];
  return Number(m[1]) * mult;
}

/** ExtraHosts `name:ip` (or `name=ip`) grouped by IP into hostAliases. */
export function hostAliases(
  extra: string[] | null | undefined,
  gatewayIp?: string,
): Array<{ ip: string; hostnames: string[] }> {
  const byIp = new Map<string, string[]>();
  for (const e of extra ?? []) {
    const sep = e.includes('=') ? e.indexOf('=') : e.indexOf(':');
    if (sep <= 0) throw invalid(`invalid extra host entry "${e}": expected hostname:IP`);
    const host = e.slice(0, sep);
    let ip = e.slice(sep + 1).replace(/^\[|\]$/g, '');
    if (ip === 'host-gateway') {
      if (!gatewayIp)
        throw notImplemented(
          `extra host "${e}": host-gateway has no address on Kubernetes unless kuber-api knows its own pod IP (POD_IP)`,
        );
      ip = gatewayIp;
    }
    if (!/^[0-9.]+$/.test(ip) && !ip.includes(':')) throw invalid(`invalid IP address in add-host: "${ip}"`);
    byIp.set(ip, [...(byIp.get(ip) ?? []), host]);
  }
  return [...byIp].map(([ip, hostnames]) => ({ ip, hostnames }));
}

/** Healthcheck -> exec readiness probe; undefined for none/NONE/inherit (image healthchecks are not read). */
export function readinessProbe(h: HealthConfig | null | undefined): V1Probe | undefined {
  const test = h?.Test;
  if (!test || test.length === 0 || test[0] === 'NONE') return undefined; // [] inherits the image's: unknown here
  let command: string[];
  if (test[0] === 'CMD') command = test.slice(1);
  else if (test[0] === 'CMD-SHELL') command = ['/bin/sh', '-c', test.slice(1).join(' ')];
  else throw invalid(`unknown healthcheck type "${test[0]}" (use CMD, CMD-SHELL or NONE)`);
  if (command.length === 0) throw invalid('healthcheck has no command');
  const secs = (ns: number | undefined, def: number) => Math.max(1, Math.round(ns && ns > 0 ? ns / NS : def));
  return {
    exec: { command },
    periodSeconds: secs(h!.Interval, DOCKER_HEALTH_DEFAULTS.interval),
    timeoutSeconds: secs(h!.Timeout, DOCKER_HEALTH_DEFAULTS.timeout),
    failureThreshold: h!.Retries && h!.Retries > 0 ? h!.Retries : DOCKER_HEALTH_DEFAULTS.retries,
    successThreshold: 1,
    initialDelaySeconds: 0,
  };
}

/** Docker health timing in seconds (for the derived State.Health). */
export function healthTiming(h: HealthConfig | null | undefined): {
  interval: number;
  retries: number;
  startPeriod: number;
} {
  return {
    interval: h?.Interval && h.Interval > 0 ? h.Interval / NS : DOCKER_HEALTH_DEFAULTS.interval,
    retries: h?.Retries && h.Retries > 0 ? h.Retries : DOCKER_HEALTH_DEFAULTS.retries,
    startPeriod: h?.StartPeriod && h.StartPeriod > 0 ? h.StartPeriod / NS : 0,
  };
}

function resources(hc: CreateBody['HostConfig']): V1ResourceRequirements | undefined {
  if (!hc) return undefined;
  const limits: Record<string, string> = {};
  const requests: Record<string, string> = {};
  let cpuLimitM: number | undefined;
  if (hc.NanoCpus && hc.NanoCpus > 0) cpuLimitM = Math.ceil(hc.NanoCpus / 1e6);
  else if (hc.CpuQuota && hc.CpuQuota > 0)
    cpuLimitM = Math.ceil((hc.CpuQuota / (hc.CpuPeriod && hc.CpuPeriod > 0 ? hc.CpuPeriod : 100_000)) * 1000);
  if (cpuLimitM !== undefined) limits.cpu = `${cpuLimitM}m`;
  if (hc.CpuShares && hc.CpuShares > 0) {
    let m = Math.max(1, Math.round((hc.CpuShares * 1000) / 1024));
    if (cpuLimitM !== undefined) m = Math.min(m, cpuLimitM);
    requests.cpu = `${m}m`;
  }
  if (hc.Memory && hc.Memory > 0) limits.memory = String(hc.Memory);
  if (hc.MemoryReservation && hc.MemoryReservation > 0)
    requests.memory = String(Math.min(hc.MemoryReservation, hc.Memory && hc.Memory > 0 ? hc.Memory : Infinity));
  if (!Object.keys(limits).length && !Object.keys(requests).length) return undefined;
  return { ...(Object.keys(limits).length ? { limits } : {}), ...(Object.keys(requests).length ? { requests } : {}) };
}

const VALID_POLICIES = ['', 'no', 'always', 'unless-stopped', 'on-failure'];

/**
 * Check a create body at `docker create` (moby daemon/container.go verifyContainerSettings).
 * Returns Docker's `Warnings` for what is accepted but has no effect on Kubernetes.
 */
export function validateCreate(body: CreateBody): string[] {
  const warnings: string[] = [];
  if (!body.Image) throw invalid('config.Image must be specified');
  const hc = body.HostConfig ?? {};
  const rp = hc.RestartPolicy ?? {};
  const policy = rp.Name ?? '';
  if (!VALID_POLICIES.includes(policy))
    throw invalid(
      `invalid restart policy: unknown policy '${policy}'; use one of 'no', 'always', 'on-failure', or 'unless-stopped'`,
    );
  if (policy !== 'on-failure' && (rp.MaximumRetryCount ?? 0) !== 0)
    throw invalid(`invalid restart policy: maximum retry count can only be used with 'on-failure'`);
  if ((rp.MaximumRetryCount ?? 0) < 0) throw invalid('invalid restart policy: maximum retry count cannot be negative');
  if (hc.AutoRemove && policy !== '' && policy !== 'no')
    throw invalid(`can't create 'AutoRemove' container with restart policy`);
  parseUser(body.User);
  if (body.StopSignal && signalNumber(body.StopSignal) === undefined)
    throw invalid(`Invalid signal: ${body.StopSignal}`);
  if (body.StopTimeout !== undefined && body.StopTimeout !== null && body.StopTimeout < -1)
    throw invalid(`invalid stop timeout ${body.StopTimeout}`);
  hostAliases(hc.ExtraHosts?.filter((e) => !e.endsWith('host-gateway')));
  readinessProbe(body.Healthcheck);
  if (body.Hostname && !/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(body.Hostname.toLowerCase().split('.')[0]!))
    throw invalid(`invalid hostname "${body.Hostname}": Kubernetes needs an RFC 1123 label`);
  if (hc.Init) warnings.push('kuber-api: --init has no Kubernetes equivalent; the command runs as PID 1');
  if (body.Domainname) warnings.push('kuber-api: Domainname is ignored on Kubernetes');
  warnings.push(...unmappedWarnings(hc));
  return warnings;
}

/** What a container's storage adds to its Pod (engine/volumes/volume-pod.ts computes it). */
export interface PodStorage {
  volumes: V1Volume[];
  /** volumeMounts of the main container. */
  mounts: V1VolumeMount[];
  initContainers: V1Container[];
  /** Pod labels (one per single-node claim: the pod-affinity key of its users). */
  labels?: Record<string, string>;
  affinity?: V1Affinity;
  /** Containers beside the main one (the writable binds' copy-back sidecar, engine/volumes/bind-sync.ts). */
  sidecars?: V1Container[];
}

export interface PodInput {
  id: string;
  name: string;
  config: CreateBody;
  run: number;
  podName: string;
  /** Volumes, mounts and init containers of the container's storage (engine/volumes/volume-pod.ts). */
  storage?: PodStorage;
}

/** The Pod buildPod makes: client-node's V1Pod with what it always sets made required. */
export type BuiltPod = V1Pod & {
  metadata: V1ObjectMeta & { name: string; labels: Record<string, string>; annotations: Record<string, string> };
  spec: V1PodSpec & { containers: [V1Container] };
};

/** The Pod of run `run` of a container. Pure: same input, same Pod. */
export function buildPod(ctx: PodContext, c: PodInput): BuiltPod {
  const cfg = c.config;
  const hc = cfg.HostConfig ?? {};
  const container = mainContainer(ctx, cfg);
  const stopSignal = cfg.StopSignal ? signalName(cfg.StopSignal) : undefined;
  if (stopSignal && stopSignal !== 'SIGTERM')
    container.lifecycle = { preStop: { exec: { command: ['/bin/sh', '-c', `kill -${signalNumber(stopSignal)} 1`] } } };
  const { volumes, mounts } = podVolumes(hc, c.storage);
  if (mounts.length) container.volumeMounts = mounts;
  const aliases = hostAliases(hc.ExtraHosts, ctx.hostGatewayIp);
  const initContainers = c.storage?.initContainers ?? [];
  const devices = deviceVolumes(hc);
  volumes.push(...devices.volumes);
  if (devices.mounts.length) container.volumeMounts = [...(container.volumeMounts ?? []), ...devices.mounts];
  const pod: BuiltPod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: podMetadata(ctx, c, stopSignal),
    spec: {
      restartPolicy: 'Never',
      terminationGracePeriodSeconds: ctx.killGraceSeconds,
      hostname: cfg.Hostname ? cfg.Hostname.toLowerCase().split('.')[0]! : shortId(c.id),
      enableServiceLinks: false, // no FOO_SERVICE_HOST variables: a Docker container has none
      automountServiceAccountToken: ctx.automountServiceAccountToken,
      securityContext: podSecurityContext(hc.Sysctls as Record<string, string> | undefined),
      ...(hc['PidMode'] === 'host' ? { hostPID: true } : {}),
      ...(hc['IpcMode'] === 'host' ? { hostIPC: true } : {}),
      ...(aliases.length ? { hostAliases: aliases } : {}),
      ...(ctx.dns ? podDns(ctx.dns, hc) : {}),
      ...(ctx.imagePullSecret ? { imagePullSecrets: [{ name: ctx.imagePullSecret }] } : {}),
      ...(volumes.length ? { volumes } : {}),
      ...(initContainers.length ? { initContainers } : {}),
      containers: [container],
    },
  };
  return ctx.settings ? applyPodSettings(pod, ctx.settings) : pod;
}

/** The requests/limits Docker's flags give a container (for the --pod-max-limits check at create). */
export const containerResources = (cfg: CreateBody): V1ResourceRequirements | undefined => resources(cfg.HostConfig);

/**
 * `dnsPolicy: None` with kuber-api as the one nameserver (as dockerd points a container on a
 * user-defined network at 127.0.0.11); `--dns-search` and `--dns-option` are added to the search
 * list and options kept from the cluster, as dockerd writes them into resolv.conf (moby
 * daemon/libnetwork/sandbox_dns_unix.go). `--dns` servers are not the Pod's: the nameserver must
 * stay kuber-api for Docker names to resolve, and kuber-api forwards the container's other queries
 * to them (engine/dns/names.ts upstreamOf), as dockerd's resolver does.
 */
function podDns(
  dns: NonNullable<PodContext['dns']>,
  hc: NonNullable<CreateBody['HostConfig']>,
): Pick<V1PodSpec, 'dnsPolicy' | 'dnsConfig'> {
  const searches = [...new Set([...((hc.DnsSearch as string[] | null | undefined) ?? []), ...dns.searches])].slice(
    0,
    32,
  );
  const options = [...dns.options];
  for (const o of (hc.DnsOptions as string[] | null | undefined) ?? []) {
    const i = o.indexOf(':');
    const opt = i < 0 ? { name: o } : { name: o.slice(0, i), value: o.slice(i + 1) };
    const at = options.findIndex((x) => x.name === opt.name);
    if (at >= 0) options[at] = opt;
    else options.push(opt);
  }
  return { dnsPolicy: 'None', dnsConfig: { nameservers: [...dns.nameservers], searches, options } };
}

/** Entrypoint/Cmd -> command/args, with Docker's rules (see the module comment). */
function commandOf(cfg: CreateBody): Pick<V1Container, 'command' | 'args'> {
  const entrypoint = argv(cfg.Entrypoint);
  const cmd = argv(cfg.Cmd);
  if (entrypoint && (entrypoint.length === 0 || (entrypoint.length === 1 && entrypoint[0] === ''))) {
    return cmd?.length ? { command: cmd } : {}; // `--entrypoint ""`: Cmd is the whole command line
  }
  if (entrypoint) return { command: entrypoint, ...(cmd?.length ? { args: cmd } : {}) };
  return cmd?.length ? { args: cmd } : {};
}

/** The one container of the Pod, without its mounts and stop hook. */
function mainContainer(ctx: PodContext, cfg: CreateBody): V1Container {
  const hc = cfg.HostConfig ?? {};
  const container: V1Container = {
    name: CONTAINER_NAME,
    image: cfg.Image,
    imagePullPolicy: ctx.imagePullPolicy,
    ...commandOf(cfg),
  };
  const env = (cfg.Env ?? [])
    .filter((e) => e.includes('='))
    .map((e) => ({ name: e.slice(0, e.indexOf('=')), value: e.slice(e.indexOf('=') + 1) }));
  if (env.length) container.env = env;
  if (cfg.WorkingDir) container.workingDir = cfg.WorkingDir;
  if (cfg.Tty) container.tty = true;
  if (cfg.OpenStdin) container.stdin = true;
  if (cfg.OpenStdin && cfg.StdinOnce) container.stdinOnce = true;
  const res = resources(hc);
  if (res) container.resources = res;
  container.securityContext = securityContext(ctx, cfg);
  const ports = Object.keys(cfg.ExposedPorts ?? {})
    .map((p) => {
      const [num, proto] = p.split('/') as [string, string | undefined];
      return { containerPort: Number(num), protocol: (proto ?? 'tcp').toUpperCase() };
    })
    .filter((p) => p.containerPort > 0 && p.containerPort < 65536 && ['TCP', 'UDP', 'SCTP'].includes(p.protocol));
  if (ports.length) container.ports = ports;
  const probe = readinessProbe(cfg.Healthcheck);
  if (probe) container.readinessProbe = probe;
  return container;
}

/** User `uid[:gid]`, Privileged, CapAdd/CapDrop, ReadonlyRootfs at the Pod's level (engine/model/security.ts). */
function securityContext(ctx: PodContext, cfg: CreateBody): V1SecurityContext {
  const hc = cfg.HostConfig ?? {};
  const { uid, gid } = parseUser(cfg.User);
  return containerSecurityContext({
    level: ctx.securityLevel ?? 'baseline',
    privileged: !!hc.Privileged,
    capAdd: hc['CapAdd'],
    capDrop: hc['CapDrop'],
    readOnlyRootFilesystem: !!hc['ReadonlyRootfs'],
    ...(uid !== undefined ? { uid } : {}),
    ...(gid !== undefined ? { gid } : {}),
  });
}

/** `--device /dev/x[:/dev/y]` -> a hostPath volume of the device (Pod Security baseline forbids it: only privileged namespaces). */
function deviceVolumes(hc: NonNullable<CreateBody['HostConfig']>): { volumes: V1Volume[]; mounts: V1VolumeMount[] } {
  const devices = Array.isArray(hc['Devices'])
    ? (hc['Devices'] as Array<{ PathOnHost?: string; PathInContainer?: string }>)
    : [];
  const volumes: V1Volume[] = [];
  const mounts: V1VolumeMount[] = [];
  devices.forEach((d, i) => {
    if (!d.PathOnHost) return;
    volumes.push({ name: `kapi-dev-${i}`, hostPath: { path: d.PathOnHost } });
    mounts.push({ name: `kapi-dev-${i}`, mountPath: d.PathInContainer || d.PathOnHost });
  });
  return { volumes, mounts };
}

/** Tmpfs and ShmSize as memory-backed emptyDirs, then the container's storage. */
function podVolumes(
  hc: NonNullable<CreateBody['HostConfig']>,
  storage: PodStorage | undefined,
): { volumes: V1Volume[]; mounts: V1VolumeMount[] } {
  const volumes: V1Volume[] = [];
  const mounts: V1VolumeMount[] = [];
  Object.entries(hc.Tmpfs ?? {}).forEach(([path, opts], i) => {
    const size = tmpfsSize(opts ?? '');
    volumes.push({
      name: `kapi-tmpfs-${i}`,
      emptyDir: { medium: 'Memory', ...(size ? { sizeLimit: String(size) } : {}) },
    });
    mounts.push({ name: `kapi-tmpfs-${i}`, mountPath: path });
  });
  if (hc.ShmSize && hc.ShmSize > 0) {
    volumes.push({ name: 'kapi-shm', emptyDir: { medium: 'Memory', sizeLimit: String(hc.ShmSize) } });
    mounts.push({ name: 'kapi-shm', mountPath: '/dev/shm' });
  }
  if (storage) {
    volumes.push(...storage.volumes);
    mounts.push(...storage.mounts);
  }
  return { volumes, mounts };
}

/** Labels (ours, and the Docker labels that are valid label keys), annotations, the owner record. */
function podMetadata(ctx: PodContext, c: PodInput, stopSignal: string | undefined): BuiltPod['metadata'] {
  const dockerLabels = c.config.Labels ?? {};
  const annotations: Record<string, string> = {
    [ANN_ID]: c.id,
    [ANN_NAME]: c.name,
    [ANN_RUN]: String(c.run),
    [ANN_LABELS]: JSON.stringify(dockerLabels),
  };
  if (stopSignal) annotations[ANN_STOP_SIGNAL] = stopSignal;
  return {
    name: c.podName,
    namespace: ctx.namespace,
    labels: {
      [LABEL_INSTANCE]: ctx.instance,
      [LABEL_KIND]: 'container',
      [LABEL_CONTAINER]: shortId(c.id),
      [LABEL_MANAGED_BY]: 'kuber-api',
    },
    annotations,
    ownerReferences: [recordOwnerRef(ctx.owner)],
  };
}
