/**
 * @module engine/engine-options
 * The options of the Kubernetes engine (engine/kube-engine.ts; named options in src/config.ts,
 * mapped by engine/boot.ts) and the container target the streaming side resolves.
 */
import type { EventBus } from './events/events.js';
import type { ImageServiceOptions } from './images/service.js';
import type { NetworkOptions } from './networks/networks.js';
import type { PublishOptions } from './ports/publisher.js';
import type { StreamsOptions } from './streams/streams.js';
import type { StreamTarget } from './streams/host.js';

export interface EngineOptions {
  /** The instance label value: every object of this kuber-api carries it. */
  instance: string;
  /** kuber-api's own Pod (downward API), owner of every record when running in the cluster. */
  ownerPod?: { name: string; uid: string };
  /** terminationGracePeriodSeconds of container Pods (the kubelet's minimum is 2). */
  killGraceSeconds: number;
  /** Docker's default stop timeout (seconds) when neither the request nor StopTimeout gives one. */
  defaultStopTimeout: number;
  /** How long `docker start` waits for the Pod to run before failing. */
  startTimeoutMs: number;
  imagePullPolicy: 'IfNotPresent' | 'Always' | 'Never';
  automountServiceAccountToken: boolean;
  hostGatewayIp?: string;
  /** Known to be kube-sim (started embedded); otherwise detected from the node's kubelet version. */
  simulated?: boolean;
  eventsBufferSize: number;
  /** The event bus to publish on (main creates it before the engine, for GET /events). */
  events?: EventBus;
  /** Limits of attach/exec/logs (engine/streams/streams.ts). */
  streams?: Partial<StreamsOptions>;
  /** docker cp before start: staged bytes and files per container (engine/archive/stage.ts). */
  archiveMaxBytes: number;
  archiveMaxFiles: number;
  /** The image of kuber-api's helper containers (it needs sh, cat and tar: busybox). */
  helperImage: string;
  /** An inspector pod (docker cp from a created container) is deleted after this long unused. */
  inspectorIdleMs: number;
  /** Registry access and the image metadata cache (engine/images/service.ts). */
  images?: Partial<ImageServiceOptions>;
  /** Docker networks (engine/networks/networks.ts). */
  network?: Partial<NetworkOptions>;
  /** Published ports (engine/ports/publisher.ts). */
  publish?: Partial<Omit<PublishOptions, 'forward'>> & { forward?: Partial<PublishOptions['forward']> };
}

export const DEFAULT_ENGINE_OPTIONS: Omit<EngineOptions, 'instance'> = {
  killGraceSeconds: 2,
  defaultStopTimeout: 10,
  startTimeoutMs: 300_000,
  imagePullPolicy: 'IfNotPresent',
  automountServiceAccountToken: false,
  eventsBufferSize: 1024,
  archiveMaxBytes: 64 << 20,
  archiveMaxFiles: 1000,
  helperImage: 'busybox:1.36',
  inspectorIdleMs: 30_000,
};

/** What the streaming side (attach, exec, logs) needs to reach a container: one shape for both. */
export type ContainerTarget = StreamTarget;
