/**
 * @module engine/kube-engine
 * Docker containers on Kubernetes: the `Backend` the API handlers call, a facade over the services
 * that do the work, plus the helpers they share (lock, record compare-and-swap, Pod deletion).
 *
 * A container is a ConfigMap record (engine/record) created at `docker create`, and one Pod per
 * run, created at each `docker start` (and by the restart policy), owned by the record. State is
 * read from the watch caches (engine/container-index) and derived by engine/state; writes go to
 * Kubernetes first, with the record's resourceVersion as a precondition. Lifecycle operations on
 * one container are serialised; watch events drive start/die/health events, AutoRemove and the
 * restart policy (engine/containers/monitor.ts), so that a container that exits on its own is seen exiting.
 * The lifecycle lives in engine/containers/create.ts (create, rename, rm, prune), lifecycle-start.ts
 * (start, runs), lifecycle-stop.ts (stop, kill, restart), wait.ts and top.ts.
 */
import { detached } from '../cancel-scope.js';
import { notFound } from '../errors.js';
import { childLogger, type Logger } from '../log.js';
import type { Kube } from '../kube/index.js';
import { isAmbiguous, isConflict, isNotFound } from '../kube/client.js';
import { kubeError } from '../kube/errors.js';
import type { KObject } from '../kube/cache.js';
import type { Backend, CreateResult, ListOptions, SystemInfo, WaitCondition, WaitResult } from './backend/backend.js';
import { ContainerIndex, type PodObject } from './core/container-index.js';
import { EventBus } from './events/events.js';
import { selectContainers, type ListEntry } from './model/filters.js';
import { podName } from './model/ids.js';
import { decodeRecord, selectorFor, statePatch, type RecordContext } from './model/record.js';
import { dockerState } from './model/state.js';
import { buildPod, CONTAINER_NAME, type PodContext } from './model/translate.js';
import { podIntent } from './images/config.js';
import type { ContainerRecord, DockerState, RecordState } from './model/types.js';
import { inspectView, summaryView } from './model/views.js';
import { Monitor } from './containers/monitor.js';
import { imageId as imageIdOf } from './model/image-names.js';
import { ImageService, type ImageUser } from './images/service.js';
import { ImageStore } from './images/store.js';
import { RegistryCredentials } from './images/registry/credentials.js';
import { ArchiveService } from './archive/archive.js';
import { ArchiveStage, stagedSources } from './archive/stage.js';
import { Inspector } from './archive/inspector.js';
import { podStorage, type PodStorage } from './volumes/volume-pod.js';
import { VolumeService } from './volumes/service.js';
import { inspectMount } from './volumes/spec.js';
import { NetworkManager } from './networks/networks.js';
import { EmbeddedDns } from './dns/embedded.js';
import { PortPublisher } from './ports/publisher.js';
import { inspectPorts, listPorts } from './ports/ports.js';
import { ContainerCreator } from './containers/create.js';
import { ContainerStarter } from './containers/start.js';
import { ContainerStopper } from './containers/stop.js';
import { waitContainer } from './containers/wait.js';
import { topContainer } from './containers/top.js';
import {
  resolveEngineOptions,
  type ContainerTarget,
  type EngineOptions,
  type EngineOptionsInput,
} from './engine-options.js';
import { Streams } from './streams/streams.js';
import { PodSecurityGate } from './security/gate.js';
import type { ProgressMessage, PullOptions, RegistryAuth } from './backend/images.js';
import type { ContainerArchive, PutArchiveOptions, PathStat } from './backend/archive.js';
import type {
  AttachOptions,
  AttachStart,
  ContainerLogs,
  ExecStart,
  ExecStartOptions,
  LogsOptions,
} from './backend/streams.js';
import { RyukService } from './ryuk/service.js';
import type { RyukDocker } from './ryuk/host.js';
import { isRyukImage } from './ryuk/config.js';
import type { DiskUsage, DiskUsageType, HistoryEntry, StatsReader } from './backend/inventory.js';
import { diskUsage, type VolumeInventory } from './inventory/disk-usage.js';
import { imageHistory } from './images/history.js';
import { UserResolver } from './users/users.js';
import { StatsService } from './stats/stats.js';

