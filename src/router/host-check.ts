/**
 * @module router/host-check
 * DNS rebinding. A page a browser opened inside a CI job can make its own hostname resolve to
 * 127.0.0.1 and then call `http://evil.example:2375/...` as a same-origin page: the browser sends
 * no `Origin` (router/origin.ts cannot see it), only `Host: evil.example:2375`. kuber-api answers
 * only requests whose Host names this machine or was allowed with `--allowed-hosts`; a rebinding
 * attack needs a name the attacker controls, so it cannot pass.
 *
 * Allowed without asking (what real clients send, captured over both transports):
 * - no Host at all (HTTP/1.0; a browser always sends one);
 * - any IP literal (`127.0.0.1:2375`, `[::1]:2375`, a Pod IP for a sidecar reached by address):
 *   an address in the URL cannot be rebound; this covers the listener's own address;
 * - `localhost` and every `*.localhost` name (RFC 6761 §6.3: loopback only, never resolved on the
 *   network): the docker CLI sends `api.moby.localhost` over a unix socket (moby client
 *   `DummyHost`), docker-py/compose and dockerode (docker-modem) send `localhost`;
 * - `docker`: the moby client's unix-socket host before 25.0, and GitLab's DinD service alias
 *   (`DOCKER_HOST=tcp://docker:2375`), a single-label name the job resolves through /etc/hosts;
 * - `host.docker.internal`: Docker's name for the host from containers, which kuber-api's own
 *   containers resolve to kuber-api (engine/networks dns); `.internal` is never delegated in public
 *   DNS (ICANN, 2024), so no page can rebind it;
 * - the machine's own hostname (what `hostname` prints, e.g. a Pod's name);
 * - each name given with `--allowed-hosts` (a Service name for a shared kuber-api), or `*` for any.
 *
 * Answer: 403, as router/origin.ts (the request is well-formed and refused by policy; Django
 * answers 400 for its ALLOWED_HOSTS, but a Host that parses is not a bad request), naming the
 * option. A Host that does not parse as a host (RFC 9112 §3.2: "a Host header field with an invalid
 * field value", a repeated Host, which the parser joins with ", ") is a 400.
 */
import { isIP } from 'node:net';
import { forbidden, invalid } from '../errors.js';
import type { Request } from '../http/index.js';

/** Names always allowed beside IP literals and `*.localhost` (see the module comment). */
const BUILT_IN = ['localhost', 'docker', 'host.docker.internal'];

export interface HostPolicy {
  readonly any: boolean;
  readonly names: ReadonlySet<string>;
}

/** The policy from `--allowed-hosts` plus the machine's hostname. */
export function hostPolicy(allowed: readonly string[], hostname: string): HostPolicy {
  const names = new Set([...BUILT_IN, hostname, ...allowed].map(canonical).filter(Boolean));
  return { any: allowed.includes('*'), names };
}

/** Lower case, without a trailing dot (`localhost.` is `localhost`). */
function canonical(name: string): string {
  return name.toLowerCase().replace(/\.$/, '');
}

/** The host part of a Host value (port and IPv6 brackets removed), or undefined if it does not parse. */
export function hostOf(value: string): string | undefined {
  const v = value.trim();
  const m = /^\[([0-9A-Fa-f:.]+)\](?::\d{1,5})?$/.exec(v) ?? /^([A-Za-z0-9_.-]+)(?::\d{1,5})?$/.exec(v);
  if (!m) return undefined;
  const host = m[1]!;
  if (v.startsWith('[') && isIP(host) !== 6) return undefined;
  return host;
}

export function hostAllowed(host: string, policy: HostPolicy): boolean {
  if (policy.any || isIP(host)) return true;
  const name = canonical(host);
  return name.endsWith('.localhost') || policy.names.has(name);
}

/** Throw 400 for a Host that does not parse, 403 for one not allowed (see the module comment). */
export function checkHost(req: Request, policy: HostPolicy): void {
  const value = req.headers['host'];
  if (value === undefined || value === '' || policy.any) return;
  const host = hostOf(value);
  if (host === undefined) throw invalid(`invalid Host header ${JSON.stringify(value)}`);
  if (hostAllowed(host, policy)) return;
  throw forbidden(
    `request refused: Host ${JSON.stringify(value)} is not allowed (kuber-api answers only Host names of this machine, IP addresses and names listed with --allowed-hosts, against DNS rebinding)`,
  );
}
