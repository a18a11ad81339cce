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

/**
 * Whether a TCP listen host is reachable only from this machine (or this Pod's network
 * namespace): 127.0.0.0/8, ::1, `localhost`. Anything else (0.0.0.0, ::, a pod or host IP, another
 * name) can be reached from the network.
 */
export function isLoopbackHost(host: string): boolean {
  const h = host.toLowerCase();
  if (h === 'localhost' || h === '::1' || h === '0:0:0:0:0:0:0:1') return true;
  if (/^::ffff:127\./.test(h)) return true;
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}

/**
 * The plaintext TCP listeners among `addresses` that others can reach. Whoever reaches the Docker
 * API controls every container, and with them kuber-api's service account; dockerd has warned of
 * this for years and newer releases refuse to start such a listener unless TLS is turned off
 * explicitly. kuber-api refuses them unless `--insecure-tcp` is given: a name that says what it
 * allows, after `--insecure-registry`.
 */
export function exposedPlaintext(addresses: readonly ListenAddress[], tls: boolean): ListenAddress[] {
  if (tls) return [];
  return addresses.filter((a) => a.kind === 'tcp' && !isLoopbackHost(a.host));
}