/** Helpers that cannot be root run as the container's own numeric non-root user, so that what they write is its own. */
function helperUser(rec: ContainerRecord): { helperUid?: number } {
  const u = /^(\d+)/.exec(rec.config.User ?? '')?.[1];
  return u && Number(u) > 0 ? { helperUid: Number(u) } : {};
}

export class KubeEngine implements Backend {
  readonly kube: Kube;
  readonly opts: EngineOptions;
  readonly events: EventBus;
  readonly index: ContainerIndex;
  readonly log: Logger;
  /** Watch-driven events, AutoRemove and the restart policy (engine/containers/monitor.ts). */
  readonly monitor: Monitor;
  /** The container lifecycle: create/rename/rm/prune, start and runs, stop/kill/restart. */
  readonly creator: ContainerCreator;
  readonly starter: ContainerStarter;
  readonly stopper: ContainerStopper;
  /** Images: registry-backed configs kept in Kubernetes; `images.imageConfig(ref)` is the seam for image defaults. */
  readonly images: ImageService;
  /** `docker login` / authenticated pull credentials, kept in a Secret the Pods name in imagePullSecrets. */
  private readonly registryCredentials: RegistryCredentials;
  /** attach, exec, logs (engine/streams/streams.ts). */
  readonly streams: Streams;
  /** docker cp (engine/archive/archive.ts); archives copied before start (engine/archive/stage.ts). */
  readonly archives: ArchiveService;
  readonly archiveStage: ArchiveStage;
  readonly inspector: Inspector;
  /** Docker networks and DNS (engine/networks/networks.ts). */
  readonly networks: NetworkManager;
  /** Published ports (engine/ports/publisher.ts). */
  readonly ports: PortPublisher;
  /** Ryuk played in process: its containers have no Pod (engine/ryuk/service.ts). */
  readonly ryuk: RyukService;
  /** --user names resolved from the image's /etc/passwd (engine/users). */
  readonly users: UserResolver;
  /** docker stats from the metrics API (engine/stats). */
  readonly stats: StatsService;
  /** The volumes `docker system df` lists (engine/inventory/disk-usage.ts), from the volumes wing. */
  readonly volumeInventory: VolumeInventory = { diskUsageVolumes: () => this.volumesDiskUsage() };
  /** The Pod policy every Pod passes before it is created (engine/security/gate.ts). */
  readonly security: PodSecurityGate;
  /** The embedded DNS, names per network (engine/dns/embedded.ts); else headless Services. */
  readonly dns: EmbeddedDns;
  /** Volumes and bind mounts (engine/volumes/service.ts). */
  readonly volumes: VolumeService;
  private readonly locks = new Map<string, Promise<unknown>>();
  private readonly removalHolds = new Map<string, Set<Promise<void>>>();
  private versionInfo?: Promise<{ version: string; simulated: boolean }>;

