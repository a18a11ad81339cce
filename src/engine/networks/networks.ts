/**
 * @module engine/networks/networks
 * Docker networks on Kubernetes: the network API (create, list, inspect, remove, connect,
 * disconnect, prune), the memberships of containers, and the Kubernetes objects that carry them.
 *
 * State lives in Kubernetes, nothing is authoritative in memory:
 * - a network is a ConfigMap record (engine/networks/model.ts), watched;
 * - a container's memberships and aliases are an annotation of its record
 *   (engine/networks/endpoints.ts), changed with compare-and-swap;
 * - name resolution is headless Services, labels on the containers' Pods and hostAliases
 *   (engine/networks/dns.ts), and, with --network-policies true, one NetworkPolicy per network.
 * `sync()` derives the Services, Pod labels and policies from the records and networks and
 * converges the cluster to them (idempotent: after a restart the same state is rebuilt from the
 * watch caches). Records change -> sync runs (coalesced); API calls that change memberships
 * await it, so DNS follows before they answer.
 */
import { detached } from '../../cancel-scope.js';
import { EngineError, invalid, notFound, systemError } from '../../errors.js';
import type { Logger } from '../../log.js';
import { isAlreadyExists, isNotFound, KubeApiError } from '../../kube/client.js';
import type { WatchCache, KObject } from '../../kube/cache.js';
import { LABEL_INSTANCE, LABEL_KIND, type RecordContext } from '../model/record.js';
import { kubeError } from '../../kube/errors.js';
import type { BuiltPod } from '../model/translate.js';
import type { NetworkHost } from './host.js';
import { newId } from '../model/ids.js';
import { nowRfc3339Nano } from '../model/human.js';
import type { ContainerRecord, CreateBody } from '../model/types.js';
import type { PodObject } from '../core/container-index.js';
import { mainStatus } from '../model/state.js';
import { versionLess } from '../model/api-version.js';
import {
  decodeNetwork,
  duplicateName,
  filterNetworks,
  networkObject,
  networkObjectName,
  networkSelector,
  networkView,
  normaliseCreate,
  predefinedNetworks,
  pruneSelect,
  resolveNetwork,
  type NetworkContainerView,
  type NetworkRecord,
} from './model.js';
import {
  ANN_NETWORKS,
  connectEndpoint,
  createEndpoints,
  decodeEndpoints,
  encodeEndpoints,
  networkContainerView,
  networksView,
  primaryNetworkName,
  type Endpoint,
} from './endpoints.js';
import {
  ANN_SVC_NETWORK,
  hostAliasesFor,
  isNetworkLabel,
  planServices,
  podNetworkLabels,
  policyObject,
  serviceMatches,
  serviceObject,
  type Member,
  type ServiceOwner,
} from './dns.js';
import { patchRecordAnnotations, recordAnnotation } from './annotations.js';

export interface NetworkOptions {
  /** One NetworkPolicy per Docker network (isolation between networks, as Docker's). */
  isolation: boolean;
}

/** How long a name taken by a foreign object is left alone before we try to claim it again. */
const FOREIGN_RETRY_MS = 60_000;

export class NetworkManager {
  readonly nets: WatchCache<KObject>;
  readonly services: WatchCache<KObject>;
  readonly policies?: WatchCache<KObject>;
  private readonly started = nowRfc3339Nano();
  private readonly foreign = new Map<string, number>(); // service name -> retry after (ms)
  private readonly endpointCache = new Map<string, { raw: string | undefined; eps: Endpoint[] }>();
  private memo?: { nets: NetworkRecord[]; gateway: string | undefined };
  private netsChanged = true;
  private syncing?: Promise<void>;
  private again = false;
  private scheduled = false;
  private closed = false;
  /**
   * Set by the composition root while the embedded DNS (engine/dns) serves: names then resolve
   * there, per network, and no headless Service or peer hostAlias is made (existing ones go).
   */
  embeddedDns = false;

