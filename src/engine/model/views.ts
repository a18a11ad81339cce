/**
 * @module engine/model/views
 * The JSON shapes clients read (pure): `GET /containers/{id}/json` (moby api/types/container
 * InspectResponse) and the `GET /containers/json` summary (container.Summary), built from a
 * record, the Pod of its current run and the derived State. Readers of these fields include
 * docker/cli cli/command/formatter/container.go and compose v1 compose/container.py.
 */
import type { ContainerRecord, DockerState } from './types.js';
import { statusString, rfc3339ToNs } from './human.js';
import { imageId } from './image-names.js';
import { argv } from './translate.js';
import { shortId } from './ids.js';
import type { PodLike } from './state.js';
import { versionLess } from './api-version.js';

const lt = versionLess;

/**
 * The network and port parts of the views, computed by the engine (engine/networks/networks.ts,
 * engine/ports/ports.ts): `NetworkSettings.Networks`, the top-level fields of the default bridge
 * endpoint, `NetworkSettings.Ports` and the list `Ports`. Without it (no engine) the container is
 * shown on its NetworkMode network with nothing published.
 */
export interface NetView {
  networks: Record<string, unknown>;
  bridge?: { ip: string; gateway: string; endpointId: string };
  ports: Record<string, unknown>;
  listPorts: unknown[];
}

/** Path and Args as moby records them: the entrypoint (or command) and the rest. Unknown image defaults: empty. */
export function pathArgs(rec: ContainerRecord): { path: string; args: string[] } {
  const ep = argv(rec.config.Entrypoint) ?? [];
  const cmd = argv(rec.config.Cmd) ?? [];
  const all = ep.length === 1 && ep[0] === '' ? cmd : [...ep, ...cmd];
  return { path: all[0] ?? '', args: all.slice(1) };
}

function networkMode(rec: ContainerRecord): string {
  const m = rec.config.HostConfig?.NetworkMode;
  return !m || m === 'default' ? 'bridge' : m;
}

function podIp(pod: PodLike | undefined): string {
  const s = pod?.status as { podIP?: string } | undefined;
  return s?.podIP ?? '';
}

function normalisePort(p: string): string {
  return p.includes('/') ? p : `${p}/tcp`;
}

function networks(rec: ContainerRecord, pod: PodLike | undefined, running: boolean): Record<string, unknown> {
  const ip = running ? podIp(pod) : '';
  return {
    [networkMode(rec)]: {
      IPAMConfig: null,
      Links: null,
      Aliases: null,
      MacAddress: '',
      DriverOpts: null,
      NetworkID: '',
      EndpointID: '',
      Gateway: '',
      IPAddress: ip,
      IPPrefixLen: ip ? 32 : 0,
      IPv6Gateway: '',
      GlobalIPv6Address: '',
      GlobalIPv6PrefixLen: 0,
      DNSNames: null,
    },
  };
}

/** `GET /containers/{id}/json` (moby api/types/container InspectResponse). */
export function inspectView(
  rec: ContainerRecord,
  pod: PodLike | undefined,
  state: DockerState,
  apiVersion: string,
  opts: { size?: boolean; net?: NetView } = {},
): Record<string, unknown> {
  const c = rec.config;
  const { path, args } = pathArgs(rec);
  const out: Record<string, unknown> = {
    Id: rec.id,
    Created: rec.created,
    Path: path,
    Args: args,
    State: state,
    Image: rec.image?.id ?? imageId(c.Image ?? ''),
    ResolvConfPath: '',
    HostnamePath: '',
    HostsPath: '',
    LogPath: '',
    Name: `/${rec.name}`,
    RestartCount: rec.state.restartCount,
    Driver: 'kubernetes',
    Platform: 'linux',
    MountLabel: '',
    ProcessLabel: '',
    AppArmorProfile: '',
    ExecIDs: null,
    HostConfig: inspectHostConfig(rec),
    GraphDriver: {
      Name: 'kubernetes',
      Data: pod ? { Namespace: (pod.metadata as { namespace?: string }).namespace ?? '', Pod: pod.metadata.name } : {},
    },
    Mounts: [],
    Config: inspectConfig(rec),
    NetworkSettings: inspectNetworkSettings(rec, pod, state.Running, apiVersion, opts.net),
  };
  if (opts.size) {
    out.SizeRw = 0;
    out.SizeRootFs = 0;
  }
  return out;
}

/** The create body's HostConfig with what dockerd fills in. */
function inspectHostConfig(rec: ContainerRecord): Record<string, unknown> {
  const hc = rec.config.HostConfig ?? {};
  return {
    ...hc,
    NetworkMode: networkMode(rec),
    RestartPolicy: {
      Name: hc.RestartPolicy?.Name || 'no',
      MaximumRetryCount: hc.RestartPolicy?.MaximumRetryCount ?? 0,
    },
    AutoRemove: !!hc.AutoRemove,
    // compose v1 shows logs only for the json-file driver (compose/container.py log_driver checks)
    LogConfig: { Type: 'json-file', Config: {} },
    PortBindings: Object.fromEntries(Object.entries(hc.PortBindings ?? {}).map(([k, v]) => [normalisePort(k), v])),
    Binds: hc.Binds ?? null,
    Privileged: !!hc.Privileged,
  };
}