  constructor(kube: Kube, opts: EngineOptionsInput, log?: Logger) {
    this.kube = kube;
    this.opts = resolveEngineOptions(opts);
    this.log = log ?? childLogger({ component: 'engine' });
    this.events = this.opts.events ?? new EventBus(this.opts.eventsBufferSize);
    const selector = selectorFor(this.opts.instance);
    this.index = new ContainerIndex(
      kube.cache<KObject>('configmaps', selector),
      kube.cache<PodObject>('pods', selector),
    );
    this.security = new PodSecurityGate(
      kube.client,
      kube.namespace,
      this.opts.security,
      this.log.child({ component: 'security' }),
    );
    this.monitor = new Monitor(this);
    this.creator = new ContainerCreator(this);
    this.starter = new ContainerStarter(this);
    this.stopper = new ContainerStopper(this);
    const owner = this.opts.ownerPod;
    this.registryCredentials = new RegistryCredentials(kube, this.opts.instance, owner);
    this.images = new ImageService(
      new ImageStore({ kube, instance: this.opts.instance, ...(owner ? { owner } : {}) }),
      {
        events: this.events,
        log: this.log,
        users: () => this.imageUsers(),
        credentials: (domain) => this.registryCredentials.credentials(domain),
        rememberCredentials: (domain, auth) => this.registryCredentials.remember(domain, auth),
      },
      this.opts.images,
    );
    this.streams = new Streams(this, this.opts.streams, this.log);
    this.networks = new NetworkManager(this, this.opts.network, this.log.child({ component: 'networks' }));
    this.dns = new EmbeddedDns(this, this.opts.dns, this.log.child({ component: 'dns' }));
    this.ports = new PortPublisher(this, this.opts.publish, this.log.child({ component: 'ports' }));
    this.archives = new ArchiveService(this);
    this.archiveStage = new ArchiveStage(this, {
      maxBytes: this.opts.archiveMaxBytes,
      maxFiles: this.opts.archiveMaxFiles,
      budgetBytes: this.opts.archiveBudgetBytes,
    });
    this.archives.stager = this.archiveStage;
    this.inspector = new Inspector(this, {
      helperImage: this.opts.helperImage,
      imagePullPolicy: this.opts.imagePullPolicy,
      idleMs: this.opts.inspectorIdleMs,
      startTimeoutMs: this.opts.startTimeoutMs,
    });
    this.archives.inspector = this.inspector;
    // ---- ryuk wing: its containers' state, lifecycle, streams and published port are its own.
    this.ryuk = new RyukService(
      {
        kube,
        namespace: kube.namespace,
        index: this.index,
        events: this.events,
        log: this.log.child({ component: 'ryuk' }),
        withLock: (id, fn) => this.withLock(id, fn),
        eventSource: (r) => this.eventSource(r),
        ports: this.ports,
        noteExit: (id, code) => this.monitor.noteExit(id, code),
        removeLocked: (id, force) => this.removeLocked(id, force),
        autoRemoveHeld: (id) => this.autoRemoveHeld(id),
        docker: this.ryukDocker(),
      },
      this.opts.ryuk,
    );
    this.ports.localService = (id, port) => this.ryuk.connectionHandler(id, port);
    this.users = new UserResolver(this);
    this.stats = new StatsService(this);
    this.volumes = new VolumeService(this, this.opts.volumes);
  }

  /** What Ryuk's Docker client does through its socket, on kuber-api's own operations (so every removal has its events). */
  private ryukDocker(): RyukDocker {
    const api = '1.51';
    type Summary = { Id: string; Created: number; Labels?: Record<string, string> };
    return {
      listContainers: async (filters) =>
        (await this.listContainers({ all: true, size: false, filters }, api)) as Summary[],
      removeContainer: (id) => this.removeContainer(id, { force: true, volumes: true, link: false }),
      listNetworks: async (filters) => (await this.listNetworks(filters)) as Array<{ Id: string; Created: string }>,
      removeNetwork: (id) => this.removeNetwork(id),
      listImages: async (filters) => (await this.listImages({ all: false, filters }, api)) as Summary[],
      removeImage: async (id) => void (await this.removeImage(id, { force: false, noprune: false })),
      listVolumes: async (filters) =>
        (await this.listVolumes(filters)).Volumes as Array<{ Name: string; CreatedAt?: string }>,
      removeVolume: (name) => this.removeVolume(name, false),
    };
  }

  // ------------------------------------------------------------------ inventory: df, image history, stats (issue 10 item 7)

  diskUsage(types: ReadonlySet<DiskUsageType>, apiVersion: string): Promise<DiskUsage> {
    return diskUsage(
      {
        images: async () =>
          (await this.images.list({ all: true, filters: {} }, '1.51')) as Array<Record<string, unknown>>,
        containers: (v) => this.listContainers({ all: true, size: true, filters: {} }, v),
        volumes: this.volumeInventory,
      },
      types,
      apiVersion,
    );
  }
  async imageHistory(name: string): Promise<HistoryEntry[]> {
    const e = this.images.find(name);
    if (!e) throw notFound(`No such image: ${name}`);
    return imageHistory(e);
  }
  containerStats(nameOrId: string): Promise<StatsReader> {
    return this.stats.reader(nameOrId);
  }

  /** The Secret Pods name in imagePullSecrets (docker login), if any: helper Pods need it too. */
  pullSecretName(): string | undefined {
    return this.registryCredentials.secretName();
  }