  constructor(
    private readonly e: NetworkHost,
    readonly opts: NetworkOptions,
    private readonly log: Logger,
  ) {
    const inst = e.opts.instance;
    this.nets = e.kube.cache<KObject>('configmaps', networkSelector(inst));
    this.services = e.kube.cache<KObject>('services', `${LABEL_INSTANCE}=${inst},${LABEL_KIND}=dns`);
    if (opts.isolation)
      this.policies = e.kube.cache<KObject>(
        'networkpolicies',
        `${LABEL_INSTANCE}=${inst},${LABEL_KIND}=network-policy`,
        { path: policiesPath(e.namespace) },
      );
    e.index.listen({
      record: (ev) => {
        if (
          ev.type === 'DELETED' ||
          !ev.old ||
          ev.old.name !== ev.rec.name ||
          this.rawEndpoints(ev.rec) !== this.endpointCache.get(ev.rec.object.name)?.raw
        )
          this.schedule();
        if (ev.type === 'DELETED') this.endpointCache.delete(ev.rec.object.name);
      },
      pod: (ev) => {
        if (ev.type === 'ADDED' && !ev.initial) this.schedule();
      },
    });
    this.nets.subscribe(() => {
      this.netsChanged = true;
      this.schedule();
    });
  }

  async start(): Promise<void> {
    await Promise.all([this.nets.start(), this.services.start(), this.policies?.start()]);
    await this.discoverGateway();
  }

  close(): void {
    this.closed = true;
    this.nets.stop();
    this.services.stop();
    this.policies?.stop();
  }

  private get ctx(): { namespace: string; instance: string } {
    return { namespace: this.e.namespace, instance: this.e.opts.instance };
  }

  /** The address at which containers reach kuber-api (`host-gateway`, the bridge gateway). */
  get gatewayIp(): string | undefined {
    return this.e.opts.hostGatewayIp;
  }

  /**
   * Without POD_IP, find where containers reach kuber-api: on kube-sim (kuber-api runs on the
   * node) the node's address; on a real cluster outside a Pod there is none (host-gateway then
   * fails with a clear error).
   */
  private async discoverGateway(): Promise<void> {
    if (this.e.opts.hostGatewayIp) return;
    type Nodes = {
      items?: Array<{
        status?: {
          addresses?: Array<{ type: string; address: string }>;
          nodeInfo?: { containerRuntimeVersion?: string };
        };
      }>;
    };
    const nodes = await this.e.kube.client.get<Nodes>('/api/v1/nodes').catch(() => undefined);
    const sim = nodes?.items?.find((n) => n.status?.nodeInfo?.containerRuntimeVersion?.startsWith('kube-sim'));
    const ip = sim?.status?.addresses?.find((a) => a.type === 'InternalIP')?.address;
    if (ip) this.e.opts.hostGatewayIp = ip;
  }

  // ------------------------------------------------------------------ lookups

  /**
   * Every network: the predefined ones, then ours (oldest first). Memoised until the network cache
   * changes (a `docker ps` computes every container's view from it).
   */
  all(): NetworkRecord[] {
    if (this.memo && !this.netsChanged && this.memo.gateway === this.gatewayIp) return this.memo.nets;
    const custom = this.nets
      .list()
      .map(decodeNetwork)
      .filter((n): n is NetworkRecord => !!n)
      .sort((a, b) => (a.created < b.created ? -1 : a.created > b.created ? 1 : 0));
    const nets = [...predefinedNetworks(this.e.opts.instance, this.started, this.gatewayIp), ...custom];
    this.memo = { nets, gateway: this.gatewayIp };
    this.netsChanged = false;
    return nets;
  }

  private rawEndpoints(rec: ContainerRecord): string | undefined {
    return recordAnnotation(this.e, rec, ANN_NETWORKS);
  }

  /** A container's memberships (from its record). */
  endpointsOf(rec: ContainerRecord, nets: readonly NetworkRecord[] = this.all()): Endpoint[] {
    const raw = this.rawEndpoints(rec);
    const c = this.endpointCache.get(rec.object.name);
    if (c && c.raw === raw && raw !== undefined) return c.eps;
    const eps = decodeEndpoints(raw, rec, nets);
    this.endpointCache.set(rec.object.name, { raw, eps });
    return eps;
  }

  private podIp(rec: ContainerRecord): string | undefined {
    const pod = this.e.index.currentPod(rec);
    const ip = (pod?.status as { podIP?: string } | undefined)?.podIP;
    return pod && ip && mainStatus(pod)?.state?.running ? ip : undefined;
  }

  private members(nets: readonly NetworkRecord[]): Member[] {
    return this.e.index.all().map((rec) => ({ rec, endpoints: this.endpointsOf(rec, nets), ip: this.podIp(rec) }));
  }

