/**
 * @module engine/containers/host
 * What the container lifecycle (create.ts, start.ts, stop.ts, wait.ts, top.ts, monitor.ts) needs
 * from the engine that composes it (engine/kube-engine.ts): the core (core/engine-core.ts), the
 * Pod and record contexts, and the few calls into the other wings a run makes (image defaults,
 * network names, published ports, the inspector Pod, the Pod's storage).
 */
import type { ContainerRecord } from '../model/types.js';
import type { PodContext } from '../model/translate.js';
import type { RecordContext } from '../model/record.js';
import type { PodStorage } from '../model/translate.js';
import type { ImageService } from '../images/service.js';
import type { NetworkManager } from '../networks/networks.js';
import type { PortPublisher } from '../ports/publisher.js';
import type { UserResolver } from '../users/users.js';
import type { CoreOptions, EngineCore } from '../core/engine-core.js';
import type { PodSecurityGate } from '../security/gate.js';
import type { PodSettings } from '../model/pod-settings.js';
import type { VolumeService } from '../volumes/service.js';

/** The options the lifecycle reads besides the core's. */
export interface ContainerOptions extends CoreOptions {
  /** The restart policy's longest delay between runs (ms). */
  readonly restartMaxBackoffMs: number;
  /** Exit codes of removed containers remembered for late `wait` answers. */
  readonly removedExitsKept: number;
  /** docker top and in-container signals: the command's time and output bounds. */
  readonly execCommand: { readonly timeoutMs: number; readonly maxOutput: number };
  /** Cluster settings of container Pods (their --pod-max-limits is checked at create). */
  readonly pod: PodSettings;
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
  /** User names -> numbers before the Pod is built (engine/users). */
  readonly users: Pick<UserResolver, 'numericIntent'>;
  /** The Pod policy (engine/security): checked at create, and before each Pod is created. */
  readonly security: Pick<PodSecurityGate, 'refresh' | 'checkCreate' | 'checkPod'>;
  /** A create body that will never get a Pod (Ryuk, played in process): the Pod policy does not apply to it. */
  podless(body: Record<string, unknown>): boolean;
  readonly volumes: Pick<VolumeService, 'prepareCreate' | 'removeAnonymous' | 'mountsOf' | 'settle' | 'beforeKill'>;
  recordContext(): RecordContext;
  podContext(rec: ContainerRecord): PodContext;
  podStorage(rec: ContainerRecord): Promise<PodStorage>;
  deletePod(name: string, gracePeriodSeconds?: number): Promise<void>;
}