  /** The storage of a run's Pod: staged archives, volumes, bind snapshots (engine/volumes/volume-pod.ts). */
  async podStorage(rec: ContainerRecord): Promise<PodStorage> {
    const manifest = this.archiveStage.manifest(rec);
    const vol = await this.volumes.podParts(rec);
    // Copy-up runs as the container does (its image, its user): engine/volumes/volume-pod.ts.
    const main = buildPod(this.podContext(rec), {
      id: rec.id,
      name: rec.name,
      config: podIntent(rec.config, rec.image),
      run: 0,
      podName: 'x',
    }).spec.containers[0];
    return podStorage({
      manifest,
      sources: stagedSources(rec.object.name, manifest),
      helperImage: this.opts.helperImage,
      imagePullPolicy: this.opts.imagePullPolicy,
      securityLevel: this.security.levelName,
      ...helperUser(rec),
      ...vol,
      image: main.image!,
      ...(main.securityContext ? { securityContext: main.securityContext } : {}),
    });
  }

  // ------------------------------------------------------------------ volumes (engine/volumes/service.ts)

  createVolume(body: Parameters<VolumeService['createVolume']>[0]): Promise<unknown> {
    return this.volumes.createVolume(body);
  }
  listVolumes(filters: Record<string, string[]>): Promise<{ Volumes: unknown[]; Warnings: null }> {
    return this.volumes.listVolumes(filters);
  }
  inspectVolume(name: string): Promise<unknown> {
    return this.volumes.inspectVolume(name);
  }
  removeVolume(name: string, force: boolean): Promise<void> {
    return this.volumes.removeVolume(name, force);
  }
  pruneVolumes(
    filters: Record<string, string[]>,
    apiVersion: string,
  ): Promise<{ VolumesDeleted: string[]; SpaceReclaimed: number }> {
    return this.volumes.pruneVolumes(filters, apiVersion);
  }
  async volumesDiskUsage(): Promise<unknown[]> {
    return this.volumes.dfVolumes();
  }

  // ------------------------------------------------------------------ docker cp (engine/archive/archive.ts)

  statContainerPath(nameOrId: string, path: string): Promise<PathStat> {
    if (this.ryukRecord(nameOrId)) this.ryuk.refuse('docker cp');
    return this.archives.statContainerPath(nameOrId, path);
  }
  getContainerArchive(nameOrId: string, path: string, signal: AbortSignal): Promise<ContainerArchive> {
    if (this.ryukRecord(nameOrId)) this.ryuk.refuse('docker cp');
    return this.archives.getContainerArchive(nameOrId, path, signal);
  }
  putContainerArchive(
    nameOrId: string,
    path: string,
    opts: PutArchiveOptions,
    body: AsyncIterable<Buffer>,
  ): Promise<void> {
    if (this.ryukRecord(nameOrId)) this.ryuk.refuse('docker cp');
    return this.archives.putContainerArchive(nameOrId, path, opts, body);
  }

  // ------------------------------------------------------------------ attach / exec / logs (engine/streams/streams.ts)

  attachContainer(nameOrId: string, opts: AttachOptions): AttachStart {
    const r = this.ryukRecord(nameOrId);
    if (r) return this.ryuk.attach(r, opts);
    return this.streams.attachContainer(nameOrId, opts);
  }
  resizeContainer(nameOrId: string, height: number, width: number): void {
    this.streams.resizeContainer(nameOrId, height, width);
  }
  createExec(nameOrId: string, body: Record<string, unknown> | undefined): { Id: string } {
    if (this.ryukRecord(nameOrId)) this.ryuk.refuse('exec');
    return this.streams.createExec(nameOrId, body);
  }
  inspectExec(id: string): Record<string, unknown> {
    return this.streams.inspectExec(id);
  }
  resizeExec(id: string, height: number, width: number): void {
    this.streams.resizeExec(id, height, width);
  }
  startExec(id: string, opts: ExecStartOptions): Promise<ExecStart> {
    return this.streams.startExec(id, opts);
  }
  containerLogs(nameOrId: string, opts: LogsOptions): ContainerLogs {
    const r = this.ryukRecord(nameOrId);
    if (r) return this.ryuk.logs(r, opts);
    return this.streams.containerLogs(nameOrId, opts);
  }