  private inUse(n: NetworkRecord, members: readonly Member[]): boolean {
    return members.some((m) => m.ip && m.endpoints.some((e) => e.NetworkID === n.id));
  }

  private containersOf(n: NetworkRecord, members: readonly Member[]): Record<string, NetworkContainerView> {
    const out: Record<string, NetworkContainerView> = {};
    for (const m of members)
      if (m.ip && m.endpoints.some((e) => e.NetworkID === n.id))
        out[m.rec.id] = networkContainerView(m.rec, n.id, m.ip);
    return out;
  }

  // ------------------------------------------------------------------ the network API

  async createNetwork(body: Record<string, unknown>): Promise<{ Id: string; Warning: string }> {
    const { name, config, warning } = normaliseCreate(body, { isolation: this.opts.isolation });
    // moby 25+ rejects a duplicate name whatever CheckDuplicate says (checked against dockerd 26).
    if (this.all().some((n) => n.name === name)) throw duplicateName(name);
    const id = newId();
    const o = this.e.opts.ownerPod;
    const rctx: RecordContext = {
      namespace: this.e.namespace,
      instance: this.e.opts.instance,
      ...(o ? { owner: { apiVersion: 'v1', kind: 'Pod', name: o.name, uid: o.uid } } : {}),
    };
    const cm = networkObject(rctx, { id, name, created: nowRfc3339Nano(), config });
    try {
      this.nets.observe(await this.e.kube.client.create<KObject>(this.e.kube.path('configmaps'), cm));
    } catch (err) {
      if (!isAlreadyExists(err)) throw kubeError(err, 'creating the network record');
      // Same name created concurrently (the object name derives from it), or our own retried create.
      const have = await this.e.kube.client
        .get<KObject>(this.e.kube.path('configmaps', networkObjectName(this.e.opts.instance, name)))
        .catch(() => undefined);
      if (have) this.nets.observe(have);
      if (decodeNetwork(have ?? cm)?.id !== id) throw duplicateName(name);
    }
    this.e.events.publish('network', 'create', id, { name, type: config.Driver });
    return { Id: id, Warning: warning };
  }

  async listNetworks(filters: Record<string, string[]>): Promise<unknown[]> {
    const nets = this.all();
    const members = this.members(nets);
    // moby lists without the Containers of each network (those are for inspect).
    return filterNetworks(nets, filters, (n) => this.inUse(n, members)).map((n) => networkView(n, {}, this.gatewayIp));
  }

  async inspectNetwork(term: string): Promise<unknown> {
    const nets = this.all();
    const n = resolveNetwork(nets, term);
    return networkView(n, this.containersOf(n, this.members(nets)), this.gatewayIp);
  }

  async removeNetwork(term: string): Promise<void> {
    const nets = this.all();
    const n = resolveNetwork(nets, term);
    if (n.predefined) throw new EngineError('forbidden', `${n.name} is a pre-defined network and cannot be removed`);
    if (this.inUse(n, this.members(nets)))
      throw new EngineError(
        'forbidden',
        `error while removing network: network ${n.name} id ${n.id} has active endpoints`,
      );
    try {
      await this.e.kube.client.delete(this.e.kube.path('configmaps', n.object!.name), {
        propagationPolicy: 'Background',
      });
    } catch (err) {
      if (!isNotFound(err)) throw kubeError(err, 'deleting the network record');
    }
    this.nets.forget(n.object!.name);
    this.e.events.publish('network', 'destroy', n.id, { name: n.name, type: n.config.Driver });
    await this.sync();
  }

  async pruneNetworks(filters: Record<string, string[]>): Promise<{ NetworksDeleted: string[] | null }> {
    const nets = this.all();
    const members = this.members(nets);
    const deleted: string[] = [];
    for (const n of pruneSelect(nets, filters, (x) => this.inUse(x, members))) {
      try {
        await this.removeNetwork(n.id);
        deleted.push(n.name);
      } catch (err) {
        this.log.warn({ err: (err as Error).message, network: n.name }, 'prune: could not remove a network');
      }
    }
    this.e.events.publish('network', 'prune', '', { reclaimed: '0' });
    return { NetworksDeleted: deleted.length ? deleted : null };
  }

