/**
 * @module engine/volumes/host
 * What the volume wing needs from the engine (engine/kube-engine.ts provides it): the Kubernetes
 * handle, the container index (records and Pods), events, the log and the core options. Nothing
 * else: the wing never reaches into the container lifecycle, which calls it instead.
 */
import type { EngineCore } from '../core/engine-core.js';

export type VolumeHost = Pick<EngineCore, 'kube' | 'namespace' | 'opts' | 'index' | 'events' | 'log'>;
