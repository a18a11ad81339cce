/**
 * @module engine/core/engine-core
 * What every wing may ask of the engine that holds the containers: the Kubernetes handle, the
 * container index (watch caches of records and Pods), the event bus, the per-container lock and
 * the record's compare-and-swap. engine/kube-engine.ts provides it; the wings' host interfaces
 * (containers/host.ts, networks/host.ts, ports/host.ts, archive/host.ts) pick from it, so that no
 * wing imports the composition root. With the container index beside it, this folder is what the
 * wings share: they import it, it imports no wing.
 */
import type { Logger } from '../../log.js';
import type { Kube } from '../../kube/index.js';
import type { ContainerEventSource, EventBus } from '../events/events.js';
import type { ContainerRecord, DockerState, RecordState } from '../model/types.js';
import type { ContainerIndex } from './container-index.js';

/** The engine options a wing reads (named options in src/config.ts; the composition sets them). */
export interface CoreOptions {
  /** The instance label value: every object of this kuber-api carries it. */
  readonly instance: string;
  /** kuber-api's own Pod, owner of every record when running in the cluster. */
  readonly ownerPod?: { name: string; uid: string };
  /** Where containers reach kuber-api (POD_IP); networks.ts discovers it at start on kube-sim, hence writable. */
  hostGatewayIp?: string;
  /** terminationGracePeriodSeconds of container Pods. */
  readonly killGraceSeconds: number;
  /** Docker's stop timeout (seconds) when neither the request nor StopTimeout gives one. */
  readonly defaultStopTimeout: number;
  /** How long `docker start` waits for the Pod to run. */
  readonly startTimeoutMs: number;
}

export interface EngineCore {
  readonly kube: Kube;
  readonly namespace: string;
  readonly opts: CoreOptions;
  readonly index: ContainerIndex;
  readonly events: EventBus;
  readonly log: Logger;
  /** Serialise operations on one container. */
  withLock<T>(id: string, fn: () => Promise<T>): Promise<T>;
  stateOf(rec: ContainerRecord): DockerState;
  eventSource(rec: ContainerRecord): ContainerEventSource;
  /** Compare-and-swap of the record's state on its resourceVersion (retried on conflict). */
  updateState(
    id: string,
    mutate: (s: RecordState, rec: ContainerRecord) => RecordState,
    name?: string,
  ): Promise<ContainerRecord>;
}
