/**
 * @module engine/dns/embedded
 * kuber-api's embedded DNS, as dockerd's at 127.0.0.11 (moby daemon/libnetwork/resolver.go,
 * sandbox_dns_unix.go): the server (server.ts) on the address containers reach kuber-api at (its
 * Pod IP in a cluster; on kube-sim the node-local DNS address its node announces), the table of names (names.ts) rebuilt
 * whenever a record, a Pod or a network changes, and the forwarder (forwarder.ts) to the cluster
 * DNS kuber-api's own Pod uses.
 *
 * Container Pods then get `dnsPolicy: None` with this address as their one nameserver and the
 * cluster's search list and options kept ({@link EmbeddedDns.podDnsConfig}), so Service names and
 * external names resolve as before while Docker names resolve per network.
 *
 * When it cannot serve (`--dns-server off`, no address known, or the port cannot be bound: port 53
 * needs root or `net.ipv4.ip_unprivileged_port_start`), {@link EmbeddedDns.start} says why and
 * the networks wing keeps resolving names with headless Services (engine/networks/dns.ts).
 */
import { readFileSync } from 'node:fs';
import type { Logger } from '../../log.js';
import { DnsCache } from './cache.js';
import { Forwarder, parseResolvConf, parseUpstream, type Upstream } from './forwarder.js';
import type { DnsHost } from './host.js';
import { NameTable } from './names.js';
import { Resolver } from './resolver.js';
import { DnsServer } from './server.js';

export interface DnsOptions {
  /** auto: serve when an address is known and can be bound; off: headless Services only. */
  mode: 'auto' | 'off';
  /** The address to serve on (default: kuber-api's Pod IP / the kube-sim node address). */
  address?: string;
  port: number;
  /** Upstream servers (`ip`, `ip:port`); default: /etc/resolv.conf, or kube-sim's kube-dns. */
  upstream: readonly string[];
  upstreamTimeoutMs: number;
  maxInflight: number;
  maxQueryBytes: number;
  ratePerSecond: number;
  maxSources: number;
  cacheEntries: number;
  cacheBytes: number;
  cacheMaxTtlS: number;
  maxTcpConnections: number;
  tcpIdleMs: number;
  /** A query from an address not known yet waits this long for its container's Pod to be seen. */
  unknownSourceWaitMs: number;
  /** The resolv.conf to read (tests). */
  resolvConfPath?: string;
}

/** The DNS settings of a container Pod (core/v1 PodDNSConfig). */
export interface PodDnsConfig {
  nameservers: string[];
  searches: string[];
  options: Array<{ name: string; value?: string }>;
}

export class EmbeddedDns {
  private server?: DnsServer;
  private resolver?: Resolver;
  private table?: NameTable;
  private dirty = true;
  private waiting = 0;
  private unsubscribe?: () => void;
  private searches: string[] = [];
  private options: string[] = [];
  /** The address containers use as their nameserver, once serving. */
  address?: string;
  port?: number;

  constructor(
    private readonly e: DnsHost,
    readonly opts: DnsOptions,
    private readonly log: Logger,
  ) {}

  /** Is kuber-api answering DNS (else the networks wing's headless Services do)? */
  get serving(): boolean {
    return !!this.server;
  }

  /** Start serving, or say why not (then names resolve through headless Services). */
  async start(): Promise<boolean> {
    const fallback = (why: string, extra: Record<string, unknown> = {}) => {
      this.log.warn(
        { ...extra },
        `embedded DNS is off (${why}): Docker names resolve through headless Services instead (namespace-wide, DNS-1035 names only; see the README, "Networks and DNS")`,
      );
      return false;
    };
    if (this.opts.mode === 'off') return fallback('--dns-server off');
    const address = this.opts.address || (await this.nodeLocalAddress()) || this.e.opts.hostGatewayIp;
    if (!address) return fallback('no address containers can reach kuber-api at: set POD_IP or --dns-address');
    const { upstream, searches, options } = await this.clusterResolv();
    this.searches = searches;
    this.options = options;
    const cache = new DnsCache({
      maxEntries: this.opts.cacheEntries,
      maxBytes: this.opts.cacheBytes,
      maxTtlS: this.opts.cacheMaxTtlS,
    });
    const forwarder = new Forwarder(
      { servers: upstream, timeoutMs: this.opts.upstreamTimeoutMs, maxInflight: this.opts.maxInflight },
      cache,
    );
    this.resolver = new Resolver(
      () => this.currentTable(),
      forwarder,
      this.log,
      (source) => this.waitForSource(source),
    );
    const server = new DnsServer(
      {
        address,
        port: this.opts.port,
        maxQueryBytes: this.opts.maxQueryBytes,
        ratePerSecond: this.opts.ratePerSecond,
        maxSources: this.opts.maxSources,
        maxTcpConnections: this.opts.maxTcpConnections,
        tcpIdleMs: this.opts.tcpIdleMs,
      },
      this.resolver,
      this.log,
    );
    try {
      const bound = await server.listen();
      this.port = bound.port;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      const hint =
        code === 'EACCES'
          ? " (port 53 needs root, CAP_NET_BIND_SERVICE or the safe sysctl net.ipv4.ip_unprivileged_port_start=53 in the Pod's securityContext)"
          : '';
      return fallback(`cannot bind ${address}:${this.opts.port}: ${(err as Error).message}${hint}`);
    }
    this.server = server;
    this.address = address;
    this.follow();
    this.log.info(
      { address, port: this.port, upstream: upstream.map((u) => `${u.host}:${u.port}`), searches },
      'embedded DNS serving: containers resolve Docker names per network',
    );
    return true;
  }