  /** Sync the caches (list), then let the monitor catch up with what happened while we were away. */
  async start(): Promise<void> {
    await Promise.all([
      this.index.start(),
      this.images.store.start(),
      this.registryCredentials.start(),
      this.networks.start(),
      this.volumes.start(),
    ]);
    // After networks.start(): on kube-sim the address containers reach us at is discovered there.
    this.networks.embeddedDns = await this.dns.start();
    this.monitor.catchUp();
    this.ryuk.catchUp(); // before the ports: a resumed Ryuk takes its connections
    this.ports.catchUp();
    void this.networks.sync().catch((err: Error) => this.log.warn({ err: err.message }, 'network sync failed'));
  }

  close(): void {
    this.ryuk.close();
    this.monitor.close();
    this.ports.close();
    this.networks.close();
    this.dns.close();
    this.index.stop();
    this.images.store.stop();
    this.volumes.stop();
  }

  // ------------------------------------------------------------------ networks (engine/networks/networks.ts)

  createNetwork(body: Record<string, unknown>): Promise<{ Id: string; Warning: string }> {
    return this.networks.createNetwork(body);
  }
  listNetworks(filters: Record<string, string[]>): Promise<unknown[]> {
    return this.networks.listNetworks(filters);
  }
  inspectNetwork(term: string): Promise<unknown> {
    return this.networks.inspectNetwork(term);
  }
  removeNetwork(term: string): Promise<void> {
    return this.networks.removeNetwork(term);
  }
  connectNetwork(
    term: string,
    body: { Container?: string; EndpointConfig?: Record<string, unknown> | null },
  ): Promise<void> {
    return this.networks.connectNetwork(term, body);
  }
  disconnectNetwork(term: string, body: { Container?: string; Force?: boolean }): Promise<void> {
    return this.networks.disconnectNetwork(term, body);
  }
  pruneNetworks(filters: Record<string, string[]>): Promise<{ NetworksDeleted: string[] | null }> {
    return this.networks.pruneNetworks(filters);
  }

  /** The network and port parts of a container's inspect/list JSON (views.ts). */
  private netView(rec: ContainerRecord, pod: PodObject | undefined, state: DockerState, apiVersion: string) {
    const running = state.Running;
    const exposed = this.ports.exposed(rec);
    const allocated = this.ports.allocated(rec);
    return {
      ...this.networks.containerView(rec, pod, running, apiVersion),
      ports: inspectPorts(exposed, allocated, running),
      listPorts: listPorts(exposed, allocated, running),
    };
  }

  // ------------------------------------------------------------------ shared helpers

  get namespace(): string {
    return this.kube.namespace;
  }

  /** Serialise operations on one container (start/stop/rm/restart-policy actions). */
  withLock<T>(id: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.locks.get(id) ?? Promise.resolve();
    const next = prev.catch(() => {}).then(fn);
    const tail = next.catch(() => {});
    this.locks.set(id, tail);
    void tail.then(() => {
      if (this.locks.get(id) === tail) this.locks.delete(id);
    });
    return next;
  }

  stateOf(rec: ContainerRecord): DockerState {
    return this.derivedState(rec, this.index.currentPod(rec));
  }

  /** Docker's State: from the record and the current Pod, or the in-process Ryuk's own (it has no Pod). */
  private derivedState(rec: ContainerRecord, pod: PodObject | undefined, now = Date.now()): DockerState {
    return this.ryuk.state(rec) ?? dockerState(rec, pod, now);
  }

  /** The record of `nameOrId` when it is a Ryuk played in process (404/400 as any lookup). */
  private ryukRecord(nameOrId: string): ContainerRecord | undefined {
    const rec = this.index.resolve(nameOrId);
    return this.ryuk.owns(rec) ? rec : undefined;
  }

  eventSource(rec: ContainerRecord) {
    return { id: rec.id, name: rec.name, image: rec.config.Image ?? '', labels: rec.config.Labels ?? {} };
  }

  recordContext(): RecordContext {
    const o = this.opts.ownerPod;
    return {
      namespace: this.namespace,
      instance: this.opts.instance,
      ...(o ? { owner: { apiVersion: 'v1', kind: 'Pod', name: o.name, uid: o.uid } } : {}),
    };
  }

