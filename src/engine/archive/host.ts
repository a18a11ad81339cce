/**
 * @module engine/archive/host
 * What `docker cp` needs from the engine (engine/kube-engine.ts provides it): the core
 * (core/engine-core.ts) for lookups, locks and events; the Pod's storage and the pull Secret for
 * the inspector Pod, which mounts what a run would.
 */
import type { CoreOptions, EngineCore } from '../core/engine-core.js';
import type { ContainerRecord } from '../model/types.js';
import type { PodStorage } from '../model/translate.js';
import type { PodSecurityGate } from '../security/gate.js';
import type { PodSettings } from '../model/pod-settings.js';

export interface ArchiveHost extends Pick<
  EngineCore,
  'kube' | 'namespace' | 'index' | 'events' | 'log' | 'withLock' | 'stateOf' | 'eventSource'
> {
  readonly opts: CoreOptions & {
    readonly archiveExecHighWaterBytes: number;
    readonly archiveUploadMaxBytes: number;
    readonly pod?: PodSettings;
  };
  /** The storage of a run's Pod (staged archives, volumes). */
  podStorage(rec: ContainerRecord): Promise<PodStorage>;
  /** The Secret Pods name in imagePullSecrets (docker login), if any. */
  pullSecretName(): string | undefined;
  /** The Pod policy: helper Pods are built for its level and checked before they are created. */
  readonly security: Pick<PodSecurityGate, 'levelName' | 'refresh' | 'checkPod'>;
}