  close(): void {
    this.unsubscribe?.();
    this.server?.close();
    this.server = undefined;
  }

  /** The DNS config of container Pods, or undefined when not serving (then the cluster's default). */
  podDnsConfig(): PodDnsConfig | undefined {
    if (!this.server || !this.address) return undefined;
    return {
      nameservers: [this.address],
      searches: [...this.searches],
      options: this.options.map((o) => {
        const i = o.indexOf(':');
        return i < 0 ? { name: o } : { name: o.slice(0, i), value: o.slice(i + 1) };
      }),
    };
  }

  /** Counters for logs and tests. */
  stats() {
    return {
      ...this.resolver?.stats,
      rateDropped: this.server?.rate.dropped ?? 0,
      sources: this.server?.rate.sources ?? 0,
    };
  }

  private follow(): void {
    const mark = () => void (this.dirty = true);
    this.e.index.listen({ record: mark, pod: mark });
    this.unsubscribe = this.e.networks.onNetworksChange(mark);
  }

  private currentTable(): NameTable {
    if (!this.table || this.dirty) {
      this.dirty = false;
      const { members, nets } = this.e.networks.dnsMembers();
      // Only the namespace's own search domain (`<ns>.svc.<domain>`) is stripped: it is where a
      // Service of the same name would answer first (names.ts).
      this.table = new NameTable(
        members,
        nets,
        this.e.opts.hostGatewayIp,
        this.searches.filter((d) => /^[^.]+\.svc\./.test(d)),
      );
    }
    return this.table;
  }

  /**
   * On kube-sim, the address its node keeps for a DNS server of the client on the node
   * (sim/kubelet/local-addresses.ts): unique per simulator, where the node address or the shared
   * bridge gateway can be bound by one kuber-api only. Absent on real clusters.
   */
  private async nodeLocalAddress(): Promise<string | undefined> {
    type Nodes = { items?: Array<{ metadata?: { annotations?: Record<string, string> } }> };
    const nodes = await this.e.kube.client.get<Nodes>('/api/v1/nodes').catch(() => undefined);
    return nodes?.items?.map((n) => n.metadata?.annotations?.['kube-sim.io/node-local-dns']).find(Boolean);
  }

  /** Wait (bounded) until a query's source is a known container: its Pod status may lag its first query. */
  private async waitForSource(source: string): Promise<void> {
    // Bounded twice: in time, and in how many queries may wait at once (a flood from unknown
    // addresses is answered at once rather than held).
    if (
      this.currentTable().knows(source) ||
      this.opts.unknownSourceWaitMs <= 0 ||
      this.waiting >= this.opts.maxInflight
    )
      return;
    this.waiting++;
    await this.e.index
      .when(
        () => {
          this.dirty = true;
          return this.currentTable().knows(source) ? true : undefined;
        },
        { timeoutMs: this.opts.unknownSourceWaitMs },
      )
      .catch(() => undefined);
    this.waiting--;
  }

  /**
   * Where to forward, and the search list and options to keep: kuber-api's own resolv.conf when it
   * is a Pod's (a `svc.<domain>` search entry); else (kube-sim, a job outside the cluster) the
   * cluster's kube-dns Service and the kubelet's ClusterFirst defaults for the namespace.
   */
  private async clusterResolv(): Promise<{ upstream: Upstream[]; searches: string[]; options: string[] }> {
    let rc = { nameservers: [] as string[], searches: [] as string[], options: [] as string[] };
    try {
      rc = parseResolvConf(readFileSync(this.opts.resolvConfPath ?? '/etc/resolv.conf', 'utf8'));
    } catch {
      /* none */
    }
    const ns = this.e.namespace;
    const podDomain = rc.searches.map((s) => /^[^.]+\.svc\.(.+)$/.exec(s)?.[1]).find(Boolean);
    const domain = podDomain ?? 'cluster.local';
    // The kubelet's ClusterFirst list (pkg/kubelet/network/dns/dns.go generateSearchesForDNSClusterFirst), for our namespace.
    const clusterSearches = [`${ns}.svc.${domain}`, `svc.${domain}`, domain];
    const searches = podDomain
      ? [...clusterSearches, ...rc.searches.filter((s) => !clusterSearches.includes(s) && !/^[^.]+\.svc\./.test(s))]
      : clusterSearches;
    const options = podDomain ? rc.options : ['ndots:5'];
    let upstream = this.opts.upstream.map(parseUpstream).filter((u): u is Upstream => !!u);
    if (!upstream.length && !podDomain) {
      type Svc = { spec?: { clusterIP?: string } };
      const svc = await this.e.kube.client
        .get<Svc>('/api/v1/namespaces/kube-system/services/kube-dns')
        .catch(() => undefined);
      const ip = svc?.spec?.clusterIP;
      if (ip && ip !== 'None') upstream = [{ host: ip, port: 53 }];
    }
    if (!upstream.length) upstream = rc.nameservers.map(parseUpstream).filter((u): u is Upstream => !!u);
    return { upstream: upstream.slice(0, 3), searches: searches.slice(0, 32), options };
  }
}
