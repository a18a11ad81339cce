/**
 * @module engine/ports/publisher
 * kuber-api listens on every published port itself and forwards each connection to the
 * container's Pod (engine/ports/forward.ts). As a sidecar of the CI job's Pod it shares the job's
 * network namespace, so `localhost:<port>` (or the `docker` alias of DOCKER_HOST) reaches it.
 *
 * Lifecycle (moby allocates at start and releases at stop):
 * - `beforeStart` (docker start / restart): bind every requested binding before the Pod is made,
 *   so a taken port fails the start with dockerd's message and nothing is created; record the
 *   real ports in the record's `kuber-api.io/ports` annotation. A later start binds the same
 *   ports again (a random port that was taken meanwhile is replaced; a fixed one fails).
 * - While the container runs (or restarts by policy) the listeners stay; when it stops, exits or
 *   is removed they close and open connections are cut (as the container's death cuts them).
 * - After a kuber-api restart the listeners of running containers are bound again from the
 *   records (`catchUp`).
 * Bind addresses: --publish-address (default 127.0.0.1, ::1 and `gateway`: where a client in the
 * same Pod connects, plus the default bridge's gateway address when it is an address of this
 * machine: clients that run inside a container (testcontainers with /.dockerenv) connect to the
 * `bridge` network's IPAM gateway, and Docker containers reach published ports there too; on a
 * cluster that is kuber-api's pod IP, reachable from the cluster network as dockerd's 0.0.0.0 is).
 * The reported `HostIp` is what was bound.
 */
import { detached } from '../../cancel-scope.js';
import net, { type Server, type Socket } from 'node:net';
import { networkInterfaces } from 'node:os';
import { systemError } from '../../errors.js';
import type { Logger } from '../../log.js';
import type { PortsHost } from './host.js';
import { mainStatus } from '../model/state.js';
import type { ContainerRecord } from '../model/types.js';
import { endpointId, primaryNetworkName } from '../networks/endpoints.js';
import { recordAnnotation, patchRecordAnnotations } from '../networks/annotations.js';
import {
  ANN_PORTS,
  bindAddresses,
  decodePorts,
  encodePorts,
  exposedPortKeys,
  parseHostPort,
  requestedBindings,
  type PortBinding,
  type PortMap,
} from './ports.js';
import { Forwarder, type ForwardDeps, type ForwardOptions } from './forward.js';

export interface PublishOptions {
  /** Addresses the published ports are bound on when a binding names none (or 0.0.0.0 / ::). */
  addresses: readonly string[];
  forward: ForwardOptions;
}

/** Is `ip` an address of one of this machine's interfaces? */
function isLocalAddress(ip: string): boolean {
  return Object.values(networkInterfaces()).some((list) => list?.some((a) => a.address === ip));
}

interface Bound {
  servers: Server[];
  conns: Set<Socket>;
}

const isV6 = (a: string) => a.includes(':');

export class PortPublisher {
  readonly forwarder: Forwarder;
  /**
   * The ports an image exposes (`EXPOSE`), for `-P`: the images feature sets this when it knows
   * image configs. Default: none (only Config.ExposedPorts and PortBindings count).
   */
  imageExposed: (image: string) => string[] = () => [];
  /**
   * A container whose published ports kuber-api serves itself (a Ryuk played in process,
   * engine/ryuk/service.ts): the handler of one connection to `containerPort`, else undefined.
   */
  localService: (id: string, containerPort: number) => ((sock: Socket) => void) | undefined = () => undefined;
  private readonly bound = new Map<string, Bound>();
  private readonly starting = new Set<string>();
  private readonly binding = new Map<string, Promise<void>>();
  private readonly warnedAddresses = new Set<string>();
  private closed = false;

  constructor(
    private readonly e: PortsHost,
    private readonly opts: PublishOptions,
    private readonly log: Logger,
  ) {
    this.forwarder = new Forwarder(opts.forward, log);
    e.index.listen({ record: (ev) => this.reconcile(ev.rec.id), pod: (ev) => this.reconcile(ev.id) });
  }

  /** After the first sync: listen again for the running containers (kuber-api restarted). */
  catchUp(): void {
    for (const rec of this.e.index.all()) this.reconcile(rec.id);
  }

  close(): void {
    this.closed = true;
    for (const id of [...this.bound.keys()]) this.release(id);
  }

  /** The recorded allocation of a container (the host ports it got at its first start). */
  allocated(rec: ContainerRecord): PortMap | undefined {
    return decodePorts(recordAnnotation(this.e, rec, ANN_PORTS));
  }

