/**
 * @module sim/kubelet
 * kube-sim's node(s): `createKubelet(store, faults, opts)` returns the Kubelet the apiserver starts
 * and hands streaming subresources to. It watches pods in the store, runs those bound to any of its
 * simulated nodes (opts.nodeNames: they share this host) or, with no scheduler in front of it
 * (opts.scheduler !== 'external'), schedules each new one onto its first node (spec.nodeName +
 * PodScheduled, as the scheduler's binding would), runs it through a
 * PodWorker, keeps /etc/hosts of every pod in step with the Services of its namespace, and serves
 * pods/log, exec, attach and portforward.
 */
import { nodeSummary } from './volume-stats.js';
import { UsageReader, type ContainerUsage } from './metrics.js';
import { promises as fsp } from 'node:fs';
import { release, arch } from 'node:os';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { childLogger } from '../../log.js';
import type { FaultRegistry } from '../faults.js';
import {
  CONFIGMAPS,
  NODES,
  PODS,
  SECRETS,
  SERVICES,
  type KObject,
  type Kubelet,
  type KubeletOptions,
  type KubeletStore,
  type WatchEvent,
} from '../types.js';
import { MemoryCgroups } from './cgroups.js';
import { servicesSection } from './hosts.js';
import { handleLog } from './log-serve.js';
import { NetworkManager } from './netns.js';
import { ClusterDns } from './cluster-dns.js';
import { LocalAddresses, NODE_LOCAL_DNS_ANNOTATION } from './local-addresses.js';
import { resolveConfig, type KubeletConfig } from './options.js';
import { now } from './pod-status.js';
import { PodWorker, type WorkerEnv } from './pod-worker.js';
import { restoredWorker } from './restore.js';
import { RootfsBuilder } from './rootfs.js';
import { maskHostPath } from './sandbox.js';
import { StreamServer } from './streams.js';

export type { KubeletConfig } from './options.js';

type Obj = Record<string, any>;

class SimKubelet implements Kubelet {
  readonly cfg: KubeletConfig;
  private readonly log = childLogger({ component: 'kube-sim-kubelet' });
  private readonly net: NetworkManager;
  private readonly rootfs: RootfsBuilder;
  private readonly workers = new Map<string, PodWorker>();
  private readonly unsubs: Array<() => void> = [];
  private readonly streams: StreamServer;
  private readonly hostsDirty = new Set<string>();
  private hostsTimer: NodeJS.Timeout | undefined;
  private readonly volumesDirty = new Set<string>();
  private volumesTimer: NodeJS.Timeout | undefined;
  private readonly env: WorkerEnv;
  private running = false;
  private readonly root = process.getuid?.() === 0;
  /** The busybox root filesystem being built at start (stop() waits: it writes into the state dir). */
  private templateBuild: Promise<void> = Promise.resolve();

  constructor(
    private readonly store: KubeletStore,
    private readonly faults: FaultRegistry,
    opts: KubeletOptions,
  ) {
    this.cfg = resolveConfig(opts);
    this.net = new NetworkManager(this.cfg.network);
    this.rootfs = new RootfsBuilder(this.cfg.stateDir);
    this.env = {
      store,
      faults,
      cfg: this.cfg,
      net: this.net,
      rootfs: this.rootfs,
      log: this.log,
      root: this.root,
      pulled: new Set(),
      servicesSection: (ns) => servicesSection(ns, store.list(SERVICES, ns), store.list(PODS, ns)),
      podNetworkChanged: (ns) => this.markHosts(ns),
      forget: (w) => {
        if (this.workers.get(w.uid) === w) this.workers.delete(w.uid);
      },
      cgroups: new MemoryCgroups(),
    };
    this.streams = new StreamServer({
      worker: (pod) => this.workerFor(pod),
      faults,
      highWaterMark: this.cfg.streamHighWaterMark,
      log: this.log,
    });
  }