/** `Config`: the create body as dockerd reports it (defaults filled, ports normalised). */
function inspectConfig(rec: ContainerRecord): Record<string, unknown> {
  const c = rec.config;
  const exposed = Object.fromEntries(Object.keys(c.ExposedPorts ?? {}).map((p) => [normalisePort(p), {}]));
  return {
    Hostname: c.Hostname || shortId(rec.id),
    Domainname: c.Domainname ?? '',
    User: c.User ?? '',
    AttachStdin: !!c.AttachStdin,
    AttachStdout: !!c.AttachStdout,
    AttachStderr: !!c.AttachStderr,
    ...(Object.keys(exposed).length ? { ExposedPorts: exposed } : {}),
    Tty: !!c.Tty,
    OpenStdin: !!c.OpenStdin,
    StdinOnce: !!c.StdinOnce,
    Env: c.Env ?? [],
    Cmd: argv(c.Cmd) ?? null,
    ...(c.Healthcheck ? { Healthcheck: c.Healthcheck } : {}),
    Image: c.Image,
    Volumes: c.Volumes ?? null,
    WorkingDir: c.WorkingDir ?? '',
    Entrypoint: argv(c.Entrypoint) ?? null,
    OnBuild: null,
    Labels: c.Labels ?? {},
    ...(c.StopSignal ? { StopSignal: c.StopSignal } : {}),
    ...(c.StopTimeout !== undefined && c.StopTimeout !== null ? { StopTimeout: c.StopTimeout } : {}),
  };
}

/** `NetworkSettings`: the engine's network view when given, else the Pod's address on `bridge`. */
function inspectNetworkSettings(
  rec: ContainerRecord,
  pod: PodLike | undefined,
  running: boolean,
  apiVersion: string,
  net: NetView | undefined,
): Record<string, unknown> {
  const ports = Object.fromEntries(Object.keys(rec.config.ExposedPorts ?? {}).map((p) => [normalisePort(p), null]));
  // The top-level endpoint fields are the default bridge's (moby: empty on other networks).
  const ip = net ? (net.bridge?.ip ?? '') : running ? podIp(pod) : '';
  const out: Record<string, unknown> = {
    Bridge: '',
    SandboxID: '',
    SandboxKey: '',
    HairpinMode: false,
    LinkLocalIPv6Address: '',
    LinkLocalIPv6PrefixLen: 0,
    Ports: net ? net.ports : running ? ports : {},
    Networks: net ? net.networks : networks(rec, pod, running),
  };
  if (lt(apiVersion, '1.52')) {
    // Top-level endpoint fields were removed in API 1.52; older clients still read them.
    Object.assign(out, {
      SecondaryIPAddresses: null,
      SecondaryIPv6Addresses: null,
      EndpointID: net?.bridge?.endpointId ?? '',
      Gateway: net?.bridge?.gateway ?? '',
      GlobalIPv6Address: '',
      GlobalIPv6PrefixLen: 0,
      IPAddress: ip,
      IPPrefixLen: ip ? 32 : 0,
      IPv6Gateway: '',
      MacAddress: '',
    });
  }
  return out;
}

/** `GET /containers/json` entry. */
export function summaryView(
  rec: ContainerRecord,
  pod: PodLike | undefined,
  state: DockerState,
  apiVersion: string,
  opts: { size?: boolean; now?: number; net?: NetView } = {},
): Record<string, unknown> {
  const c = rec.config;
  const { path, args } = pathArgs(rec);
  const exposedPorts = Object.keys(c.ExposedPorts ?? {}).map((p) => {
    const [num, proto] = normalisePort(p).split('/') as [string, string];
    return { PrivatePort: Number(num), Type: proto };
  });
  const out: Record<string, unknown> = {
    Id: rec.id,
    Names: [`/${rec.name}`],
    Image: c.Image,
    ImageID: rec.image?.id ?? imageId(c.Image ?? ''),
    Command: [path, ...args].filter((x, i) => i > 0 || x !== '').join(' '),
    Created: Number(rfc3339ToNs(rec.created) / 1_000_000_000n),
    Ports: opts.net ? opts.net.listPorts : state.Running ? exposedPorts : [],
    Labels: c.Labels ?? {},
    State: state.Status,
    Status: statusString(state, opts.now),
    HostConfig: { NetworkMode: networkMode(rec) },
    NetworkSettings: { Networks: opts.net ? opts.net.networks : networks(rec, pod, state.Running) },
    Mounts: [],
  };
  if (opts.size) {
    out.SizeRw = 0;
    out.SizeRootFs = 0;
  }
  if (!lt(apiVersion, '1.52'))
    out.Health = state.Health
      ? { Status: state.Health.Status, FailingStreak: state.Health.FailingStreak }
      : { Status: 'none', FailingStreak: 0 };
  return out;
}
