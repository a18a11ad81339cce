/**
 * @module engine/dns/names
 * Docker's service discovery as a pure table: which names a querier may resolve and to what, as
 * dockerd's embedded DNS answers them (moby daemon/libnetwork/sandbox.go `ResolveName`,
 * `ResolveIP`; network.go `ResolveName`/`ResolveIP`; daemon/container_operations.go
 * `buildEndpointDNSNames`).
 *
 * - A container is found by the source address of the query: its Pod IP. It resolves the names of
 *   the containers on the networks *it* is connected to, and nothing else: its name, aliases
 *   (compose service names are aliases), short ID and hostname, case-insensitively, with `_` and
 *   `.` in them. On Kubernetes a Pod has one IP, so a container has that address on each network.
 * - `a.b.c` is tried as `a.b.c` on every network of the querier, then `a.b` on network `c`, then
 *   `a` on network `b.c` (moby: names and network names may hold dots).
 * - Kubernetes specific: the Pod keeps the cluster's search list (`<ns>.svc.cluster.local`, ...)
 *   with `ndots:5`, so a stub resolver asks `web.<ns>.svc.cluster.local` before `web`. A name that
 *   is a container name plus the namespace's search domain (the `searches` given) is answered as
 *   the container name: otherwise a Service `web` of the namespace (another project's, or a
 *   user's) would answer first.
 * - A name that exists with no address of the asked family is an empty NOERROR answer (moby
 *   returns no records and does not forward: `ipv6Miss`); a name that does not exist here is
 *   forwarded.
 * - PTR: an address of a container on the querier's networks is `<container name>.<network>`.
 * - `host.docker.internal` is where the job runs (kuber-api's Pod IP), for every querier (Docker
 *   Desktop's name; on Linux dockerd users add it with `--add-host ...:host-gateway`).
 * - A container's own `--dns` servers are where its other queries go ({@link NameTable.upstreamOf}).
 * The default bridge network has no names (as in Docker); links are /etc/hosts entries.
 */
import type { NetworkRecord } from '../networks/model.js';
import { dnsNames, type Endpoint } from '../networks/endpoints.js';
import type { ContainerRecord } from '../model/types.js';
import { canonicalIpv6 } from './packet.js';

export const HOST_DOCKER_INTERNAL = 'host.docker.internal';

interface NetworkNames {
  name: string;
  /** lower-cased name -> addresses (several containers may share an alias: all answer). */
  names: Map<string, string[]>;
  /** address -> the PTR name (`<container>.<network>`). */
  ptr: Map<string, string>;
}

/** What the table is built from: the running containers (Pod IP) and the networks. */
export interface TableMember {
  rec: Pick<ContainerRecord, 'id' | 'name' | 'config'>;
  endpoints: readonly Endpoint[];
  ip?: string;
}

export type Resolution =
  | {
      kind: 'addresses';
      addresses: string[];
      /** The name the addresses belong to, when not the asked one. */ canonical?: string;
    }
  | { kind: 'ptr'; name: string }
  | { kind: 'forward' };

/** Strip the IPv4-mapped prefix of a dual-stack socket's peer address; canonical IPv6. */
export function normaliseIp(ip: string): string {
  const m = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  if (m) return m[1]!;
  return ip.includes(':') ? canonicalIpv6(ip) : ip;
}

export class NameTable {
  private readonly nets = new Map<string, NetworkNames>();
  /** Pod IP -> the IDs of the networks its container is on (in connection order). */
  private readonly scopes = new Map<string, string[]>();
  /** Pod IP -> the container's own `--dns` servers (HostConfig.Dns), when it has some. */
  private readonly upstreams = new Map<string, string[]>();

