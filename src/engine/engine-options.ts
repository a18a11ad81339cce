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
import type { DnsOptions } from './dns/embedded.js';
import type { PublishOptions } from './ports/publisher.js';
import type { PortMode } from './ports/forward.js';
import type { RyukOptions } from './ryuk/host.js';
import type { StreamsOptions } from './streams/streams.js';
import type { StreamTarget } from './streams/host.js';
import type { GateOptions } from './security/gate.js';
import { homedir, tmpdir } from 'node:os';
import { readFileSync } from 'node:fs';
import { loadYaml } from '../kube/kubeconfig.js';
import {
  keyValues,
  mergeSettings,
  parseToleration,
  settingsFromTemplate,
  type PodSettings,
} from './model/pod-settings.js';
import { join } from 'node:path';
import type { VolumeOptions } from './volumes/service.js';

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
  /** Exit codes of removed containers remembered (engine/containers/monitor.ts). */
  removedExitsKept: number;
  /** docker top and in-container signals: time and output bounds of the command. */
  execCommand: { timeoutMs: number; maxOutput: number };
  /** Limits of attach/exec/logs (engine/streams/streams.ts). */
  streams: StreamsOptions;
  /** docker cp before start: staged bytes and files per container (engine/archive/stage.ts). */
  archiveMaxBytes: number;
  archiveMaxFiles: number;
  /** docker cp before start: staged bytes of all containers of the instance together. */
  archiveBudgetBytes: number;
  /** docker cp into a running container: archive bytes of one copy. */
  archiveUploadMaxBytes: number;
  /** docker cp into a running container: bytes buffered on the exec WebSocket (engine/archive/exec.ts). */
  archiveExecHighWaterBytes: number;
  /** The image of kuber-api's helper containers (it needs sh, cat and tar: busybox). */
  helperImage: string;
  /** An inspector pod (docker cp from a created container) is deleted after this long unused. */
  inspectorIdleMs: number;
  /** --user names resolved from the image (engine/users). */
  users: { maxBytes: number; cacheEntries: number };
  /** Registry access and the image metadata cache (engine/images/service.ts). */
  images: ImageServiceOptions;
  /** Docker networks (engine/networks/networks.ts). */
  network: NetworkOptions;
  /** Published ports (engine/ports/publisher.ts). */
  publish: PublishOptions;
  /** Ryuk played in process (engine/ryuk/service.ts). */
  ryuk: RyukOptions;
  /** The Pod policy (engine/security/gate.ts). */
  security: GateOptions;
  /** Cluster settings of every container Pod (engine/model/pod-settings.ts). */
  pod: PodSettings;
  /** The embedded DNS (engine/dns/embedded.ts). */
  dns: DnsOptions;
  /** Volumes and bind mounts (engine/volumes/service.ts). */
  volumes: VolumeOptions;
}

/** What a caller may override (nested groups field by field). */
export type EngineOptionsInput = Partial<
  Omit<
    EngineOptions,
    'streams' | 'images' | 'network' | 'publish' | 'execCommand' | 'ryuk' | 'security' | 'dns' | 'volumes'
  >
