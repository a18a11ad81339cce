/**
 * @module engine/kube-engine
 * Docker containers on Kubernetes: the `Backend` the API handlers call.
 *
 * A container is a ConfigMap record (engine/record) created at `docker create`, and one Pod per
 * run, created at each `docker start` (and by the restart policy), owned by the record. State is
 * read from the watch caches (engine/container-index) and derived by engine/state; writes go to
 * Kubernetes first, with the record's resourceVersion as a precondition. Lifecycle operations on
 * one container are serialised; watch events drive start/die/health events, AutoRemove and the
 * restart policy (engine/monitor.ts), so that a container that exits on its own is seen exiting.
 */
import { conflict, invalid, notModified, systemError, unavailable, notFound, EngineError } from '../errors.js';
import { childLogger, type Logger } from '../log.js';
import type { Kube } from '../kube/index.js';
import { isAlreadyExists, isConflict, isNotFound, KubeApiError } from '../kube/client.js';
import type { KObject } from '../kube/cache.js';
import type { Backend, CreateResult, ListOptions, SystemInfo, WaitCondition, WaitResult } from './backend.js';
import { ContainerIndex, type PodObject } from './container-index.js';
import { EventBus } from './events.js';
import { execRun } from './exec-run.js';
import { matchLabels, selectContainers, type ListEntry } from './filters.js';
import { nowRfc3339Nano } from './human.js';
import { newId, normaliseName, podName, randomName, recordName } from './ids.js';
import { ANN_ID, ANN_RUN, decodeRecord, recordObject, selectorFor, statePatch, type RecordContext } from './record.js';
import { signalName, signalNumber } from './signals.js';
import { dockerState, mainStatus, podFailure, runSummary, START_FAILED, startFailureExitCode } from './state.js';
import { buildPod, CONTAINER_NAME, validateCreate, type PodContext } from './translate.js';
import type { ContainerRecord, CreateBody, DockerState, RecordState } from './types.js';
import { inspectView, summaryView } from './views.js';
import { Monitor } from './monitor.js';
import { imageId as imageIdOf } from './images.js';
import { DEFAULT_IMAGE_OPTIONS, ImageService, type ImageServiceOptions, type ImageUser, type ProgressMessage, type PullOptions } from './image-service.js';
import { ImageStore } from './image-store.js';
import { RegistryCredentials } from './registry-credentials.js';
import type { RegistryAuth } from './registry-auth.js';
import { podIntent } from './image-config.js';
import { ArchiveService, type ContainerArchive, type PutArchiveOptions } from './archive.js';
import { ArchiveStage, stagedSources } from './archive-stage.js';
import { Inspector } from './archive-inspector.js';
import { podStorage, type PodStorage } from './volume-pod.js';
import type { PathStat } from './archive-stat.js';
import { DEFAULT_NETWORK_OPTIONS, NetworkManager, type NetworkOptions } from './networks.js';
import { DEFAULT_PUBLISH_OPTIONS, PortPublisher, type PublishOptions } from './ports-publisher.js';
import { inspectPorts, listPorts, validatePorts } from './ports.js';
import { DEFAULT_STREAMS_OPTIONS, Streams, type AttachOptions, type AttachStart, type ContainerLogs, type ExecStart, type ExecStartOptions, type LogsOptions, type StreamsOptions } from './streams.js';

export interface EngineOptions {
  /** The instance label value: every object of this kuber-api carries it. */
  instance: string;
  /** kuber-api's own Pod (downward API), owner of every record when running in the cluster. */
  ownerPod?: { name: string; uid: string };
  /** terminationGracePeriodSeconds of container Pods (the kubelet's minimum is 2). */
  killGraceSeconds: number;
  /** Docker's default stop timeout (seconds) when neither the request nor StopTimeout gives one. */
  defaultStopTimeout: number;
  /** How long `docker start` waits for the Pod to run before failing. */
  startTimeoutMs: number;
  imagePullPolicy: 'IfNotPresent' | 'Always' | 'Never';
  automountServiceAccountToken: boolean;
  hostGatewayIp?: string;
  /** Known to be kube-sim (started embedded); otherwise detected from the node's kubelet version. */
  simulated?: boolean;
  eventsBufferSize: number;
  /** The event bus to publish on (main creates it before the engine, for GET /events). */
  events?: EventBus;
  /** Limits of attach/exec/logs (engine/streams.ts). */
  streams?: Partial<StreamsOptions>;
  /** docker cp before start: staged bytes and files per container (engine/archive-stage.ts). */
  archiveMaxBytes: number;
  archiveMaxFiles: number;
  /** The image of kuber-api's helper containers (it needs sh, cat and tar: busybox). */
  helperImage: string;
  /** An inspector pod (docker cp from a created container) is deleted after this long unused. */
  inspectorIdleMs: number;
  /** Registry access and the image metadata cache (engine/image-service.ts). */
  images?: Partial<ImageServiceOptions>;
  /** Docker networks (engine/networks.ts). */
  network?: Partial<NetworkOptions>;
  /** Published ports (engine/ports-publisher.ts). */
  publish?: Partial<Omit<PublishOptions, 'forward'>> & { forward?: Partial<PublishOptions['forward']> };
}