  async connectNetwork(
    term: string,
    body: { Container?: string; EndpointConfig?: Record<string, unknown> | null },
  ): Promise<void> {
    const net = resolveNetwork(this.all(), term);
    const rec0 = this.e.index.resolve(String(body.Container ?? ''));
    await this.e.withLock(rec0.id, async () => {
      const rec = this.e.index.get(rec0.id);
      if (!rec) throw notFound(`No such container: ${body.Container}`);
      const nets = this.all();
      const eps = this.endpointsOf(rec, nets);
      const running = this.e.stateOf(rec).Running;
      if (primaryNetworkName(rec.config) === 'none' && net.name !== 'none')
        throw invalid(
          'container cannot be connected to multiple networks with one of the networks in private (none) mode',
        );
      const existing = eps.find((x) => x.NetworkID === net.id);
      if (existing && running)
        throw new EngineError('forbidden', `endpoint with name ${rec.name} already exists in network ${net.name}`);
      // A created container's connect replaces its settings for that network (moby updateNetworkConfig).
      const ep = connectEndpoint(
        net,
        body.EndpointConfig ?? undefined,
        eps.filter((x) => x.NetworkID !== net.id),
      );
      const next = [...eps.filter((x) => x.NetworkID !== net.id), ep];
      await patchRecordAnnotations(this.e, rec.id, () => ({ [ANN_NETWORKS]: encodeEndpoints(next) }));
      this.e.events.publish('network', 'connect', net.id, {
        container: rec.id,
        name: net.name,
        type: net.config.Driver,
      });
    });
    await this.sync();
  }

  async disconnectNetwork(term: string, body: { Container?: string; Force?: boolean }): Promise<void> {
    const net = resolveNetwork(this.all(), term);
    const rec0 = this.e.index.resolve(String(body.Container ?? ''));
    await this.e.withLock(rec0.id, async () => {
      const rec = this.e.index.get(rec0.id);
      if (!rec) throw notFound(`No such container: ${body.Container}`);
      const eps = this.endpointsOf(rec);
      if (net.name === 'host')
        throw invalid('container cannot be disconnected from host network or connected to host network');
      if (!eps.some((x) => x.NetworkID === net.id))
        throw systemError(`container ${rec.id} is not connected to network ${net.name}`);
      const next = eps.filter((x) => x.NetworkID !== net.id);
      await patchRecordAnnotations(this.e, rec.id, () => ({ [ANN_NETWORKS]: encodeEndpoints(next) }));
      this.e.events.publish('network', 'disconnect', net.id, {
        container: rec.id,
        name: net.name,
        type: net.config.Driver,
      });
    });
    await this.sync();
  }

  // ------------------------------------------------------------------ hooks of the container lifecycle

  /** At `docker create`: the memberships (404 for an unknown network) as a record annotation. */
  prepareCreate(config: CreateBody): { annotations: Record<string, string>; warnings: string[] } {
    const { endpoints, warnings } = createEndpoints(config, this.all());
    return { annotations: { [ANN_NETWORKS]: encodeEndpoints(endpoints) }, warnings };
  }

  /**
   * At each start, on the Pod about to be created: its network labels (Service selectors,
   * policies) and hostAliases for the names no Service serves. A network removed since create
   * fails the start, as in Docker.
   */
  async decoratePod(rec: ContainerRecord, pod: BuiltPod): Promise<void> {
    // Its names' Services exist before its Pod does (a peer resolving it right after the start
    // finds them). A container only on predefined networks has no names: the start does not wait.
    const custom = this.endpointsOf(rec).some((ep) => this.all().some((n) => n.id === ep.NetworkID && !n.predefined));
    if (custom)
      await this.sync().catch((err: Error) =>
        this.log.warn({ err: err.message }, 'network sync failed before a start'),
      );
    const nets = this.all();
    const me: Member = { rec, endpoints: this.endpointsOf(rec, nets), ip: undefined };
    for (const ep of me.endpoints)
      if (!nets.some((n) => n.id === ep.NetworkID)) throw notFound(`network ${ep.Name} not found`);
    const members = this.members(nets);
    const plan = this.plan(members, nets);
    pod.metadata.labels = { ...pod.metadata.labels, ...podNetworkLabels(me, nets) };
    const extra = hostAliasesFor(me, members, nets, plan, !this.embeddedDns);
    if (extra.length) {
      const merged = new Map<string, string[]>();
      for (const a of [...(pod.spec.hostAliases ?? []), ...extra])
        merged.set(a.ip, [...new Set([...(merged.get(a.ip) ?? []), ...(a.hostnames ?? [])])]);
      pod.spec.hostAliases = [...merged].map(([ip, hostnames]) => ({ ip, hostnames }));
    }
  }