  /** Exposed ports of a container (config, bindings, image). */
  exposed(rec: ContainerRecord): string[] {
    return exposedPortKeys(rec.config, this.imageExposed(rec.config.Image ?? ''));
  }

  /** Are the container's ports being listened on (for tests and /info)? */
  listening(id: string): boolean {
    return this.bound.has(id);
  }

  /**
   * Bind the container's published ports before its Pod is created; returns `done`, to call when
   * the start finished (either way): the listeners then follow the container's state.
   */
  async beforeStart(id: string): Promise<() => void> {
    const rec = this.e.index.get(id);
    if (!rec || !this.wants(rec)) return () => {};
    this.starting.add(id);
    try {
      await this.ensure(rec, true);
    } catch (err) {
      this.starting.delete(id);
      throw err;
    }
    return () => {
      this.starting.delete(id);
      this.reconcile(id);
    };
  }

  private wants(rec: ContainerRecord): boolean {
    if (primaryNetworkName(rec.config) === 'none') return false;
    return Object.keys(requestedBindings(rec.config, this.imageExposed(rec.config.Image ?? ''))).length > 0;
  }

  /** Open or close the listeners of a container to match its state. */
  reconcile(id: string): void {
    if (this.closed || this.starting.has(id) || this.binding.has(id)) return;
    const rec = this.e.index.get(id);
    if (!rec) return this.release(id);
    const st = this.e.stateOf(rec);
    const want = (st.Running || st.Restarting) && this.wants(rec);
    if (want && !this.bound.has(id)) {
      const p = detached(() => this.ensure(rec, false))
        .catch((err: Error) => this.log.warn({ id, err: err.message }, 'published ports could not be bound again'))
        .finally(() => {
          this.binding.delete(id);
          this.reconcile(id);
        });
      this.binding.set(id, p);
    } else if (!want && this.bound.has(id)) this.release(id);
  }

  private release(id: string): void {
    const b = this.bound.get(id);
    if (!b) return;
    this.bound.delete(id);
    for (const s of b.servers) s.close();
    this.forwarder.destroyAll(b.conns);
  }

  /** Bind what the record asks for (reusing its recorded ports) and record the result. */
  private async ensure(rec: ContainerRecord, starting: boolean): Promise<void> {
    if (this.bound.has(rec.id)) return;
    const requested = requestedBindings(rec.config, this.imageExposed(rec.config.Image ?? ''));
    const previous = this.allocated(rec) ?? {};
    const b: Bound = { servers: [], conns: new Set() };
    const result: PortMap = {};
    try {
      for (const [key, list] of Object.entries(requested)) {
        const containerPort = Number(key.split('/')[0]);
        const prevList = previous[key] ?? [];
        for (let i = 0; i < list.length; i++) {
          const want = list[i]!;
          const addrs = this.addressesFor(want.HostIp);
          const prevPort = prevList.find((p) => addrs.includes(p.HostIp) || p.HostIp === want.HostIp)?.HostPort;
          const got = await this.bindOne(rec, addrs, want, prevPort ? Number(prevPort) : undefined, containerPort, b);
          (result[key] ??= []).push(...got);
        }
      }
    } catch (err) {
      for (const s of b.servers) s.close();
      throw err;
    }
    if (this.closed || !this.e.index.get(rec.id)) {
      for (const s of b.servers) s.close();
      return;
    }
    this.bound.set(rec.id, b);
    if (JSON.stringify(result) !== JSON.stringify(previous)) {
      await patchRecordAnnotations(this.e, rec.id, () => ({ [ANN_PORTS]: encodePorts(result) })).catch((err) => {
        if (starting) {
          this.release(rec.id);
          throw err;
        }
        this.log.warn({ id: rec.id, err: (err as Error).message }, 'could not record the published ports');
      });
    }
  }

  /** --publish-address with `gateway` resolved (dropped when the gateway is not an address of ours). */
  private publishAddresses(): string[] {
    const gw = this.e.opts.hostGatewayIp;
    const out = this.opts.addresses.flatMap((a) => (a === 'gateway' ? (gw && isLocalAddress(gw) ? [gw] : []) : [a]));
    return [...new Set(out)];
  }

  private addressesFor(hostIp: string): string[] {
    return bindAddresses(hostIp, this.publishAddresses());
  }