  constructor(
    members: readonly TableMember[],
    networks: readonly NetworkRecord[],
    /** Where `host.docker.internal` points (kuber-api's address), when known. */
    readonly hostIp?: string,
    /** The cluster's search domains (lower case, no trailing dot). */
    readonly searches: readonly string[] = [],
  ) {
    const byId = new Map(networks.map((n) => [n.id, n]));
    for (const m of members) {
      if (!m.ip) continue;
      const ip = normaliseIp(m.ip);
      const scope: string[] = [];
      for (const ep of m.endpoints) {
        const net = byId.get(ep.NetworkID);
        if (!net) continue;
        scope.push(net.id);
        const names = dnsNames(m.rec, ep, net);
        if (!names.length) continue;
        let nn = this.nets.get(net.id);
        if (!nn) this.nets.set(net.id, (nn = { name: net.name, names: new Map(), ptr: new Map() }));
        for (const n of new Set(names.map((x) => x.toLowerCase()))) {
          const list = nn.names.get(n) ?? [];
          if (!list.includes(ip)) list.push(ip);
          nn.names.set(n, list);
        }
        // The first DNS name (the container name) is the PTR answer.
        if (!nn.ptr.has(ip)) nn.ptr.set(ip, `${names[0]}.${net.name}`);
      }
      if (!this.scopes.has(ip)) this.scopes.set(ip, scope);
      const own = (m.rec.config.HostConfig as { Dns?: unknown } | undefined)?.Dns;
      if (Array.isArray(own) && own.length && !this.upstreams.has(ip)) this.upstreams.set(ip, own.map(String));
    }
  }

  /**
   * The querier's own `--dns` servers: dockerd's embedded resolver forwards a container's queries
   * to them instead of the host's (moby daemon/libnetwork/sandbox_dns_unix.go: the container's
   * DNS options are the resolver's external servers).
   */
  upstreamOf(source: string): readonly string[] | undefined {
    return this.upstreams.get(normaliseIp(source));
  }

  /** Is this address a container's (a query from it is scoped to its networks)? */
  knows(source: string): boolean {
    return this.scopes.has(normaliseIp(source));
  }

  /** moby Sandbox.ResolveName: the name, then `name` on network `suffix` for every dot. */
  private lookup(scope: readonly string[], name: string): string[] | undefined {
    const tries: Array<[string, string]> = [[name, '']];
    for (let i = name.lastIndexOf('.'); i > 0; i = name.lastIndexOf('.', i - 1))
      tries.push([name.slice(0, i), name.slice(i + 1)]);
    for (const [req, netName] of tries) {
      for (const id of scope) {
        const nn = this.nets.get(id);
        if (!nn || (netName && netName !== nn.name.toLowerCase())) continue;
        const ips = nn.names.get(req);
        if (ips) return ips;
      }
    }
    return undefined;
  }

  /** Answer `name` (lower case, no trailing dot) of `type` (A or AAAA) asked from `source`. */
  resolveName(source: string, name: string, family: 4 | 6): Resolution {
    const scope = this.scopes.get(normaliseIp(source)) ?? [];
    let ips = scope.length ? this.lookup(scope, name) : undefined;
    let canonical: string | undefined;
    // `web.<ns>.svc.cluster.local` is `web` (see the module comment): answered as a CNAME to `web`,
    // so that the canonical name a resolver reports (getent hosts) is the Docker name, as dockerd's.
    for (const s of ips || !scope.length ? [] : this.searches) {
      if (name.length > s.length + 1 && name.endsWith(`.${s}`)) {
        const short = name.slice(0, -s.length - 1);
        ips = this.lookup(scope, short);
        if (ips) {
          canonical = short;
          break;
        }
      }
    }
    if (!ips && this.hostIp) {
      if (name === HOST_DOCKER_INTERNAL) ips = [this.hostIp];
      else if (this.searches.some((s) => name === `${HOST_DOCKER_INTERNAL}.${s}`))
        [ips, canonical] = [[this.hostIp], HOST_DOCKER_INTERNAL];
    }
    if (!ips) return { kind: 'forward' };
    const want = ips.filter((ip) => ip.includes(':') === (family === 6));
    return { kind: 'addresses', addresses: shuffle(want), ...(canonical ? { canonical } : {}) };
  }

  /** moby Sandbox.ResolveIP: the PTR name of an address on one of the querier's networks. */
  resolveAddress(source: string, address: string): Resolution {
    const scope = this.scopes.get(normaliseIp(source)) ?? [];
    const ip = normaliseIp(address);
    for (const id of scope) {
      const name = this.nets.get(id)?.ptr.get(ip);
      if (name) return { kind: 'ptr', name };
    }
    return { kind: 'forward' };
  }
}

/** dockerd shuffles the addresses of a name (round robin between containers sharing an alias). */
function shuffle<T>(a: T[]): T[] {
  const out = [...a];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}
