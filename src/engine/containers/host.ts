/**
 * @module engine/containers/host
 * What the container lifecycle (create.ts, start.ts, stop.ts, wait.ts, top.ts, monitor.ts) needs
 * from the engine that composes it (engine/kube-engine.ts): the core (containers/core.ts), the
 * Pod and record contexts, and the few calls into the other wings a run makes (image defaults,
 * network names, published ports, the inspector Pod, the Pod's storage).
 */
import type { ContainerRecord } from '../model/types.js';
import type { PodContext } from '../model/translate.js';
import type { RecordContext } from '../model/record.js';
import type { PodStorage } from '../volumes/volume-pod.js';
import type { ImageService } from '../images/service.js';
import type { NetworkManager } from '../networks/networks.js';
import type { PortPublisher } from '../ports/publisher.js';
import type { CoreOptions, EngineCore } from './core.js';
import type { VolumeService } from '../volumes/service.js';

/** The options the lifecycle reads besides the core's. */
export interface ContainerOptions extends CoreOptions {
  /** The restart policy's longest delay between runs (ms). */
  readonly restartMaxBackoffMs: number;
  /** docker top and in-container signals: the command's time and output bounds. */
  readonly execCommand: { readonly timeoutMs: number; readonly maxOutput: number };
}

/** The monitor's bookkeeping the lifecycle reads and resets (containers/monitor.ts). */
export interface ExitBook {
  exitCount(id: string): number;
  lastExitCode(id: string): number | undefined;
  noteExit(id: string, code?: number): void;
  cancelRestart(id: string): void;
  forget(id: string): void;
}

/** What the monitor needs: the core plus the actions the restart policy and AutoRemove take. */
export interface MonitorHost extends EngineCore {
  readonly opts: ContainerOptions;
  /** Make the next run (restart policy). */
  launchRun(id: string, kind: 'start' | 'restart'): Promise<void>;
  /** Remove under the container's lock (AutoRemove). */
  removeLocked(id: string, force: boolean, removeVolumes?: boolean): Promise<void>;
  /** Resolves when no stream holds the container's AutoRemove any more. */
  autoRemoveHeld(id: string): Promise<void>;
}

export interface ContainerHost extends MonitorHost {
  readonly monitor: ExitBook;
  readonly images: Pick<ImageService, 'prepareCreate'>;
  readonly networks: Pick<NetworkManager, 'prepareCreate' | 'decoratePod'>;
  readonly ports: Pick<PortPublisher, 'beforeStart'>;
  readonly inspector: { release(id: string): Promise<void> };
  readonly volumes: Pick<VolumeService, 'prepareCreate' | 'removeAnonymous' | 'mountsOf' | 'settle' | 'beforeKill'>;
  recordContext(): RecordContext;
  podContext(rec: ContainerRecord): PodContext;
  podStorage(rec: ContainerRecord): Promise<PodStorage>;
  deletePod(name: string, gracePeriodSeconds?: number): Promise<void>;
}