  /** `NetworkSettings.Networks` and the top-level bridge fields (below API 1.52) of a container. */
  containerView(
    rec: ContainerRecord,
    pod: PodObject | undefined,
    running: boolean,
    apiVersion: string,
  ): { networks: Record<string, unknown>; bridge?: { ip: string; gateway: string; endpointId: string } } {
    const nets = this.all();
    const endpoints = this.endpointsOf(rec, nets);
    const ip = running ? (pod?.status as { podIP?: string } | undefined)?.podIP : undefined;
    const networks = networksView({ rec, endpoints, nets, ip, gatewayIp: this.gatewayIp, apiVersion, lt: versionLess });
    const b = networks.bridge as { IPAddress: string; Gateway: string; EndpointID: string } | undefined;
    return { networks, ...(b ? { bridge: { ip: b.IPAddress, gateway: b.Gateway, endpointId: b.EndpointID } } : {}) };
  }

  // ---- engine/dns reads the memberships through these two (dns/host.ts DnsNetworkView)

  /** Every container whose Pod has an address and is not finished, with its memberships. */
  dnsMembers(): { members: Member[]; nets: NetworkRecord[] } {
    const nets = this.all();
    const members = this.e.index.all().map((rec) => {
      const pod = this.e.index.currentPod(rec);
      const ip = (pod?.status as { podIP?: string } | undefined)?.podIP;
      const live = !!pod && !pod.metadata.deletionTimestamp && !mainStatus(pod)?.state?.terminated;
      return { rec, endpoints: this.endpointsOf(rec, nets), ...(live && ip ? { ip } : {}) };
    });
    return { members, nets };
  }

  onNetworksChange(cb: () => void): () => void {
    return this.nets.subscribe(() => cb());
  }

  /** Names and IDs of a container's networks (the `network` filter of GET /containers/json). */
  networkKeys(rec: ContainerRecord): string[] {
    return this.endpointsOf(rec).flatMap((e) => [e.Name, e.NetworkID]);
  }

  // ------------------------------------------------------------------ convergence

  private plan(members: readonly Member[], nets: readonly NetworkRecord[]): Map<string, ServiceOwner> {
    if (this.embeddedDns) return new Map();
    const now = Date.now();
    for (const [n, until] of this.foreign) if (until <= now) this.foreign.delete(n);
    const current = new Map(
      this.services.list().map((s) => [s.metadata.name, s.metadata.annotations?.[ANN_SVC_NETWORK] ?? '']),
    );
    return planServices(members, nets, current, new Set(this.foreign.keys()));
  }

