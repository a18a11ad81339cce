/**
 * @module sim/types
 * The seam between kube-sim's apiserver/store (src/sim/apiserver, src/sim/store) and its kubelet
 * (src/sim/kubelet). Objects are plain JSON, exactly as they travel on the wire.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';

export interface ObjectMeta {
  name?: string;
  generateName?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  deletionGracePeriodSeconds?: number;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: Array<{
    apiVersion: string;
    kind: string;
    name: string;
    uid: string;
    controller?: boolean;
    blockOwnerDeletion?: boolean;
  }>;
  finalizers?: string[];
  [k: string]: unknown;
}

/** Any Kubernetes object as JSON. */
export interface KObject {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
  [k: string]: unknown;
}

/** Group/version/resource plus what the store needs to know about the resource. */
export interface Gvr {
  group: string; // '' for core
  version: string;
  resource: string; // plural, e.g. 'pods'
  kind: string; // e.g. 'Pod'
  namespaced: boolean;
}

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
export interface WatchEvent {
  type: WatchEventType;
  object: KObject;
}

/**
 * What the kubelet needs from the store. The store emits every change; the kubelet writes pod
 * status through `mutate` (bumps resourceVersion, emits MODIFIED) and finishes a graceful pod
 * deletion through `remove` (emits DELETED).
 */
export interface KubeletStore {
  get(gvr: Gvr, namespace: string | undefined, name: string): KObject | undefined;
  list(gvr: Gvr, namespace: string | undefined): KObject[];
  /** Subscribe to every change of a resource (all namespaces). Returns an unsubscribe function. */
  subscribe(gvr: Gvr, cb: (ev: WatchEvent) => void): () => void;
  /** Apply `fn` to the stored object (a private copy) and store it; returns the new object, or undefined if gone. */
  mutate(gvr: Gvr, namespace: string | undefined, name: string, fn: (obj: KObject) => void): KObject | undefined;
  /** Remove the object for good (end of graceful deletion). */
  remove(gvr: Gvr, namespace: string | undefined, name: string): void;
  /** Record a core/v1 Event about an object (reason, message, type Normal|Warning). */
  recordEvent(involved: KObject, type: 'Normal' | 'Warning', reason: string, message: string): void;
}

/**
 * What the apiserver needs from the kubelet. The apiserver authenticates the request and looks the
 * pod up (404 Status if absent); the kubelet does the rest: container validation, option
 * validation, the streaming protocol, and Status errors as a real apiserver/kubelet pair answers them.
 */
export interface KubeletStreams {
  /** pods/exec, pods/attach, pods/portforward: an upgrade request (WebSocket, or SPDY to refuse). */
  handleUpgrade(
    kind: 'exec' | 'attach' | 'portforward',
    req: IncomingMessage,
    socket: Duplex,
    head: Buffer,
    pod: KObject,
  ): void;
  /** A non-upgrade GET/POST on exec/attach/portforward (kubectl's SPDY fallback without Upgrade, curl...). */
  handlePlain(kind: 'exec' | 'attach' | 'portforward', req: IncomingMessage, res: ServerResponse, pod: KObject): void;
  /** pods/log (plain HTTP, chunked). */
  handleLog(req: IncomingMessage, res: ServerResponse, pod: KObject): void;
  /** Streams open right now, by kind (admin GET /_sim `streams`: tests check that clients closed theirs). */
  openStreams?(): Record<'exec' | 'attach' | 'portforward' | 'log', number>;
  streamsClosedAt?(): Partial<Record<'exec' | 'attach' | 'portforward' | 'log', number>>;
  /**
   * Usage of a pod's running containers for the metrics API (sim/apiserver/metrics.ts); undefined
   * when the pod does not run here (metrics-server then has no reading either).
   */
  podMetrics?(
    pod: KObject,
  ): Promise<Array<{ name: string; cpuCores: number; memoryBytes: number; windowMs: number; at: number }> | undefined>;
  /**
   * The kubelet Summary API (GET /stats/summary through the node proxy: sim/kubelet/volume-stats.ts)
   * of a node this kubelet runs; undefined for a node it does not.
   */
  nodeSummary?(node: string): Promise<Record<string, unknown> | undefined>;
}