  podContext(rec: ContainerRecord): PodContext {
    return {
      namespace: this.namespace,
      instance: this.opts.instance,
      owner: { name: rec.object.name, uid: rec.object.uid },
      killGraceSeconds: this.opts.killGraceSeconds,
      imagePullPolicy: this.opts.imagePullPolicy,
      automountServiceAccountToken: this.opts.automountServiceAccountToken,
      hostGatewayIp: this.opts.hostGatewayIp,
      imagePullSecret: this.registryCredentials.secretName(),
      securityLevel: this.security.levelName,
      settings: this.opts.pod,
      dns: this.dns.podDnsConfig(),
    };
  }

  /**
   * Replace a record's state with `mutate(state)` as a compare-and-swap on its resourceVersion;
   * on a conflict, re-read and retry. Returns the updated record. The patch is conditional, so the
   * client never sends it twice: after an ambiguous failure (a 5xx or a connection lost once it was
   * sent) the record is re-read, and if it already holds what we wrote, our write landed and
   * `mutate` is not run again (a start bumps the run number exactly once).
   */
  async updateState(
    id: string,
    mutate: (s: RecordState, rec: ContainerRecord) => RecordState,
    name?: string,
  ): Promise<ContainerRecord> {
    for (let attempt = 0; ; attempt++) {
      const rec = this.index.get(id);
      if (!rec) throw notFound(`No such container: ${id}`);
      const state = mutate(structuredClone(rec.state), rec);
      try {
        const obj = await this.kube.client.mergePatch<KObject>(
          this.kube.path('configmaps', rec.object.name),
          statePatch(rec, state, name),
        );
        this.index.records.observe(obj);
        return decodeRecord(obj)!;
      } catch (err) {
        if (isNotFound(err)) throw notFound(`No such container: ${id}`);
        if (!(isConflict(err) || isAmbiguous(err)) || attempt >= 5)
          throw kubeError(err, 'updating the container record');
        const fresh = await this.kube.client
          .get<KObject>(this.kube.path('configmaps', rec.object.name))
          .catch(() => undefined);
        if (fresh) this.index.records.observe(fresh);
        const landed = fresh && decodeRecord(fresh);
        if (
          landed &&
          isAmbiguous(err) &&
          fresh.metadata.resourceVersion !== rec.object.resourceVersion &&
          JSON.stringify(landed.state) === JSON.stringify(state) &&
          (name === undefined || landed.name === name)
        )
          return landed;
      }
    }
  }

  async deletePod(name: string, gracePeriodSeconds = 0): Promise<void> {
    try {
      await this.kube.client.delete(this.kube.path('pods', name), {
        gracePeriodSeconds,
        propagationPolicy: 'Background',
      });
    } catch (err) {
      if (!isNotFound(err)) throw kubeError(err, `deleting pod ${name}`);
    }
  }

  // ------------------------------------------------------------------ system

  private kubeVersion(): Promise<{ version: string; simulated: boolean }> {
    // Kept for every later request: not one client's to cancel (src/cancel-scope.ts).
    this.versionInfo ??= detached(async () => {
      const v = await this.kube.version().catch(() => ({ gitVersion: 'unknown' }));
      let simulated = !!this.opts.simulated;
      if (!simulated) {
        // kube-sim's node reports the container runtime `kube-sim://...`; RBAC may forbid the read.
        type Nodes = { items?: Array<{ status?: { nodeInfo?: { containerRuntimeVersion?: string } } }> };
        const nodes = await this.kube.client.get<Nodes>('/api/v1/nodes').catch(() => undefined);
        simulated = !!nodes?.items?.some((n) => n.status?.nodeInfo?.containerRuntimeVersion?.startsWith('kube-sim'));
      }
      return { version: v.gitVersion, simulated };
    });
    return this.versionInfo;
  }

  async systemInfo(): Promise<SystemInfo> {
    let running = 0,
      stopped = 0;
    for (const rec of this.index.all()) {
      if (this.stateOf(rec).Running) running++;
      else stopped++;
    }
    const v = await this.kubeVersion();
    return {
      containers: running + stopped,
      containersRunning: running,
      containersPaused: 0,
      containersStopped: stopped,
      images: this.images.count(),
      kubernetes: {
        server: this.kube.target.server,
        version: v.version,
        namespace: this.namespace,
        simulated: v.simulated,
      },
    };
  }