  /**
   * Bind one binding on every address with one port number: the recorded one, else the requested
   * one (or the first free one of a range), else a random one.
   */
  private async bindOne(
    rec: ContainerRecord,
    addrs: string[],
    want: PortBinding,
    prev: number | undefined,
    containerPort: number,
    b: Bound,
  ): Promise<PortBinding[]> {
    const spec = parseHostPort(want.HostPort);
    const candidates: number[] = [];
    if (prev && ('random' in spec || (prev >= spec.from && prev <= spec.to))) candidates.push(prev);
    if ('random' in spec) candidates.push(0, 0, 0, 0);
    else for (let p = spec.from; p <= spec.to && candidates.length < 64; p++) if (p !== prev) candidates.push(p);
    let lastErr: NodeJS.ErrnoException | undefined;
    for (const port of candidates) {
      const servers: Server[] = [];
      const out: PortBinding[] = [];
      let actual = port;
      let failed: NodeJS.ErrnoException | undefined;
      for (const addr of addrs) {
        try {
          const s = await this.listen(addr, actual, rec.id, containerPort, b);
          actual = (s.address() as net.AddressInfo).port;
          servers.push(s);
          out.push({ HostIp: addr, HostPort: String(actual) });
        } catch (err) {
          const code = (err as NodeJS.ErrnoException).code;
          // The default ::1 on a machine without IPv6: skip it (reported bindings say what is bound).
          if (
            (code === 'EADDRNOTAVAIL' || code === 'EAFNOSUPPORT') &&
            isV6(addr) &&
            this.opts.addresses.includes(addr) &&
            addrs.length > 1
          ) {
            if (!this.warnedAddresses.has(addr)) {
              this.warnedAddresses.add(addr);
              this.log.info({ addr, code }, 'published ports: this address cannot be bound here; skipping it');
            }
            continue;
          }
          failed = err as NodeJS.ErrnoException;
          break;
        }
      }
      if (!failed && servers.length) {
        b.servers.push(...servers);
        return out;
      }
      for (const s of servers) s.close();
      lastErr = failed;
      if (failed && failed.code !== 'EADDRINUSE') break;
    }
    const addr =
      lastErr && (lastErr as { address?: string }).address ? (lastErr as { address?: string }).address : addrs[0];
    const port = lastErr && (lastErr as { port?: number }).port ? (lastErr as { port?: number }).port : want.HostPort;
    const why =
      lastErr?.code === 'EADDRINUSE' ? 'port is already allocated' : (lastErr?.message ?? 'no address to bind');
    throw systemError(
      `driver failed programming external connectivity on endpoint ${rec.name} (${endpointId(rec.id, primaryNetworkName(rec.config))}): Bind for ${addr && isV6(addr) ? `[${addr}]` : addr}:${port} failed: ${why}`,
    );
  }

  private listen(addr: string, port: number, id: string, containerPort: number, b: Bound): Promise<Server> {
    return new Promise((resolve, reject) => {
      const deps = this.deps(id);
      const s = net.createServer({ allowHalfOpen: true, pauseOnConnect: true }, (sock) => {
        b.conns.add(sock);
        sock.once('close', () => b.conns.delete(sock));
        const local = this.localService(id, containerPort);
        if (local) return local(sock);
        void this.forwarder.handle(sock, containerPort, deps);
      });
      s.once('error', reject);
      s.listen({ host: addr, port, ipv6Only: isV6(addr), exclusive: true }, () => {
        s.off('error', reject);
        s.on('error', (err) => this.log.warn({ err: err.message, addr, port }, 'published port listener error'));
        resolve(s);
      });
    });
  }

  /** How a connection finds the container's running Pod. */
  private deps(id: string): ForwardDeps {
    return {
      resolve: (timeoutMs, signal) =>
        this.e.index
          .when<{ ip: string; namespace: string; pod: string } | { gone: true }>(
            () => {
              const rec = this.e.index.get(id);
              if (!rec) return { gone: true };
              const pod = this.e.index.currentPod(rec);
              const ip = (pod?.status as { podIP?: string } | undefined)?.podIP;
              if (pod && ip && mainStatus(pod)?.state?.running)
                return { ip, namespace: this.e.namespace, pod: pod.metadata.name };
              if (this.starting.has(id)) return undefined;
              const st = this.e.stateOf(rec);
              return st.Running || st.Restarting ? undefined : { gone: true };
            },
            { timeoutMs, signal },
          )
          .then((r) => ('gone' in r ? undefined : r))
          .catch(() => undefined),
      portForward: (namespace, pod, port) => this.e.kube.dialer.portForward(namespace, pod, port).then((d) => d.ws),
    };
  }
}
