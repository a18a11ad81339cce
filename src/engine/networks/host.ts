/**
 * @module engine/networks/host
 * What Docker networks need from the engine (engine/kube-engine.ts provides it): the Kubernetes
 * handle, the container index, events, the per-container lock and states. Nothing else: the
 * network wing never reaches into the lifecycle.
 */
import type { EngineCore } from '../core/engine-core.js';

export type NetworkHost = Pick<EngineCore, 'kube' | 'namespace' | 'opts' | 'index' | 'events' | 'withLock' | 'stateOf'>;

/** The record annotations' read-modify-write (networks/annotations.ts, ports/publisher.ts). */
export type RecordHost = Pick<EngineCore, 'kube' | 'index'>;