  // ------------------------------------------------------------------ list / inspect / lookup

  async listContainers(opts: ListOptions, apiVersion: string): Promise<unknown[]> {
    const now = Date.now();
    const entries: ListEntry[] = this.index.all().map((rec) => {
      const pod = this.index.currentPod(rec);
      const state = this.derivedState(rec, pod, now);
      const allocated = state.Running ? this.ports.allocated(rec) : undefined;
      const published = Object.entries(allocated ?? {}).flatMap(([k, bs]) =>
        bs.map((x) => `${x.HostPort}/${k.split('/')[1]}`),
      );
      return { rec, pod, state, networks: this.networks.networkKeys(rec), published };
    });
    const selected = selectContainers(entries, opts, (v) => this.index.find(v));
    return selected.map((e) => ({
      ...(summaryView(e.rec, e.pod, e.state, apiVersion, {
        size: opts.size,
        now,
        net: this.netView(e.rec, e.pod as PodObject | undefined, e.state, apiVersion),
      }) as object),
      Mounts: this.volumes.mountsOf(e.rec).map(inspectMount), // volumes
    }));
  }

  async inspectContainer(nameOrId: string, opts: { size: boolean }, apiVersion: string): Promise<unknown> {
    const rec = this.index.resolve(nameOrId);
    const pod = this.index.currentPod(rec);
    const state = this.derivedState(rec, pod);
    const view = inspectView(rec, pod, state, apiVersion, {
      ...opts,
      net: this.netView(rec, pod, state, apiVersion),
    }) as Record<string, unknown>;
    return { ...view, Mounts: this.volumes.mountsOf(rec).map(inspectMount) }; // volumes (engine/volumes/spec.ts)
  }

  /** Look a container up for attach/exec/logs (404 when absent, 400 for an ambiguous prefix). */
  target(nameOrId: string): ContainerTarget {
    const rec = this.index.resolve(nameOrId);
    const pod = this.index.currentPod(rec);
    return {
      id: rec.id,
      name: rec.name,
      namespace: this.namespace,
      config: rec.config,
      run: rec.state.run,
      podName: rec.state.run > 0 ? podName(rec.name, rec.id, rec.state.run) : undefined,
      containerName: CONTAINER_NAME,
      state: this.derivedState(rec, pod),
    };
  }

  /**
   * Delay the AutoRemove of container `id` until `release()` is called (or `maxMs` passes): an
   * attach or log stream still delivering a finished container's last output calls this, so that
   * `docker run --rm` does not lose output to the Pod's deletion.
   */
  holdAutoRemove(id: string, maxMs = this.opts.autoRemoveHoldMs): () => void {
    let release!: () => void;
    const p = new Promise<void>((r) => {
      const t = setTimeout(r, maxMs);
      t.unref();
      release = () => {
        clearTimeout(t);
        r();
      };
    });
    const set = this.removalHolds.get(id) ?? new Set();
    set.add(p);
    this.removalHolds.set(id, set);
    void p.then(() => {
      set.delete(p);
      if (!set.size && this.removalHolds.get(id) === set) this.removalHolds.delete(id);
    });
    return release;
  }

  /** Resolves when no hold on the container's AutoRemove is left. */
  async autoRemoveHeld(id: string): Promise<void> {
    for (let set = this.removalHolds.get(id); set?.size; set = this.removalHolds.get(id)) await Promise.all([...set]);
  }

  // ------------------------------------------------------------------ lifecycle (engine/lifecycle-*.ts, wait.ts, top.ts)

  /** ContainerHost: Ryuk's containers are played in process and never get a Pod. */
  podless(body: Record<string, unknown>): boolean {
    return isRyukImage(typeof body.Image === 'string' ? body.Image : undefined, this.opts.ryuk.images);
  }

