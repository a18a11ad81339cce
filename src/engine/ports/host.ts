/**
 * @module engine/ports/host
 * What published ports need from the engine (engine/kube-engine.ts provides it): the container
 * index (to follow each container's runs), states, the WebSocket dialer for pods/portforward, and
 * the bridge gateway address.
 */
import type { EngineCore } from '../core/engine-core.js';

export type PortsHost = Pick<EngineCore, 'kube' | 'namespace' | 'opts' | 'index' | 'stateOf'>;