export interface Kubelet extends KubeletStreams {
  start(): Promise<void>;
  /** Kill every container process and release pod networks; resolves when all are gone. */
  stop(): Promise<void>;
  /**
   * Fault injection (admin endpoint / programmatic handle): send `signal` (default SIGKILL) to the
   * main process of a running container, as if it crashed or was OOM-killed. The kubelet then
   * records the exit and restarts per restartPolicy. Returns false if no such running container.
   */
  killContainer(namespace: string, pod: string, container: string, signal?: NodeJS.Signals): boolean;
  /** The address of the cluster DNS the kubelet serves (kubelet/cluster-dns.ts), when it serves one. */
  clusterDnsAddress?(): string | undefined;
}

/** Nodes (cluster-scoped); the kubelet reports its node's status when the object exists. */
export const NODES: Gvr = { group: '', version: 'v1', resource: 'nodes', kind: 'Node', namespaced: false };

export const PODS: Gvr = { group: '', version: 'v1', resource: 'pods', kind: 'Pod', namespaced: true };
export const SERVICES: Gvr = { group: '', version: 'v1', resource: 'services', kind: 'Service', namespaced: true };
export const CONFIGMAPS: Gvr = {
  group: '',
  version: 'v1',
  resource: 'configmaps',
  kind: 'ConfigMap',
  namespaced: true,
};
export const SECRETS: Gvr = { group: '', version: 'v1', resource: 'secrets', kind: 'Secret', namespaced: true };
export const NAMESPACES: Gvr = {
  group: '',
  version: 'v1',
  resource: 'namespaces',
  kind: 'Namespace',
  namespaced: false,
};
export const EVENTS: Gvr = { group: '', version: 'v1', resource: 'events', kind: 'Event', namespaced: true };
export const PVCS: Gvr = {
  group: '',
  version: 'v1',
  resource: 'persistentvolumeclaims',
  kind: 'PersistentVolumeClaim',
  namespaced: true,
};
export const PVS: Gvr = {
  group: '',
  version: 'v1',
  resource: 'persistentvolumes',
  kind: 'PersistentVolume',
  namespaced: false,
};
export const STORAGECLASSES: Gvr = {
  group: 'storage.k8s.io',
  version: 'v1',
  resource: 'storageclasses',
  kind: 'StorageClass',
  namespaced: false,
};
export const ENDPOINTS: Gvr = { group: '', version: 'v1', resource: 'endpoints', kind: 'Endpoints', namespaced: true };

/** Default entrypoint/cmd of an image that has no command (a tiny image catalogue). */
export interface ImageConfig {
  entrypoint?: string[];
  cmd?: string[];
  workingDir?: string;
  env?: string[];
}

/**
 * Options `start()` passes to `createKubelet(store, faults, opts)` (src/sim/kubelet/index.ts).
 * Added by the apiserver side; the kubelet may read more fields from `extra`.
 */
export interface KubeletOptions {
  /** The simulator's state directory (logs, rootfs, sockets); exists when the kubelet is created. */
  stateDir: string;
  /** The first node's name; with no external scheduler the kubelet schedules pods by setting spec.nodeName to it. */
  nodeName: string;
  /** Every simulated node this kubelet runs the pods of (default [nodeName]): they share this host. */
  nodeNames?: string[];
  /** 'external': a scheduler (src/sim/scheduler) binds pods; 'kubelet' (default): the kubelet binds them itself. */
  scheduler?: 'kubelet' | 'external';
  /** Feature gates, e.g. { PodLogsQuerySplitStreams: true }. */
  featureGates: Record<string, boolean>;
  /** Image name (without tag, e.g. 'busybox', 'nginx') or full reference -> default config. */
  imageCatalogue?: Record<string, ImageConfig>;
  /** What an image absent from the catalogue does: run on the host's root (default) or fail to pull. */
  unknownImagePolicy?: 'run' | 'pull-error';
  /** Free-form kubelet options passed through from start(opts.kubelet). */
  extra?: Record<string, unknown>;
}
