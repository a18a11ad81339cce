/**
 * @module http/address
 * Listen addresses in dockerd's `-H` syntax (moby opts.ParseHost): `unix:///path`,
 * `tcp://host:port`, `tcp://:port` (all interfaces), `tcp://[::1]:port`. A bare `/path` is a unix
 * socket and a bare `host:port` is TCP; a missing TCP port is 2375, as in dockerd.
 */
import { EngineError } from '../errors.js';

/** `/var/run/docker.sock` needs root or the docker group; a sidecar runs as any user. */
export const DEFAULT_UNIX_PATH = '/tmp/kuber-api.sock';

export type ListenAddress = { kind: 'unix'; path: string } | { kind: 'tcp'; host: string; port: number };

export function parseHost(spec: string): ListenAddress {
  const bad = () => new EngineError('invalid', `invalid listen address "${spec}": use unix:///path or tcp://host:port`);
  if (spec.startsWith('unix://')) {
    const path = spec.slice('unix://'.length) || DEFAULT_UNIX_PATH;
    if (!path.startsWith('/')) throw bad();
    return { kind: 'unix', path };
  }
  if (spec.startsWith('/')) return { kind: 'unix', path: spec };
  let rest = spec.startsWith('tcp://') ? spec.slice('tcp://'.length) : spec;
  if (rest.includes('://')) throw bad();
  rest = rest.replace(/\/+$/, '');
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]/]*))(?::(\d*))?$/.exec(rest);
  if (!m) throw bad();
  const host = m[1] ?? (m[2] || '0.0.0.0');
  const port = m[3] === undefined || m[3] === '' ? 2375 : Number(m[3]);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw bad();
  return { kind: 'tcp', host, port };
}

/** The `-H` form of an address, e.g. for DOCKER_HOST. */
export function formatHost(a: ListenAddress): string {
  if (a.kind === 'unix') return `unix://${a.path}`;
  return `tcp://${a.host.includes(':') ? `[${a.host}]` : a.host}:${a.port}`;
}
