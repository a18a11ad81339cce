/**
 * @module engine/ports/ports
 * Published ports (pure): the port specs of a create body (moby api/types/nat), what to bind at
 * start, and the JSON views (`NetworkSettings.Ports`, the list `Ports`). kuber-api itself listens
 * on the published ports and forwards every connection to the container's Pod
 * (engine/ports/publisher.ts, engine/ports/forward.ts). The allocation (the real host ports) is
 * recorded in the container record's `kuber-api.io/ports` annotation at the first start and kept
 * until the container is removed, so a port stays the same across stops, starts and kuber-api
 * restarts.
 */
import { invalid, notImplemented } from '../../errors.js';
import type { CreateBody } from '../model/types.js';

export const ANN_PORTS = 'kuber-api.io/ports';

export interface PortBinding {
  HostIp: string;
  HostPort: string;
}
export type PortMap = Record<string, PortBinding[]>;

/** `80`, `80/TCP`, `80/tcp` -> `80/tcp`; anything else is a 400 as in moby nat.ParsePort. */
export function normalisePortKey(key: string): string {
  const [port, proto = 'tcp', extra] = key.split('/');
  if (extra !== undefined || !/^\d+$/.test(port ?? '') || Number(port) < 1 || Number(port) > 65535)
    throw invalid(`invalid port specification: "${key}"`);
  const p = proto.toLowerCase();
  if (!['tcp', 'udp', 'sctp'].includes(p)) throw invalid(`invalid proto: ${proto}`);
  return `${Number(port)}/${p}`;
}

/** A key normalised, or the key as given when it is not a port (views never throw). */
export function safeKey(key: string): string {
  try {
    return normalisePortKey(key);
  } catch {
    return key;
  }
}

/** Parse a HostPort: '' or '0' (random), 'N', or a range 'A-B' (the first free one). */
export function parseHostPort(v: string | undefined): { random: true } | { from: number; to: number } {
  const s = (v ?? '').trim();
  if (s === '' || s === '0') return { random: true };
  const m = /^(\d+)(?:-(\d+))?$/.exec(s);
  if (!m) throw invalid(`invalid hostPort: ${s}`);
  const from = Number(m[1]),
    to = Number(m[2] ?? m[1]);
  if (from < 1 || to > 65535 || to < from) throw invalid(`invalid hostPort: ${s}`);
  return { from, to };
}

/**
 * The ports a container exposes: Config.ExposedPorts, the PortBindings keys, and the image's
 * (`imageExposed`: the images feature supplies them when it knows the image config).
 */
export function exposedPortKeys(config: CreateBody, imageExposed: readonly string[] = []): string[] {
  const keys = new Set<string>();
  for (const k of [
    ...Object.keys(config.ExposedPorts ?? {}),
    ...Object.keys(config.HostConfig?.PortBindings ?? {}),
    ...imageExposed,
  ])
    keys.add(safeKey(k));
  return [...keys].sort(portOrder);
}

function portOrder(a: string, b: string): number {
  const [pa, ta] = a.split('/'),
    [pb, tb] = b.split('/');
  return Number(pa) - Number(pb) || (ta! < tb! ? -1 : ta! > tb! ? 1 : 0);
}

/**
 * The bindings to make at start: PortBindings (keys normalised) plus, with PublishAllPorts, a
 * random port for every other exposed port (moby daemon/network.go buildPortMap / -P).
 */
export function requestedBindings(config: CreateBody, imageExposed: readonly string[] = []): PortMap {
  const out: PortMap = {};
  for (const [k, v] of Object.entries(config.HostConfig?.PortBindings ?? {})) {
    const list = (v ?? []).map((b) => ({ HostIp: b?.HostIp ?? '', HostPort: b?.HostPort ?? '' }));
    out[normalisePortKey(k)] = list.length ? list : [{ HostIp: '', HostPort: '' }];
  }
  if (config.HostConfig?.PublishAllPorts)
    for (const k of exposedPortKeys(config, imageExposed)) out[k] ??= [{ HostIp: '', HostPort: '' }];
  return out;
}

/** Validate the port settings at create (so `docker run -p` fails before anything is made). */
export function validatePorts(config: CreateBody): string[] {
  for (const k of Object.keys(config.ExposedPorts ?? {})) normalisePortKey(k);
  const req = requestedBindings(config);
  const warnings: string[] = [];
  const mode = config.HostConfig?.NetworkMode ?? '';
  for (const [k, list] of Object.entries(req)) {
    for (const b of list) parseHostPort(b.HostPort);
    if (mode === 'none') continue;
    const proto = k.split('/')[1];
    if (proto !== 'tcp')
      throw notImplemented(
        `publishing ${proto!.toUpperCase()} ports (${k}) is not supported by kuber-api: kuber-api forwards published ports over TCP connections (direct to the pod, or through pods/portforward, which is TCP-only)`,
      );
  }
  if (mode === 'none' && Object.keys(req).length)
    warnings.push('kuber-api: published ports are discarded when using network mode "none"');
  return warnings;
}

/**
 * The addresses to bind for a requested HostIp: '' means every publish address, `0.0.0.0` the
 * IPv4 ones and `::` the IPv6 ones (kuber-api's --publish-address, 127.0.0.1 and ::1 by default),
 * any other address exactly itself.
 */
export function bindAddresses(hostIp: string, publish: readonly string[]): string[] {
  const v6 = (a: string) => a.includes(':');
  if (hostIp === '') return [...publish];
  if (hostIp === '0.0.0.0') return publish.filter((a) => !v6(a)).length ? publish.filter((a) => !v6(a)) : ['0.0.0.0'];
  if (hostIp === '::') return publish.filter(v6).length ? publish.filter(v6) : ['::'];
  return [hostIp];
}

export function encodePorts(m: PortMap): string {
  return JSON.stringify(m);
}

export function decodePorts(raw: string | undefined): PortMap | undefined {
  if (!raw) return undefined;
  try {
    const v = JSON.parse(raw) as PortMap;
    return v && typeof v === 'object' ? v : undefined;
  } catch {
    return undefined;
  }
}

/**
 * `NetworkSettings.Ports`: while the container runs, every exposed port, with its bindings or
 * `null` when it is not published; otherwise `{}` (dockerd releases ports when a container stops).
 */
export function inspectPorts(
  exposed: readonly string[],
  allocated: PortMap | undefined,
  running: boolean,
): Record<string, PortBinding[] | null> {
  if (!running) return {};
  const out: Record<string, PortBinding[] | null> = {};
  const keys = new Set([...exposed, ...Object.keys(allocated ?? {})]);
  for (const k of [...keys].sort(portOrder))
    out[k] = allocated?.[k]?.length ? allocated[k]!.map((b) => ({ ...b })) : null;
  return out;
}

export interface ListPort {
  IP?: string;
  PrivatePort: number;
  PublicPort?: number;
  Type: string;
}

/** The list `Ports`: one entry per binding, and one without IP/PublicPort per unpublished exposed port; none when not running. */
export function listPorts(exposed: readonly string[], allocated: PortMap | undefined, running: boolean): ListPort[] {
  if (!running) return [];
  const out: ListPort[] = [];
  const keys = new Set([...exposed, ...Object.keys(allocated ?? {})]);
  for (const k of [...keys].sort(portOrder)) {
    const [port, type] = k.split('/') as [string, string];
    const bs = allocated?.[k] ?? [];
    if (!bs.length) out.push({ PrivatePort: Number(port), Type: type });
    for (const b of bs)
      out.push({ IP: b.HostIp, PrivatePort: Number(port), PublicPort: Number(b.HostPort), Type: type });
  }
  return out;
}
