/**
 * @module engine/engine-options
 * The options of the Kubernetes engine (engine/kube-engine.ts), derived from kuber-api's named
 * options (src/config.ts OPTION_SPECS), which hold every default once: {@link engineOptionsFrom}
 * is the one mapping, and {@link DEFAULT_ENGINE_OPTIONS} is that mapping of the defaults. The wings
 * take their options from here, complete; none of them has defaults of its own.
 */
import { DEFAULT_OPTIONS, type Options } from '../config.js';
import type { CoreOptions } from './core/engine-core.js';
import type { EventBus } from './events/events.js';
import type { ImageMetadataMode, ImageServiceOptions } from './images/service.js';
import type { NetworkOptions } from './networks/networks.js';
import type { PublishOptions } from './ports/publisher.js';
import type { PortMode } from './ports/forward.js';
import type { StreamsOptions } from './streams/streams.js';
import type { StreamTarget } from './streams/host.js';

export interface EngineOptions extends CoreOptions {
  imagePullPolicy: 'IfNotPresent' | 'Always' | 'Never';
  automountServiceAccountToken: boolean;
  /** Known to be kube-sim (started embedded); otherwise detected from the node's kubelet version. */
  simulated?: boolean;
  eventsBufferSize: number;
  /** The event bus to publish on (main creates it before the engine, for GET /events). */
  events?: EventBus;
  /** `--rm`: how long AutoRemove waits for streams still delivering output (ms). */
  autoRemoveHoldMs: number;
  /** The restart policy's longest delay between runs (ms). */
  restartMaxBackoffMs: number;
  /** docker top and in-container signals: time and output bounds of the command. */
  execCommand: { timeoutMs: number; maxOutput: number };
  /** Limits of attach/exec/logs (engine/streams/streams.ts). */
  streams: StreamsOptions;
  /** docker cp before start: staged bytes and files per container (engine/archive/stage.ts). */
  archiveMaxBytes: number;
  archiveMaxFiles: number;
  /** docker cp into a running container: bytes buffered on the exec WebSocket (engine/archive/exec.ts). */
  archiveExecHighWaterBytes: number;
  /** The image of kuber-api's helper containers (it needs sh, cat and tar: busybox). */
  helperImage: string;
  /** An inspector pod (docker cp from a created container) is deleted after this long unused. */
  inspectorIdleMs: number;
  /** Registry access and the image metadata cache (engine/images/service.ts). */
  images: ImageServiceOptions;
  /** Docker networks (engine/networks/networks.ts). */
  network: NetworkOptions;
  /** Published ports (engine/ports/publisher.ts). */
  publish: PublishOptions;
}

/** What a caller may override (nested groups field by field). */
export type EngineOptionsInput = Partial<Omit<EngineOptions, 'streams' | 'images' | 'network' | 'publish' | 'execCommand'>> & {
  instance: string;
  streams?: Partial<StreamsOptions>;
  images?: Partial<ImageServiceOptions>;
  network?: Partial<NetworkOptions>;
  execCommand?: Partial<EngineOptions['execCommand']>;
  publish?: Partial<Omit<PublishOptions, 'forward'>> & { forward?: Partial<PublishOptions['forward']> };
};

/**
 * The engine's options from kuber-api's: the one place each named option reaches the engine.
 * `defaultStopTimeout` (10 s) and `automountServiceAccountToken` (false) are Docker's and
 * kuber-api's fixed behaviour, not limits (moby daemon/container.go defaultStopTimeout).
 */
export function engineOptionsFrom(o: Options, userAgent = 'kuber-api'): Omit<EngineOptions, 'instance'> {
  return {
    killGraceSeconds: o.killGraceSeconds,
    defaultStopTimeout: 10,
    startTimeoutMs: o.startTimeoutMs,
    imagePullPolicy: o.imagePullPolicy as EngineOptions['imagePullPolicy'],
    automountServiceAccountToken: false,
    eventsBufferSize: o.eventsBufferSize,
    autoRemoveHoldMs: o.autoRemoveHoldMs,
    restartMaxBackoffMs: o.restartMaxBackoffMs,
    execCommand: { timeoutMs: o.execCommandTimeoutMs, maxOutput: o.execCommandMaxOutput },
    streams: { logMergeHoldMs: o.logMergeHoldMs, attachReplayBytes: o.attachReplayBytes, execRetentionMs: o.execRetentionMs, maxExecs: o.maxExecs, execPreconnectMs: o.execPreconnectMs },
    archiveMaxBytes: o.archiveMaxBytes,
    archiveMaxFiles: o.archiveMaxFiles,
    archiveExecHighWaterBytes: o.archiveExecHighWaterBytes,
    helperImage: o.helperImage,
    inspectorIdleMs: o.inspectorIdleMs,
    images: {
      mode: o.imageMetadata as ImageMetadataMode,
      mirrors: o.registryMirrors,
      insecure: o.insecureRegistries,
      registryTimeoutMs: o.registryTimeoutMs,
      lookupTimeoutMs: o.imageLookupTimeoutMs,
      cacheTtlMs: o.imageCacheTtlMs,
      failureTtlMs: o.imageFailureTtlMs,
      userAgent,
    },
    network: { isolation: o.networkPolicies === 'true' },
    publish: {
      addresses: o.publishAddresses,
      forward: {
        mode: o.portMode as PortMode,
        dialRetryMs: o.publishDialTimeoutMs,
        connectTimeoutMs: o.publishConnectTimeoutMs,
        replayBytes: o.publishReplayBytes,
        wsHighWaterMark: o.publishWsHighWaterBytes,
      },
    },
  };
}

export const DEFAULT_ENGINE_OPTIONS: Omit<EngineOptions, 'instance'> = engineOptionsFrom(DEFAULT_OPTIONS);

/** The defaults with `input` laid over them, nested groups field by field. */
export function resolveEngineOptions(input: EngineOptionsInput): EngineOptions {
  const d = DEFAULT_ENGINE_OPTIONS;
  const pub = input.publish ?? {};
  return {
    ...d,
    ...input,
    execCommand: { ...d.execCommand, ...input.execCommand },
    streams: { ...d.streams, ...input.streams },
    images: { ...d.images, ...input.images },
    network: { ...d.network, ...input.network },
    publish: { ...d.publish, ...pub, forward: { ...d.publish.forward, ...pub.forward } },
  };
}

/** What the streaming side (attach, exec, logs) needs to reach a container: one shape for both. */
export type ContainerTarget = StreamTarget;