  createContainer(name: string | undefined, body: Record<string, unknown>): Promise<CreateResult> {
    return this.creator.createContainer(name, this.ryuk.adjustCreate(body));
  }
  renameContainer(nameOrId: string, newName: string): Promise<void> {
    return this.creator.renameContainer(nameOrId, newName);
  }
  removeContainer(nameOrId: string, opts: { force: boolean; volumes: boolean; link: boolean }): Promise<void> {
    return this.creator.removeContainer(nameOrId, opts);
  }
  /** Remove under the container's lock (also used by AutoRemove). */
  removeLocked(id: string, force: boolean, removeVolumes = false): Promise<void> {
    return this.creator.removeLocked(id, force, removeVolumes);
  }
  pruneContainers(filters: Record<string, string[]>): Promise<{ ContainersDeleted: string[]; SpaceReclaimed: number }> {
    return this.creator.pruneContainers(filters);
  }

  startContainer(nameOrId: string): Promise<void> {
    const r = this.ryukRecord(nameOrId);
    if (r) return this.ryuk.start(r);
    return this.starter.startContainer(nameOrId);
  }
  /** Make the next run (also used by the restart policy, engine/containers/monitor.ts). */
  launchRun(id: string, kind: 'start' | 'restart'): Promise<void> {
    return this.starter.launchRun(id, kind);
  }
  recordStartError(id: string, message: string): Promise<void> {
    return this.starter.recordStartError(id, message);
  }

  stopContainer(nameOrId: string, opts: { timeout?: number; signal?: string }): Promise<void> {
    const r = this.ryukRecord(nameOrId);
    if (r) return this.ryuk.stop(r, opts);
    return this.stopper.stopContainer(nameOrId, opts);
  }
  killContainer(nameOrId: string, signal = 'SIGKILL'): Promise<void> {
    const r = this.ryukRecord(nameOrId);
    if (r) return this.ryuk.kill(r, signal);
    return this.stopper.killContainer(nameOrId, signal);
  }
  restartContainer(nameOrId: string, opts: { timeout?: number; signal?: string }): Promise<void> {
    const r = this.ryukRecord(nameOrId);
    if (r) return this.ryuk.restart(r, opts);
    return this.stopper.restartContainer(nameOrId, opts);
  }

  waitContainer(
    nameOrId: string,
    condition: WaitCondition,
    signal: AbortSignal,
  ): Promise<{ id: string; result: Promise<WaitResult> }> {
    return waitContainer(this, nameOrId, condition, signal);
  }
  topContainer(nameOrId: string, psArgs: string): Promise<{ Titles: string[]; Processes: string[][] }> {
    const r = this.ryukRecord(nameOrId);
    if (r) return Promise.resolve().then(() => this.ryuk.top(r));
    return topContainer(this, nameOrId, psArgs);
  }

  // ------------------------------------------------------------------ images (engine/images/service.ts)

  /** Every container with its image ID, for image removal conflicts and the Containers count. */
  imageUsers(): ImageUser[] {
    return this.index.all().map((r) => ({
      id: r.id,
      imageId: r.image?.id ?? imageIdOf(r.config.Image ?? ''),
      image: r.config.Image ?? '',
      running: this.stateOf(r).Running,
    }));
  }

  inspectImage(name: string, apiVersion: string): Promise<unknown> {
    return this.images.inspect(name, apiVersion);
  }

  listImages(opts: { all: boolean; filters: Record<string, string[]> }, apiVersion: string): Promise<unknown[]> {
    return this.images.list(opts, apiVersion);
  }

  pullImage(ref: string, opts: PullOptions, progress: (m: ProgressMessage) => void): Promise<void> {
    return this.images.pull(ref, opts, progress);
  }

  tagImage(name: string, repo: string, tag?: string): Promise<void> {
    return this.images.tag(name, repo, tag);
  }

  removeImage(
    name: string,
    opts: { force: boolean; noprune: boolean },
  ): Promise<Array<{ Untagged?: string; Deleted?: string }>> {
    return this.images.remove(name, opts);
  }

  login(auth: RegistryAuth): Promise<{ Status: string; IdentityToken: string }> {
    return this.images.login(auth);
  }

  pruneImages(
    filters: Record<string, string[]>,
  ): Promise<{ ImagesDeleted: Array<{ Untagged?: string; Deleted?: string }>; SpaceReclaimed: number }> {
    return this.images.prune(filters);
  }
}