> & {
  ryuk?: Partial<RyukOptions>;
  security?: Partial<GateOptions>;
  dns?: Partial<DnsOptions>;
  instance: string;
  streams?: Partial<StreamsOptions>;
  images?: Partial<ImageServiceOptions>;
  network?: Partial<NetworkOptions>;
  execCommand?: Partial<EngineOptions['execCommand']>;
  volumes?: Partial<VolumeOptions>;
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
    removedExitsKept: o.removedExitsKept,
    execCommand: { timeoutMs: o.execCommandTimeoutMs, maxOutput: o.execCommandMaxOutput },
    streams: {
      logMergeHoldMs: o.logMergeHoldMs,
      attachReplayBytes: o.attachReplayBytes,
      execRetentionMs: o.execRetentionMs,
      maxExecs: o.maxExecs,
      maxDetachedExecs: o.maxDetachedExecs,
      detachedExecIdleMs: o.detachedExecIdleMs,
      execPreconnectMs: o.execPreconnectMs,
    },
    archiveMaxBytes: o.archiveMaxBytes,
    archiveMaxFiles: o.archiveMaxFiles,
    archiveBudgetBytes: o.archiveBudgetBytes,
    archiveUploadMaxBytes: o.archiveUploadMaxBytes,
    archiveExecHighWaterBytes: o.archiveExecHighWaterBytes,
    helperImage: o.helperImage,
    inspectorIdleMs: o.inspectorIdleMs,
    users: { maxBytes: o.userLookupMaxBytes, cacheEntries: o.userCacheEntries },
    images: {
      mode: o.imageMetadata as ImageMetadataMode,
      mirrors: o.registryMirrors,
      insecure: o.insecureRegistries,
      registryTimeoutMs: o.registryTimeoutMs,
      lookupTimeoutMs: o.imageLookupTimeoutMs,
      cacheTtlMs: o.imageCacheTtlMs,
      failureTtlMs: o.imageFailureTtlMs,
      failureCacheEntries: o.imageFailureCacheEntries,
      tokenCacheEntries: o.registryTokenCacheEntries,
      userAgent,
    },
    network: { isolation: o.networkPolicies === 'true' },
    security: securityOptions(o),
    pod: podSettingsFrom(o),
    dns: {
      mode: o.dnsServer as DnsOptions['mode'],
      ...(o.dnsAddress ? { address: o.dnsAddress } : {}),
      port: o.dnsPort,
      upstream: o.dnsUpstream,
      upstreamTimeoutMs: o.dnsUpstreamTimeoutMs,
      maxInflight: o.dnsMaxInflight,
      maxQueryBytes: o.dnsMaxQueryBytes,
      ratePerSecond: o.dnsRatePerSource,
      maxSources: o.dnsMaxSources,
      cacheEntries: o.dnsCacheEntries,
      cacheBytes: o.dnsCacheBytes,
      cacheMaxTtlS: o.dnsCacheMaxTtlS,
      maxTcpConnections: o.dnsMaxTcpConnections,
      tcpIdleMs: o.dnsTcpIdleMs,
      unknownSourceWaitMs: o.dnsUnknownSourceWaitMs,
    },
    volumes: {
      claims: { storageClass: o.volumeStorageClass, size: o.volumeSize, accessMode: o.volumeAccessMode },
      bindMaxBytes: o.bindMaxBytes,
      execHighWaterBytes: o.archiveExecHighWaterBytes,
    },
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
    ryuk: {
      images: o.ryukImages,
      logLines: o.ryukLogLines,
      maxLineBytes: o.ryukMaxLineBytes,
      maxFilters: o.ryukMaxFilters,
      maxConnections: o.ryukMaxConnections,
    },
  };
}

/**
 * Bind roots: the job's build directory (GitLab's CI_BUILDS_DIR, else CI_PROJECT_DIR), the system
 * temp directory, and --bind-root. Never bindable: service-account mounts, kubeconfigs, the state dir.
 */
function securityOptions(o: Options, env: NodeJS.ProcessEnv = process.env): GateOptions {
  const build = env['CI_BUILDS_DIR'] || env['CI_PROJECT_DIR'];
  return {
    defaultLevel: o.podSecurityDefault as GateOptions['defaultLevel'],
    allowPrivileged: o.allowPrivileged,
    bindRoots: [...(build ? [build] : []), tmpdir(), ...o.bindRoots],
    bindDeny: [
      '/var/run/secrets',
      '/run/secrets',
      join(homedir(), '.kube'),
      ...(o.kubeconfig ? o.kubeconfig.split(':') : []),
      ...(o.stateDir ? [o.stateDir] : []),
      join(env['XDG_STATE_HOME'] || join(homedir(), '.local', 'state'), 'kuber-api'),
    ],
    levelCacheMs: o.podSecurityCacheMs,
  };
}

/** The pod settings of the flags over those of --pod-template (read once, at startup: a bad file stops kuber-api with its reason). */
export function podSettingsFrom(o: Options): PodSettings {
  let template = {};
  if (o.podTemplate) {
    try {
      template = settingsFromTemplate(
        loadYaml(readFileSync(o.podTemplate, 'utf8')) as Parameters<typeof settingsFromTemplate>[0],
      );
    } catch (err) {
      throw new Error(`--pod-template ${o.podTemplate}: ${(err as Error).message}`);
    }
  }
  return mergeSettings(template, {
    defaultRequests: keyValues(o.podRequests, '--pod-requests'),
    defaultLimits: keyValues(o.podLimits, '--pod-limits'),
    maxLimits: keyValues(o.podMaxLimits, '--pod-max-limits'),
    nodeSelector: keyValues(o.nodeSelector, '--node-selector'),
    tolerations: o.tolerations.map(parseToleration),
    imagePullSecrets: [...o.imagePullSecrets],
    labels: keyValues(o.podLabels, '--pod-label'),
    annotations: keyValues(o.podAnnotations, '--pod-annotation'),
    ...(o.podServiceAccount ? { serviceAccountName: o.podServiceAccount } : {}),
    ...(o.runtimeClass ? { runtimeClassName: o.runtimeClass } : {}),
    ...(o.priorityClass ? { priorityClassName: o.priorityClass } : {}),
  });
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
    security: { ...d.security, ...input.security },
    dns: { ...d.dns, ...input.dns },
    volumes: { ...d.volumes, ...input.volumes },
    publish: { ...d.publish, ...pub, forward: { ...d.publish.forward, ...pub.forward } },
    ryuk: { ...d.ryuk, ...input.ryuk },
  };
}

/** What the streaming side (attach, exec, logs) needs to reach a container: one shape for both. */
export type ContainerTarget = StreamTarget;