export const DEFAULT_ENGINE_OPTIONS: Omit<EngineOptions, 'instance'> = {
  killGraceSeconds: 2,
  defaultStopTimeout: 10,
  startTimeoutMs: 300_000,
  imagePullPolicy: 'IfNotPresent',
  automountServiceAccountToken: false,
  eventsBufferSize: 1024,
  archiveMaxBytes: 64 << 20,
  archiveMaxFiles: 1000,
  helperImage: 'busybox:1.36',
  inspectorIdleMs: 30_000,
};

/** What the streaming side (attach, exec, logs) needs to reach a container. */
export interface ContainerTarget {
  id: string;
  name: string;
  namespace: string;
  config: CreateBody;
  /** The current run number (0: never started) and its Pod name (undefined before the first start). */
  run: number;
  podName?: string;
  /** The container name inside the Pod. */
  containerName: string;
  state: DockerState;
}

export class KubeEngine implements Backend {
  readonly kube: Kube;
  readonly opts: EngineOptions;
  readonly events: EventBus;
  readonly index: ContainerIndex;
  readonly log: Logger;
  private readonly monitor: Monitor;
  /** Images: registry-backed configs kept in Kubernetes; `images.imageConfig(ref)` is the seam for image defaults. */
  readonly images: ImageService;
  /** `docker login` / authenticated pull credentials, kept in a Secret the Pods name in imagePullSecrets. */
  private readonly registryCredentials: RegistryCredentials;
  /** attach, exec, logs (engine/streams.ts). */
  readonly streams: Streams;
  /** docker cp (engine/archive.ts); archives copied before start (engine/archive-stage.ts). */
  readonly archives: ArchiveService;
  readonly archiveStage: ArchiveStage;
  readonly inspector: Inspector;
  /** Docker networks and DNS (engine/networks.ts). */
  readonly networks: NetworkManager;
  /** Published ports (engine/ports-publisher.ts). */
  readonly ports: PortPublisher;
  private readonly locks = new Map<string, Promise<unknown>>();
  private readonly pendingNames = new Set<string>();
  private readonly removalHolds = new Map<string, Set<Promise<void>>>();
  private versionInfo?: Promise<{ version: string; simulated: boolean }>;