  private workerFor(pod: KObject): PodWorker | undefined {
    const w = this.workers.get(pod.metadata.uid ?? '');
    return w && w.name === pod.metadata.name && w.namespace === pod.metadata.namespace ? w : undefined;
  }

  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    await fsp.mkdir(this.cfg.stateDir, { recursive: true });
    maskHostPath(this.cfg.stateDir);
    await this.net.init();
    if (this.net.mode === 'host')
      this.log.warn(`pod network: pods run on the host network with podIP 127.0.0.1 (${this.net.reason})`);
    else await this.startClusterDns();
    // Build the busybox root filesystem early; a failure surfaces again on the first busybox pull.
    this.templateBuild = this.rootfs.busyboxTemplate().then(
      () => {},
      (err) => void (this.running && this.log.warn({ err }, 'busybox root filesystem unavailable')),
    );
    this.unsubs.push(this.store.subscribe(PODS, (ev) => this.onPodEvent(ev)));
    this.unsubs.push(this.store.subscribe(SERVICES, (ev) => this.markHosts(ev.object.metadata.namespace ?? '')));
    this.unsubs.push(this.store.subscribe(CONFIGMAPS, (ev) => this.markVolumes(ev.object.metadata.namespace ?? '')));
    this.unsubs.push(this.store.subscribe(SECRETS, (ev) => this.markVolumes(ev.object.metadata.namespace ?? '')));
    this.unsubs.push(
      this.store.subscribe(
        NODES,
        (ev) =>
          ev.type === 'ADDED' &&
          this.cfg.nodeNames.includes(ev.object.metadata.name ?? '') &&
          this.reportNode(ev.object.metadata.name!),
      ),
    );
    for (const n of this.cfg.nodeNames) this.reportNode(n);
    for (const pod of this.store.list(PODS, undefined)) {
      // Pods a previous kube-sim process ran (a restart on a persisted store): restore.ts.
      const w = restoredWorker(pod, this.env);
      if (w) this.workers.set(w.uid, w);
      else this.onPod(pod);
    }
  }

  // ---- kube-sim's cluster DNS (cluster-dns.ts) and the node-local DNS address (local-addresses.ts)
  private clusterDns?: { server: ClusterDns; address: string };
  private localAddresses?: LocalAddresses;
  private nodeLocalDns?: string;

  private async startClusterDns(): Promise<void> {
    const local = (this.localAddresses = new LocalAddresses(this.net));
    await local.reapStale();
    const address = await local.claim();
    this.nodeLocalDns = await local.claim();
    if (!address) return;
    const dns = new ClusterDns({
      service: (ns, name) => this.store.get(SERVICES, ns, name),
      pods: (ns) => this.store.list(PODS, ns),
    });
    try {
      await dns.listen(address);
      this.clusterDns = { server: dns, address };
    } catch (err) {
      this.log.info(
        { err: (err as Error).message },
        `no cluster DNS on ${address}:53 (pods resolve Services through /etc/hosts)`,
      );
    }
  }

  clusterDnsAddress(): string | undefined {
    return this.clusterDns?.address;
  }

  /** The Node object's status, when the apiserver has one for us (the kubelet's node status manager). */
  private reportNode(name: string): void {
    const node = this.store.get(NODES, undefined, name);
    if (!node) return;
    const t = now();
    const netNote =
      this.net.mode === 'netns'
        ? 'pods have their own network namespaces on bridge kubesim0 (10.244.0.0/16)'
        : `pods run on the host network with podIP 127.0.0.1: ${this.net.reason}`;
    this.store.mutate(NODES, undefined, name, (o) => {
      const n = o as Obj;
      n.metadata.annotations = {
        ...(n.metadata.annotations ?? {}),
        'kube-sim.io/pod-network': netNote,
        ...(this.nodeLocalDns ? { [NODE_LOCAL_DNS_ANNOTATION]: this.nodeLocalDns } : {}),
      };
      const st = (n.status ??= {});
      st.addresses = [
        { type: 'InternalIP', address: this.net.hostIP },
        { type: 'Hostname', address: name },
      ];
      const conds: Obj[] = (st.conditions ??= []);
      const ready = conds.find((c) => c.type === 'Ready');
      const msg = `kubelet is posting ready status; ${netNote}`;
      if (ready) Object.assign(ready, { status: 'True', reason: 'KubeletReady', message: msg, lastHeartbeatTime: t });
      else
        conds.push({
          type: 'Ready',
          status: 'True',
          reason: 'KubeletReady',
          message: msg,
          lastHeartbeatTime: t,
          lastTransitionTime: t,
        });
      st.nodeInfo = {
        ...(st.nodeInfo ?? {}),
        kernelVersion: release(),
        operatingSystem: 'linux',
        architecture: arch() === 'x64' ? 'amd64' : arch(),
      };
    });
  }

  private onPodEvent(ev: WatchEvent): void {
    if (!this.running) return;
    if (ev.type === 'DELETED') {
      const w = this.workers.get(ev.object.metadata.uid ?? '');
      if (w) {
        this.workers.delete(w.uid);
        void w.kill().then(() => w.cleanup());
      }
      return;
    }
    if (ev.type === 'ADDED' || ev.type === 'MODIFIED') this.onPod(ev.object);
  }

  private onPod(pod: KObject): void {
    const spec = (pod as Obj).spec ?? {};
    const uid = pod.metadata.uid ?? '';
    const existing = this.workers.get(uid);
    if (existing) {
      existing.update(pod);
      return;
    }
    if (spec.nodeName && !this.cfg.nodeNames.includes(spec.nodeName)) return; // bound to a node that does not exist
    if (!spec.nodeName && !this.cfg.selfSchedule && !pod.metadata.deletionTimestamp) return; // the scheduler binds it
    if ((spec.schedulingGates ?? []).length) return; // SchedulingGated: the scheduler waits
    // Only the default scheduler's pods are bound by us; others wait for their scheduler (or a manual binding).
    if (!spec.nodeName && spec.schedulerName && spec.schedulerName !== 'default-scheduler') return;
    const phase = (pod as Obj).status?.phase;
    if (pod.metadata.deletionTimestamp) {
      // Never ran here (or already finished): nothing to stop, finish the deletion.
      if (!spec.nodeName || phase === 'Succeeded' || phase === 'Failed' || !this.workers.has(uid))
        this.store.remove(PODS, pod.metadata.namespace, pod.metadata.name ?? '');
      return;
    }
    if (phase === 'Succeeded' || phase === 'Failed') return; // terminal before we saw it: never restarted
    let bound = pod;
    if (!spec.nodeName) {
      const b = this.store.mutate(PODS, pod.metadata.namespace, pod.metadata.name ?? '', (o) => {
        if (o.metadata.uid !== uid) return;
        const ob = o as Obj;
        ob.spec.nodeName = this.cfg.nodeName;
        const st = (ob.status ??= {});
        const conds: Obj[] = (st.conditions ??= []);
        if (!conds.some((c) => c.type === 'PodScheduled'))
          conds.push({ type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: now() });
        else
          for (const c of conds)
            if (c.type === 'PodScheduled')
              Object.assign(c, { status: 'True', lastTransitionTime: now(), reason: undefined, message: undefined });
      });
      if (!b || b.metadata.uid !== uid) return;
      bound = b;
      this.event(
        bound,
        'Normal',
        'Scheduled',
        `Successfully assigned ${pod.metadata.namespace}/${pod.metadata.name} to ${this.cfg.nodeName}`,
      );
      if (this.workers.has(uid)) return; // the MODIFIED event of our own binding got there first
    }
    const w = new PodWorker(bound, this.env);
    this.workers.set(uid, w);
    w.start();
  }

  private event(obj: KObject, type: 'Normal' | 'Warning', reason: string, message: string): void {
    try {
      this.store.recordEvent(obj, type, reason, message);
    } catch {
      /* events are best effort */
    }
  }

  private markHosts(ns: string): void {
    this.hostsDirty.add(ns);
    this.hostsTimer ??= setTimeout(() => {
      this.hostsTimer = undefined;
      const nss = [...this.hostsDirty];
      this.hostsDirty.clear();
      for (const w of this.workers.values()) if (nss.includes(w.namespace)) void w.writeHosts();
    }, 20);
  }

  private markVolumes(ns: string): void {
    this.volumesDirty.add(ns);
    this.volumesTimer ??= setTimeout(() => {
      this.volumesTimer = undefined;
      const nss = [...this.volumesDirty];
      this.volumesDirty.clear();
      for (const w of this.workers.values()) if (nss.includes(w.namespace)) void w.refreshVolumes();
    }, 200);
  }

  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    for (const u of this.unsubs.splice(0)) u();
    clearTimeout(this.hostsTimer);
    clearTimeout(this.volumesTimer);
    this.streams.stop();
    this.clusterDns?.server.close();
    await this.localAddresses?.release();
    const ws = [...this.workers.values()];
    this.workers.clear();
    await Promise.all(ws.map((w) => w.kill()));
    await this.net.stop();
    await this.templateBuild;
  }

  handleUpgrade(
    kind: 'exec' | 'attach' | 'portforward',
    req: IncomingMessage,
    socket: Duplex,
    head: Buffer,
    pod: KObject,
  ): void {
    this.streams.handleUpgrade(kind, req, socket, head, pod);
  }

  handlePlain(kind: 'exec' | 'attach' | 'portforward', req: IncomingMessage, res: ServerResponse, pod: KObject): void {
    this.streams.handlePlain(kind, req, res, pod);
  }

  private openLogs = 0;

  openStreams(): Record<'exec' | 'attach' | 'portforward' | 'log', number> {
    return { ...this.streams.openByKind(), log: this.openLogs };
  }

  /** When the last stream of each kind closed (ms since the epoch). */
  streamsClosedAt(): Partial<Record<'exec' | 'attach' | 'portforward' | 'log', number>> {
    return { ...this.streams.closedAt, ...(this.logClosedAt ? { log: this.logClosedAt } : {}) };
  }
  private logClosedAt = 0;

  handleLog(req: IncomingMessage, res: ServerResponse, pod: KObject): void {
    this.openLogs++;
    res.once('close', () => {
      this.openLogs--;
      this.logClosedAt = Date.now();
    });
    void handleLog(req, res, pod, this.workerFor(pod), {
      splitStreams: !!this.cfg.featureGates.PodLogsQuerySplitStreams,
      faults: this.faults,
    });
  }

  // -- metrics API readings (sim/kubelet/metrics.ts)
  private readonly usage = new UsageReader();

  async podMetrics(pod: KObject): Promise<ContainerUsage[] | undefined> {
    const w = this.workerFor(pod);
    if (!w) return undefined;
    const roots = new Map<string, number>();
    for (const cs of w.main) {
      const inst = cs.current;
      if (inst?.running && inst.proc) roots.set(cs.name, inst.proc.pid || inst.proc.proc.pid || 0);
    }
    if (!roots.size) {
      this.usage.forget(w.uid);
      return undefined;
    }
    return this.usage.read(w.uid, roots);
  }
  // -- end metrics

  private readonly startedAt = new Date().toISOString();

  /** The kubelet Summary API of one of this kubelet's nodes (sim/kubelet/volume-stats.ts); undefined for another node. */
  async nodeSummary(node: string): Promise<Record<string, unknown> | undefined> {
    if (!this.cfg.nodeNames.includes(node)) return undefined;
    return nodeSummary(node, this.startedAt, this.workers.values());
  }

  killContainer(namespace: string, pod: string, container: string, signal: NodeJS.Signals = 'SIGKILL'): boolean {
    for (const w of this.workers.values()) {
      if (w.namespace !== namespace || w.name !== pod) continue;
      const inst = w.container(container)?.current;
      if (!inst?.running || !inst.proc) return false;
      inst.proc.kill(signal);
      return true;
    }
    return false;
  }
}

export function createKubelet(store: KubeletStore, faults: FaultRegistry, opts: KubeletOptions): Kubelet {
  return new SimKubelet(store, faults, opts);
}