  private schedule(): void {
    if (this.scheduled || this.closed) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      void this.sync().catch((err: Error) => this.log.warn({ err: err.message }, 'network sync failed'));
    });
  }

  /** Converge Services, Pod labels and policies to the records (one pass at a time; coalesced). */
  sync(): Promise<void> {
    if (this.closed) return Promise.resolve();
    if (this.syncing) {
      this.again = true;
      return this.syncing;
    }
    const run = async () => {
      do {
        this.again = false;
        await this.syncOnce();
      } while (this.again && !this.closed);
    };
    this.syncing = detached(run).finally(() => (this.syncing = undefined));
    return this.syncing;
  }

  private async syncOnce(): Promise<void> {
    const nets = this.all();
    const members = this.members(nets);
    const errors: unknown[] = [];
    const attempt = (p: Promise<unknown>) => p.catch((err) => void errors.push(err));
    const tasks = [
      ...this.serviceTasks(this.plan(members, nets), nets),
      ...this.podLabelTasks(members, nets),
      ...this.policyTasks(nets),
    ];
    await Promise.all(tasks.map(attempt));
    if (errors.length) {
      const err = errors[0];
      throw err instanceof KubeApiError ? kubeError(err, 'updating network objects') : err;
    }
  }

  /** Services: create (or replace) the planned ones, delete ours that are no longer planned. */
  private serviceTasks(plan: Map<string, ServiceOwner>, nets: NetworkRecord[]): Promise<unknown>[] {
    const byId = new Map(nets.map((n) => [n.id, n]));
    const tasks: Promise<unknown>[] = [];
    for (const [name, owner] of plan) {
      const want = serviceObject(this.ctx, owner, byId.get(owner.networkId)!);
      const have = this.services.get(name);
      if (!have || !serviceMatches(have, want)) tasks.push(this.putService(name, want, have));
    }
    for (const svc of this.services.list()) {
      const name = svc.metadata.name;
      if (plan.has(name)) continue;
      tasks.push(
        this.e.kube.client.delete(this.e.kube.path('services', name)).then(
          () => this.services.forget(name),
          (err) => {
            if (!isNotFound(err)) throw err;
            this.services.forget(name);
          },
        ),
      );
    }
    return tasks;
  }

  /** Replace a Service; a name someone else holds makes the Docker name a hostAlias instead. */
  private async putService(name: string, want: KObject, have: KObject | undefined): Promise<void> {
    const c = this.e.kube.client;
    if (have) {
      await c.delete(this.e.kube.path('services', name)).catch((err) => {
        if (!isNotFound(err)) throw err;
      });
      this.services.forget(name);
    }
    try {
      this.services.observe(await c.create<KObject>(this.e.kube.path('services'), want));
    } catch (err) {
      if (!isAlreadyExists(err)) throw err;
      const other = await c.get<KObject>(this.e.kube.path('services', name)).catch(() => undefined);
      if (
        other &&
        other.metadata.labels?.[LABEL_INSTANCE] === this.e.opts.instance &&
        other.metadata.labels?.[LABEL_KIND] === 'dns'
      )
        this.services.observe(other);
      else {
        this.foreign.set(name, Date.now() + FOREIGN_RETRY_MS);
        this.log.info(
          { name },
          'a Service of this name exists and is not ours: the Docker name resolves through hostAliases instead',
        );
      }
    }
  }

  /** Pod labels of running members (live connect, disconnect, rename). */
  private podLabelTasks(members: Member[], nets: NetworkRecord[]): Promise<unknown>[] {
    const tasks: Promise<unknown>[] = [];
    for (const m of members) {
      const pod = this.e.index.currentPod(m.rec);
      if (!pod || pod.metadata.deletionTimestamp) continue;
      const want = podNetworkLabels(m, nets);
      const have = pod.metadata.labels ?? {};
      const patch: Record<string, string | null> = {};
      for (const [k, v] of Object.entries(want)) if (have[k] !== v) patch[k] = v;
      for (const k of Object.keys(have)) if (isNetworkLabel(k) && !(k in want)) patch[k] = null;
      if (!Object.keys(patch).length) continue;
      tasks.push(
        this.e.kube.client
          .mergePatch<PodObject>(this.e.kube.path('pods', pod.metadata.name), { metadata: { labels: patch } })
          .then(
            (p) => this.e.index.pods.observe(p),
            (err) => {
              if (!isNotFound(err)) throw err;
            },
          ),
      );
    }
    return tasks;
  }

  /** NetworkPolicies (--network-policies true): one per network, replaced when its spec changes. */
  private policyTasks(nets: NetworkRecord[]): Promise<unknown>[] {
    const policies = this.policies;
    if (!policies) return [];
    const c = this.e.kube.client;
    const base = policiesPath(this.e.namespace);
    const wanted = new Map<string, KObject>();
    for (const n of nets) {
      const p = policyObject(this.ctx, n, this.gatewayIp);
      if (p) wanted.set(p.metadata.name, p);
    }
    const tasks: Promise<unknown>[] = [];
    for (const [name, p] of wanted) {
      const have = policies.get(name);
      if (have && JSON.stringify(have.spec) === JSON.stringify(p.spec)) continue;
      tasks.push(
        (have ? c.delete(`${base}/${name}`).catch(() => undefined) : Promise.resolve()).then(async () => {
          if (have) policies.forget(name);
          try {
            policies.observe(await c.create<KObject>(base, p));
          } catch (err) {
            if (!isAlreadyExists(err)) throw err;
          }
        }),
      );
    }
    for (const p of policies.list()) {
      const name = p.metadata.name;
      if (!wanted.has(name))
        tasks.push(
          c.delete(`${base}/${name}`).then(
            () => policies.forget(name),
            (err) => void (isNotFound(err) ? policies.forget(name) : Promise.reject(err)),
          ),
        );
    }
    return tasks;
  }
}

/** The namespace's NetworkPolicy collection (networking.k8s.io/v1, outside the core group `Kube.path` builds). */
function policiesPath(namespace: string): string {
  return `/apis/networking.k8s.io/v1/namespaces/${encodeURIComponent(namespace)}/networkpolicies`;
}