  constructor(kube: Kube, opts: Partial<EngineOptions> & { instance: string }, log?: Logger) {
    this.kube = kube;
    this.opts = { ...DEFAULT_ENGINE_OPTIONS, ...opts };
    this.log = log ?? childLogger({ component: 'engine' });
    this.events = this.opts.events ?? new EventBus(this.opts.eventsBufferSize);
    const selector = selectorFor(this.opts.instance);
    this.index = new ContainerIndex(kube.cache<KObject>('configmaps', selector), kube.cache<PodObject>('pods', selector));
    this.monitor = new Monitor(this);
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
      { ...DEFAULT_IMAGE_OPTIONS, ...this.opts.images },
    );
    this.streams = new Streams(this, { ...DEFAULT_STREAMS_OPTIONS, ...this.opts.streams }, this.log);
    this.networks = new NetworkManager(this, { ...DEFAULT_NETWORK_OPTIONS, ...this.opts.network }, this.log.child({ component: 'networks' }));
    const pub = this.opts.publish ?? {};
    this.ports = new PortPublisher(this, { ...DEFAULT_PUBLISH_OPTIONS, ...pub, forward: { ...DEFAULT_PUBLISH_OPTIONS.forward, ...pub.forward } }, this.log.child({ component: 'ports' }));
    this.archives = new ArchiveService(this);
    this.archiveStage = new ArchiveStage(this, { maxBytes: this.opts.archiveMaxBytes, maxFiles: this.opts.archiveMaxFiles });
    this.archives.stager = this.archiveStage;
    this.inspector = new Inspector(this, { helperImage: this.opts.helperImage, imagePullPolicy: this.opts.imagePullPolicy, idleMs: this.opts.inspectorIdleMs, startTimeoutMs: this.opts.startTimeoutMs });
    this.archives.inspector = this.inspector;
  }

  /** The Secret Pods name in imagePullSecrets (docker login), if any: helper Pods need it too. */
  pullSecretName(): string | undefined {
    return this.registryCredentials.secretName();
  }

  /** The storage of a run's Pod: staged archives, volumes, bind snapshots (engine/volume-pod.ts). */
  async podStorage(rec: ContainerRecord): Promise<PodStorage> {
    const manifest = this.archiveStage.manifest(rec);
    return podStorage({ manifest, sources: stagedSources(rec.object.name, manifest), helperImage: this.opts.helperImage, imagePullPolicy: this.opts.imagePullPolicy });
  }

  // ------------------------------------------------------------------ docker cp (engine/archive.ts)

  statContainerPath(nameOrId: string, path: string): Promise<PathStat> {
    return this.archives.statContainerPath(nameOrId, path);
  }
  getContainerArchive(nameOrId: string, path: string, signal: AbortSignal): Promise<ContainerArchive> {
    return this.archives.getContainerArchive(nameOrId, path, signal);
  }
  putContainerArchive(nameOrId: string, path: string, opts: PutArchiveOptions, body: AsyncIterable<Buffer>): Promise<void> {
    return this.archives.putContainerArchive(nameOrId, path, opts, body);
  }

  // ------------------------------------------------------------------ attach / exec / logs (engine/streams.ts)

  attachContainer(nameOrId: string, opts: AttachOptions): AttachStart {
    return this.streams.attachContainer(nameOrId, opts);
  }
  resizeContainer(nameOrId: string, height: number, width: number): void {
    this.streams.resizeContainer(nameOrId, height, width);
  }
  createExec(nameOrId: string, body: Record<string, unknown> | undefined): { Id: string } {
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
    return this.streams.containerLogs(nameOrId, opts);
  }

  /** Sync the caches (list), then let the monitor catch up with what happened while we were away. */
  async start(): Promise<void> {
    await Promise.all([this.index.start(), this.images.store.start(), this.registryCredentials.start(), this.networks.start()]);
    this.monitor.catchUp();
    this.ports.catchUp();
    void this.networks.sync().catch((err: Error) => this.log.warn({ err: err.message }, 'network sync failed'));
  }

  close(): void {
    this.monitor.close();
    this.ports.close();
    this.networks.close();
    this.index.stop();
    this.images.store.stop();
  }

  // ------------------------------------------------------------------ networks (engine/networks.ts)

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
  connectNetwork(term: string, body: { Container?: string; EndpointConfig?: Record<string, unknown> | null }): Promise<void> {
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
    return dockerState(rec, this.index.currentPod(rec));
  }

  eventSource(rec: ContainerRecord) {
    return { id: rec.id, name: rec.name, image: rec.config.Image ?? '', labels: rec.config.Labels ?? {} };
  }

  private recordContext(): RecordContext {
    const o = this.opts.ownerPod;
    return { namespace: this.namespace, instance: this.opts.instance, ...(o ? { owner: { apiVersion: 'v1', kind: 'Pod', name: o.name, uid: o.uid } } : {}) };
  }

  private podContext(rec: ContainerRecord): PodContext {
    return {
      namespace: this.namespace,
      instance: this.opts.instance,
      owner: { name: rec.object.name, uid: rec.object.uid },
      killGraceSeconds: this.opts.killGraceSeconds,
      imagePullPolicy: this.opts.imagePullPolicy,
      automountServiceAccountToken: this.opts.automountServiceAccountToken,
      hostGatewayIp: this.opts.hostGatewayIp,
      imagePullSecret: this.registryCredentials.secretName(),
    };
  }

  /**
   * Replace a record's state with `mutate(state)` as a compare-and-swap on its resourceVersion;
   * on a conflict, re-read and retry. Returns the updated record.
   */
  async updateState(id: string, mutate: (s: RecordState, rec: ContainerRecord) => RecordState, name?: string): Promise<ContainerRecord> {
    for (let attempt = 0; ; attempt++) {
      const rec = this.index.get(id);
      if (!rec) throw notFound(`No such container: ${id}`);
      const state = mutate(structuredClone(rec.state), rec);
      try {
        const obj = await this.kube.client.mergePatch<KObject>(this.kube.path('configmaps', rec.object.name), statePatch(rec, state, name));
        this.index.records.observe(obj);
        return decodeRecord(obj)!;
      } catch (err) {
        if (isNotFound(err)) throw notFound(`No such container: ${id}`);
        if (!isConflict(err) || attempt >= 5) throw kubeError(err, 'updating the container record');
        const fresh = await this.kube.client.get<KObject>(this.kube.path('configmaps', rec.object.name)).catch(() => undefined);
        if (fresh) this.index.records.observe(fresh);
      }
    }
  }

  private async deletePod(name: string, gracePeriodSeconds = 0): Promise<void> {
    try {
      await this.kube.client.delete(this.kube.path('pods', name), { gracePeriodSeconds, propagationPolicy: 'Background' });
    } catch (err) {
      if (!isNotFound(err)) throw kubeError(err, `deleting pod ${name}`);
    }
  }

  // ------------------------------------------------------------------ system

  private kubeVersion(): Promise<{ version: string; simulated: boolean }> {
    this.versionInfo ??= (async () => {
      const v = await this.kube.version().catch(() => ({ gitVersion: 'unknown' }));
      let simulated = !!this.opts.simulated;
      if (!simulated) {
        // kube-sim's node reports the container runtime `kube-sim://...`; RBAC may forbid the read.
        type Nodes = { items?: Array<{ status?: { nodeInfo?: { containerRuntimeVersion?: string } } }> };
        const nodes = await this.kube.client.get<Nodes>('/api/v1/nodes').catch(() => undefined);
        simulated = !!nodes?.items?.some((n) => n.status?.nodeInfo?.containerRuntimeVersion?.startsWith('kube-sim'));
      }
      return { version: v.gitVersion, simulated };
    })();
    return this.versionInfo;
  }

  async systemInfo(): Promise<SystemInfo> {
    let running = 0, stopped = 0;
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
      kubernetes: { server: this.kube.target.server, version: v.version, namespace: this.namespace, simulated: v.simulated },
    };
  }

  // ------------------------------------------------------------------ list / inspect / lookup

  async listContainers(opts: ListOptions, apiVersion: string): Promise<unknown[]> {
    const now = Date.now();
    const entries: ListEntry[] = this.index.all().map((rec) => {
      const pod = this.index.currentPod(rec);
      const state = dockerState(rec, pod, now);
      const allocated = state.Running ? this.ports.allocated(rec) : undefined;
      const published = Object.entries(allocated ?? {}).flatMap(([k, bs]) => bs.map((x) => `${x.HostPort}/${k.split('/')[1]}`));
      return { rec, pod, state, networks: this.networks.networkKeys(rec), published };
    });
    const selected = selectContainers(entries, opts, (v) => this.index.find(v));
    return selected.map((e) => summaryView(e.rec, e.pod, e.state, apiVersion, { size: opts.size, now, net: this.netView(e.rec, e.pod as PodObject | undefined, e.state, apiVersion) }));
  }

  async inspectContainer(nameOrId: string, opts: { size: boolean }, apiVersion: string): Promise<unknown> {
    const rec = this.index.resolve(nameOrId);
    const pod = this.index.currentPod(rec);
    const state = dockerState(rec, pod);
    return inspectView(rec, pod, state, apiVersion, { ...opts, net: this.netView(rec, pod, state, apiVersion) });
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
      state: dockerState(rec, pod),
    };
  }

  /**
   * Delay the AutoRemove of container `id` until `release()` is called (or `maxMs` passes): an
   * attach or log stream still delivering a finished container's last output calls this, so that
   * `docker run --rm` does not lose output to the Pod's deletion.
   */
  holdAutoRemove(id: string, maxMs = 30_000): () => void {
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

  // ------------------------------------------------------------------ create / rename / remove

  async createContainer(name: string | undefined, body: Record<string, unknown>): Promise<CreateResult> {
    const warnings = validateCreate(body as CreateBody);
    warnings.push(...validatePorts(body as CreateBody));
    // Memberships first: an unknown network is a 404 before any registry lookup.
    const net = this.networks.prepareCreate(body as CreateBody);
    warnings.push(...net.warnings);
    // The image's defaults merged in as dockerd does (engine/image-config.ts); needs no registry.
    const prepared = await this.images.prepareCreate(body as CreateBody, typeof body.platform === 'string' ? body.platform : undefined);
    const config = prepared.config;
    warnings.push(...prepared.warnings);
    let n: string;
    if (name) {
      n = normaliseName(name);
      this.checkNameFree(n);
    } else {
      let retry = 0;
      do n = randomName(retry++);
      while (this.index.nameOwner(n) || this.pendingNames.has(n));
    }
    this.pendingNames.add(n);
    try {
      const id = newId();
      const cm = recordObject(this.recordContext(), { id, name: n, created: nowRfc3339Nano(), config, ...(prepared.image ? { image: prepared.image } : {}), state: { run: 0, restartCount: 0 } }, recordName(id));
      Object.assign(cm.metadata.annotations!, net.annotations);
      let obj: KObject;
      try {
        obj = await this.kube.client.create<KObject>(this.kube.path('configmaps'), cm);
      } catch (err) {
        // A create retried after a 5xx may have succeeded the first time: adopt our own object.
        if (!isAlreadyExists(err)) throw kubeError(err, 'creating the container record');
        obj = await this.kube.client.get<KObject>(this.kube.path('configmaps', recordName(id)));
        if (obj.metadata.annotations?.[ANN_ID] !== id) throw systemError(`a ConfigMap named ${recordName(id)} already exists and is not this container's`);
      }
      this.index.records.observe(obj);
      const rec = this.index.get(id)!;
      this.events.container(this.eventSource(rec), 'create');
      return { Id: id, Warnings: warnings };
    } finally {
      this.pendingNames.delete(n);
    }
  }

  private checkNameFree(name: string, except?: string): void {
    const owner = this.index.nameOwner(name);
    if ((owner && owner !== except) || this.pendingNames.has(name)) {
      throw conflict(
        `Conflict. The container name "/${name}" is already in use by container "${owner ?? 'being created'}". You have to remove (or rename) that container to be able to reuse that name.`,
      );
    }
  }

  async renameContainer(nameOrId: string, newName: string): Promise<void> {
    if (!newName) throw invalid('Neither old nor new names may be empty');
    const rec = this.index.resolve(nameOrId);
    const n = normaliseName(newName);
    if (n === rec.name) throw invalid('Renaming a container with the same name as its current name');
    await this.withLock(rec.id, async () => {
      this.checkNameFree(n, rec.id);
      this.pendingNames.add(n);
      try {
        const old = this.index.get(rec.id)!.name;
        const updated = await this.updateState(rec.id, (s) => s, n);
        this.events.container(this.eventSource(updated), 'rename', { oldName: `/${old}` });
      } finally {
        this.pendingNames.delete(n);
      }
    });
  }

  async removeContainer(nameOrId: string, opts: { force: boolean; volumes: boolean; link: boolean }): Promise<void> {
    if (opts.link) throw invalid('Conflict, cannot remove the default link name of the container');
    const rec = this.index.resolve(nameOrId);
    await this.withLock(rec.id, () => this.removeLocked(rec.id, opts.force));
  }

  /** Remove under the container's lock (also used by AutoRemove). */
  async removeLocked(id: string, force: boolean): Promise<void> {
    const rec = this.index.get(id);
    if (!rec) return;
    const state = this.stateOf(rec);
    if (state.Running && !force) {
      const what = state.Restarting ? 'container is restarting' : 'container is running';
      throw conflict(`cannot remove container "/${rec.name}": ${what}: stop the container before removing or force remove`);
    }
    this.monitor.forget(id);
    const pods = this.index.podsOf(id);
    if (state.Running && !state.Restarting) {
      // rm -f: the Pod is deleted at once (no exit status survives a force deletion).
      this.events.container(this.eventSource(rec), 'kill', { signal: '9' });
      this.events.container(this.eventSource(rec), 'die', { exitCode: '137', execDuration: '0' });
      this.monitor.noteExit(id);
    }
    await Promise.all(pods.map((p) => this.deletePod(p.metadata.name, 0)));
    try {
      await this.kube.client.delete(this.kube.path('configmaps', rec.object.name), { propagationPolicy: 'Background' });
    } catch (err) {
      if (!isNotFound(err)) throw kubeError(err, 'deleting the container record');
    }
    this.index.records.forget(rec.object.name);
    for (const p of pods) this.index.pods.forget(p.metadata.name);
  }

  // ------------------------------------------------------------------ start

  async startContainer(nameOrId: string): Promise<void> {
    const rec = this.index.resolve(nameOrId);
    await this.withLock(rec.id, async () => {
      const cur = this.index.get(rec.id);
      if (!cur) throw notFound(`No such container: ${nameOrId}`);
      const st = this.stateOf(cur);
      if (st.Running && !st.Restarting) throw notModified();
      this.monitor.cancelRestart(cur.id);
      const published = await this.ports.beforeStart(cur.id);
      try {
        await this.launchRun(cur.id, 'start');
      } finally {
        published();
      }
    });
  }

  /**
   * Make the next run: bump the run number in the record (a start resets the restart count and
   * the manual-stop mark), delete the previous run's Pod, create the new Pod, and (for `start`)
   * wait by watch until it runs or fails. A failure is recorded as the start error, and the
   * container stays "created" (or "exited" if it ran before), as in moby.
   */
  async launchRun(id: string, kind: 'start' | 'restart'): Promise<void> {
    const before = this.index.get(id)!;
    const prevPod = this.index.currentPod(before);
    const last = runSummary(prevPod) ?? before.state.last;
    const rec =
      kind === 'start'
        ? await this.updateState(id, (s) => ({ run: s.run + 1, restartCount: 0, ...(last ? { last } : {}) }))
        : this.index.get(id)!; // the monitor bumped the run when it decided to restart
    for (const p of this.index.podsOf(id)) if (Number(p.metadata.annotations?.[ANN_RUN]) !== rec.state.run) void this.deletePod(p.metadata.name, 0).catch(() => {});
    const name = podName(rec.name, rec.id, rec.state.run);
    await this.inspector.release(rec.id); // it would hold the container's volumes
    const storage = await this.podStorage(rec);
    // The Pod carries the merged config and pulls the digest-pinned image; only the image's own USER is left to the runtime (engine/image-config.ts podIntent).
    const pod = buildPod(this.podContext(rec), { id: rec.id, name: rec.name, config: podIntent(rec.config, rec.image), run: rec.state.run, podName: name, storage });
    try {
      await this.networks.decoratePod(rec, pod);
    } catch (err) {
      await this.recordStartError(id, (err as Error).message);
      throw err;
    }
    let created: PodObject;
    try {
      created = await this.kube.client.create<PodObject>(this.kube.path('pods'), pod);
    } catch (err) {
      if (isAlreadyExists(err)) {
        created = await this.kube.client.get<PodObject>(this.kube.path('pods', name));
        if (created.metadata.annotations?.[ANN_ID] !== rec.id) throw systemError(`a pod named ${name} already exists and is not this container's`);
      } else {
        const msg = `Kubernetes refused the pod: ${err instanceof KubeApiError ? err.message : (err as Error).message}`;
        await this.recordStartError(id, msg);
        throw kubeError(err, 'creating the pod', msg);
      }
    }
    this.index.pods.observe(created);
    if (kind === 'restart') return;
    const outcome: { ok: true } | { fail: string } = await this.index
      .when<{ ok: true } | { fail: string }>(
        () => {
          const p = this.index.pods.get(name);
          if (!p || p.metadata.uid !== created.metadata.uid) return { fail: 'the pod was deleted before the container started' };
          const s = mainStatus(p)?.state;
          if (s?.running) return { ok: true as const };
          if (s?.terminated) return START_FAILED.has(s.terminated.reason ?? '') ? { fail: s.terminated.message || s.terminated.reason || 'the container could not start' } : { ok: true as const };
          const f = podFailure(p);
          if (f) return { fail: `${f.reason}: ${f.message}` };
          if (p.status?.phase === 'Failed' || p.status?.phase === 'Succeeded') return { fail: `the pod ended before the container started: ${p.status.reason ?? p.status.phase} ${p.status.message ?? ''}`.trim() };
          return undefined;
        },
        { timeoutMs: this.opts.startTimeoutMs },
      )
      .catch(async (err: Error) => {
        // Pending past the timeout: the kubelet says why in Warning events (FailedCreatePodSandBox,
        // FailedMount, FailedScheduling...), not in the pod status.
        const why = await this.lastWarning(name, created.metadata.uid);
        return { fail: `the pod did not start within ${this.opts.startTimeoutMs} ms (${why ?? err.message})` };
      });
    if ('fail' in outcome) {
      await this.deletePod(name, 0).catch(() => {});
      await this.recordStartError(id, outcome.fail);
      throw systemError(`failed to start container "${rec.id.slice(0, 12)}" (pod ${this.namespace}/${name}): ${outcome.fail}`);
    }
  }

  /** The newest Warning event of this pod ("Reason: message"), if Kubernetes recorded one. */
  private async lastWarning(pod: string, uid: string | undefined): Promise<string | undefined> {
    try {
      const list = await this.kube.client.get<{ items?: Array<{ type?: string; reason?: string; message?: string; lastTimestamp?: string; eventTime?: string; involvedObject?: { name?: string; uid?: string } }> }>(
        `/api/v1/namespaces/${this.namespace}/events`,
        { fieldSelector: `involvedObject.name=${pod}` },
      );
      const mine = (list.items ?? []).filter((e) => e.type === 'Warning' && e.involvedObject?.name === pod && (!uid || !e.involvedObject.uid || e.involvedObject.uid === uid));
      const at = (e: (typeof mine)[number]) => e.lastTimestamp ?? e.eventTime ?? '';
      const last = mine.sort((a, b) => at(a).localeCompare(at(b))).at(-1);
      return last ? `${last.reason}: ${last.message}` : undefined;
    } catch {
      return undefined;
    }
  }

  async recordStartError(id: string, message: string): Promise<void> {
    await this.updateState(id, (s) => ({ ...s, restarting: false, startError: { message, exitCode: startFailureExitCode(message), at: new Date().toISOString() } })).catch((err) =>
      this.log.warn({ err, id }, 'could not record the start error'),
    );
  }

  // ------------------------------------------------------------------ stop / kill / restart

  async stopContainer(nameOrId: string, opts: { timeout?: number; signal?: string }): Promise<void> {
    const rec = this.index.resolve(nameOrId);
    if (opts.signal !== undefined && opts.signal !== '' && signalNumber(opts.signal) === undefined) throw invalid(`Invalid signal: ${opts.signal}`);
    await this.withLock(rec.id, () => this.stopLocked(rec.id, opts));
  }

  private async stopLocked(id: string, opts: { timeout?: number; signal?: string }): Promise<void> {
    const rec = this.index.get(id);
    if (!rec) throw notFound(`No such container: ${id}`);
    const st = this.stateOf(rec);
    if (st.Restarting && !this.index.currentPod(rec)) {
      // Waiting to restart: cancel it (moby: stop on a restarting container stops the restart loop).
      this.monitor.cancelRestart(id);
      await this.updateState(id, (s) => ({ ...s, restarting: false, manuallyStopped: true }));
      this.events.container(this.eventSource(rec), 'stop');
      return;
    }
    if (!st.Running) throw notModified();
    const pod = this.index.currentPod(rec)!;
    await this.updateState(id, (s) => ({ ...s, manuallyStopped: true }));
    const timeout = opts.timeout ?? (typeof rec.config.StopTimeout === 'number' ? rec.config.StopTimeout : this.opts.defaultStopTimeout);
    const sig = signalName(opts.signal || rec.config.StopSignal || 'SIGTERM') ?? 'SIGTERM';
    this.events.container(this.eventSource(rec), 'kill', { signal: String(signalNumber(sig)) });
    let delivered = false;
    if (timeout !== 0 && sig !== 'SIGKILL') delivered = await this.signalInPod(pod.metadata.name, sig).then(
      () => true,
      (err: Error) => {
        this.log.info({ id, err: err.message }, 'stop signal could not be delivered in the container; the kubelet will stop it');
        return false;
      },
    );
    if (delivered) {
      const exited = await this.waitExit(rec.id, pod, timeout < 0 ? undefined : timeout * 1000);
      if (exited) return this.stopped(rec);
    }
    await this.kubeletKill(pod);
    await this.waitExit(rec.id, pod, (this.opts.killGraceSeconds + 30) * 1000);
    this.stopped(rec);
  }

  private stopped(rec: ContainerRecord): void {
    this.events.container(this.eventSource(this.index.get(rec.id) ?? rec), 'stop');
  }

  /** Deliver a signal to the container's PID 1 from inside it (as `docker kill -s` does from outside). */
  private async signalInPod(pod: string, sig: string): Promise<void> {
    const n = signalNumber(sig)!;
    const attempts = [['/bin/sh', '-c', `kill -${n} 1`], ['kill', `-${n}`, '1']];
    let last = '';
    for (const cmd of attempts) {
      try {
        const r = await execRun(this.kube.dialer, this.namespace, pod, CONTAINER_NAME, cmd);
        if (r.exitCode === 0) return;
        last = `${cmd.join(' ')} exited with ${r.exitCode}${r.output ? `: ${r.output.trim()}` : ''}`;
      } catch (err) {
        last = (err as Error).message;
      }
    }
    throw new Error(last);
  }

  /**
   * The kubelet kills the Pod: activeDeadlineSeconds lowered to 1 (the Pod has been running that
   * long) makes the kubelet stop it with DeadlineExceeded, keeping the container's exit status
   * and logs, which deleting the Pod would lose. The kubelet sends the stop signal and SIGKILL
   * after terminationGracePeriodSeconds (the engine's kill grace).
   */
  private async kubeletKill(pod: PodObject): Promise<void> {
    try {
      const updated = await this.kube.client.mergePatch<PodObject>(this.kube.path('pods', pod.metadata.name), { spec: { activeDeadlineSeconds: 1 } });
      this.index.pods.observe(updated);
    } catch (err) {
      if (!isNotFound(err)) throw kubeError(err, 'stopping the pod');
    }
  }

  /** Wait until the run's Pod reports the container terminated (true) or the time is up (false). */
  private waitExit(id: string, pod: PodObject, timeoutMs?: number): Promise<boolean> {
    return this.index
      .when(
        () => {
          const p = this.index.pods.get(pod.metadata.name);
          if (!p || p.metadata.uid !== pod.metadata.uid || !this.index.get(id)) return true;
          const cs = mainStatus(p)?.state;
          if (cs?.terminated) return true;
          // The kubelet marks the pod Failed (DeadlineExceeded) before it kills the container:
          // only a terminal pod whose container is not running any more has exited.
          const ph = p.status?.phase;
          return (ph === 'Failed' || ph === 'Succeeded') && !cs?.running ? true : undefined;
        },
        timeoutMs === undefined ? {} : { timeoutMs },
      )
      .catch(() => false);
  }

  async killContainer(nameOrId: string, signal = 'SIGKILL'): Promise<void> {
    const sig = signalName(signal || 'SIGKILL');
    if (!sig) throw invalid(`Invalid signal: ${signal}`);
    const rec = this.index.resolve(nameOrId);
    await this.withLock(rec.id, async () => {
      const cur = this.index.get(rec.id)!;
      const st = this.stateOf(cur);
      const pod = this.index.currentPod(cur);
      if (!st.Running || !pod) throw conflict(`cannot kill container: ${nameOrId}: container ${cur.id} is not running`);
      const stopSig = signalName(cur.config.StopSignal || 'SIGTERM');
      if (sig === 'SIGKILL' || sig === stopSig) await this.updateState(cur.id, (s) => ({ ...s, manuallyStopped: true }));
      this.events.container(this.eventSource(cur), 'kill', { signal: String(signalNumber(sig)) });
      if (sig === 'SIGKILL') {
        await this.kubeletKill(pod);
        await this.waitExit(cur.id, pod, (this.opts.killGraceSeconds + 30) * 1000);
        return;
      }
      try {
        await this.signalInPod(pod.metadata.name, sig);
      } catch (err) {
        throw systemError(
          `cannot send ${sig} to container ${cur.id.slice(0, 12)}: on Kubernetes, signals other than SIGKILL are sent by running "kill" inside the container, which failed: ${(err as Error).message}`,
        );
      }
    });
  }

  async restartContainer(nameOrId: string, opts: { timeout?: number; signal?: string }): Promise<void> {
    const rec = this.index.resolve(nameOrId);
    await this.withLock(rec.id, async () => {
      try {
        await this.stopLocked(rec.id, opts);
      } catch (err) {
        if (!(err instanceof EngineError && err.category === 'not-modified')) throw err;
      }
      this.monitor.cancelRestart(rec.id);
      const published = await this.ports.beforeStart(rec.id);
      try {
        await this.launchRun(rec.id, 'start');
      } finally {
        published();
      }
      this.events.container(this.eventSource(this.index.get(rec.id)!), 'restart');
    });
  }

  // ------------------------------------------------------------------ top / prune

  async topContainer(nameOrId: string, psArgs: string): Promise<{ Titles: string[]; Processes: string[][] }> {
    const rec = this.index.resolve(nameOrId);
    const pod = this.index.currentPod(rec);
    if (!pod || !this.stateOf(rec).Running) throw conflict(`Container ${rec.id} is not running`);
    const args = psArgs.trim() ? psArgs.trim().split(/\s+/) : ['-ef'];
    let r;
    try {
      r = await execRun(this.kube.dialer, this.namespace, pod.metadata.name, CONTAINER_NAME, ['ps', ...args], 10_000, 1 << 20);
    } catch (err) {
      throw systemError(`cannot list the processes of container ${rec.id.slice(0, 12)}: ${(err as Error).message}`);
    }
    if (r.exitCode !== 0) throw systemError(`ps ${args.join(' ')} failed in the container (exit ${r.exitCode}): ${r.output.trim()}`);
    return parsePs(r.output, `ps ${args.join(' ')}`);
  }

  async pruneContainers(filters: Record<string, string[]>): Promise<{ ContainersDeleted: string[]; SpaceReclaimed: number }> {
    for (const k of Object.keys(filters)) if (k !== 'until' && k !== 'label' && k !== 'label!') throw invalid(`invalid filter '${k}'`);
    const until = filters.until?.map((u) => (/^\d+(\.\d+)?$/.test(u) ? Number(u) * 1000 : Date.parse(u)));
    const deleted: string[] = [];
    for (const rec of this.index.all()) {
      if (this.stateOf(rec).Running) continue;
      const labels = rec.config.Labels ?? {};
      if (until?.some((u) => !(Date.parse(rec.created) < u))) continue;
      if (filters.label && !matchLabels(filters.label, labels)) continue;
      if (filters['label!']?.some((l) => matchLabels([l], labels))) continue;
      try {
        await this.withLock(rec.id, () => this.removeLocked(rec.id, false));
        deleted.push(rec.id);
      } catch (err) {
        this.log.warn({ err, id: rec.id }, 'prune: could not remove a container');
      }
    }
    this.events.publish('container', 'prune', '', { reclaimed: '0' });
    return { ContainersDeleted: deleted, SpaceReclaimed: 0 };
  }

  // ------------------------------------------------------------------ images (engine/image-service.ts)

  /** Every container with its image ID, for image removal conflicts and the Containers count. */
  imageUsers(): ImageUser[] {
    return this.index.all().map((r) => ({ id: r.id, imageId: r.image?.id ?? imageIdOf(r.config.Image ?? ''), image: r.config.Image ?? '', running: this.stateOf(r).Running }));
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

  removeImage(name: string, opts: { force: boolean; noprune: boolean }): Promise<Array<{ Untagged?: string; Deleted?: string }>> {
    return this.images.remove(name, opts);
  }

  login(auth: RegistryAuth): Promise<{ Status: string; IdentityToken: string }> {
    return this.images.login(auth);
  }

  pruneImages(filters: Record<string, string[]>): Promise<{ ImagesDeleted: Array<{ Untagged?: string; Deleted?: string }>; SpaceReclaimed: number }> {
    return this.images.prune(filters);
  }

  // ------------------------------------------------------------------ wait

  async waitContainer(nameOrId: string, condition: WaitCondition, signal: AbortSignal): Promise<{ id: string; result: Promise<WaitResult> }> {
    if (!['not-running', 'next-exit', 'removed'].includes(condition)) throw invalid(`invalid condition: "${condition}"`);
    const rec = this.index.resolve(nameOrId);
    const id = rec.id;
    const exits0 = this.monitor.exitCount(id);
    const lastCode = () => {
      const r = this.index.get(id);
      return r ? this.stateOf(r).ExitCode : this.monitor.lastExitCode(id);
    };
    let known = this.stateOf(rec).ExitCode;
    const result = this.index.when<WaitResult>(
      () => {
        const r = this.index.get(id);
        if (r) known = this.stateOf(r).ExitCode;
        if (condition === 'removed') return r ? undefined : { StatusCode: this.monitor.lastExitCode(id) ?? known };
        if (this.monitor.exitCount(id) > exits0) return { StatusCode: this.monitor.lastExitCode(id) ?? lastCode() ?? 0 };
        if (!r) return { StatusCode: this.monitor.lastExitCode(id) ?? known };
        if (condition === 'not-running' && !this.stateOf(r).Running) return { StatusCode: lastCode() ?? 0 };
        return undefined;
      },
      { signal },
    );
    return { id, result };
  }
}

/** A Kubernetes failure as an EngineError for the client (its class from the status). */
export function kubeError(err: unknown, doing: string, message?: string): EngineError {
  if (err instanceof EngineError) return err;
  const k = err instanceof KubeApiError ? err : undefined;
  const text = message ?? `${doing}: ${k ? k.message : (err as Error)?.message ?? String(err)}`;
  if (k?.status === 0 || k?.status === 503) return unavailable(`Kubernetes is unreachable while ${text}`, err);
  if (k?.status === 403) return new EngineError('forbidden', `Kubernetes denied ${text}`, { cause: err });
  return systemError(text, err);
}

/** `ps` output -> moby's top shape, without the `ps` we ran (Docker runs ps outside the container). */
export function parsePs(output: string, ourCommand: string): { Titles: string[]; Processes: string[][] } {
  const lines = output.split('\n').filter((l) => l.trim());
  const titles = (lines[0] ?? '').trim().split(/\s+/);
  const processes: string[][] = [];
  for (const line of lines.slice(1)) {
    const parts = line.trim().split(/\s+/);
    const row = [...parts.slice(0, titles.length - 1), parts.slice(titles.length - 1).join(' ')];
    if (row[row.length - 1] === ourCommand) continue;
    processes.push(row);
  }
  return { Titles: titles, Processes: processes };
}
