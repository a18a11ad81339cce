/**
 * @module sim/kubelet/pod-host
 * What a pod worker's parts (sandbox, container supervision, probes, exec, container stop) see of
 * the worker and the node: the node's services (`WorkerEnv`), the current pod object, whether the
 * pod is stopping, events, status writes and a sleep that a stop cancels (`Cancelled`).
 */
import type { Logger } from '../../log.js';
import type { FaultRegistry } from '../faults.js';
import type { KObject, KubeletStore } from '../types.js';
import type { MemoryCgroups } from './cgroups.js';
import type { ImagePuller } from './image-pull.js';
import type { NetworkManager, PodNetwork } from './netns.js';
import type { KubeletConfig } from './options.js';
import type { RootfsBuilder } from './rootfs.js';
import type { PodNamespaces } from './sandbox.js';
import type { PodVolume } from './volumes.js';

type Obj = Record<string, any>;

export interface WorkerEnv {
  store: KubeletStore;
  faults: FaultRegistry;
  cfg: KubeletConfig;
  net: NetworkManager;
  rootfs: RootfsBuilder;
  log: Logger;
  root: boolean;
  /** Images "pulled" on this node (IfNotPresent then reports "already present"). */
  pulled: Set<string>;
  /** The namespace's Services section for /etc/hosts. */
  servicesSection(namespace: string): string;
  /** A pod's IP or readiness changed: Service resolution of its namespace may change. */
  podNetworkChanged(namespace: string): void;
  /** The worker is done (removed or force-deleted). */
  forget(w: { readonly uid: string }): void;
  cgroups: MemoryCgroups;
}

/**
 * What the containers of a pod use of its sandbox (pod-sandbox.ts implements it): the network,
 * the pause's namespaces, the kubelet-managed files and the volumes.
 */
export interface SandboxView {
  readonly net: PodNetwork | undefined;
  readonly pausePid: number | undefined;
  namespaces(): PodNamespaces | undefined;
  readonly hostsPath: string;
  readonly resolvPath: string;
  readonly hostnamePath: string;
  readonly volumes: ReadonlyMap<string, PodVolume>;
}

/** The pod is being stopped: a cancelled sleep or start unwinds the worker's loops. */
export class Cancelled extends Error {}

export interface PodHost {
  readonly env: WorkerEnv;
  readonly namespace: string;
  readonly name: string;
  /** `name_namespace(uid)`, as the kubelet names a pod in its messages. */
  readonly fullName: string;
  /** The pod's state directory. */
  readonly dir: string;
  readonly log: Logger;
  /** The pod object as last seen (update() replaces it). */
  readonly pod: KObject;
  readonly spec: Obj;
  /** No more container starts: terminal phase, deletion, or kubelet stop. */
  readonly stopping: boolean;
  readonly sandbox: SandboxView;
  readonly puller: ImagePuller;
  event(type: 'Normal' | 'Warning', reason: string, message: string): void;
  writeStatus(): void;
  /** A sleep that rejects with Cancelled when the pod stops. */
  sleep(ms: number): Promise<void>;
}

/** A sleep that rejects with Cancelled when `signal` aborts (the pod stops). */
export function cancellableSleep(signal: AbortSignal, ms: number): Promise<void> {
  if (signal.aborted) return Promise.reject(new Cancelled());
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(new Cancelled());
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
