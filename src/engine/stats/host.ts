/**
 * @module engine/stats/host
 * What `docker stats` needs from the engine (engine/kube-engine.ts provides it): the Kubernetes
 * handle and namespace, and the container index to find a container's current Pod.
 */
import type { EngineCore } from '../core/engine-core.js';

export type StatsHost = Pick<EngineCore, 'kube' | 'namespace' | 'index' | 'stateOf' | 'log'>;
