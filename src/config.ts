/**
 * @module config
 * Every limit and setting of kuber-api as one frozen {@link Options} object, built from CLI flags,
 * then environment variables, then defaults (in that order of precedence). Each option has a
 * flag, an environment variable and a default in {@link OPTION_SPECS}; `--help` prints them.
 */
import { parseArgs } from 'node:util';
import { isIP } from 'node:net';
import { EngineError } from './errors.js';
import { parseHost, DEFAULT_UNIX_PATH } from './http/address.js';

export { parseHost };

export interface Options {
  /** Listeners in dockerd's `-H` syntax: `unix:///path` or `tcp://host:port`. */
  readonly hosts: readonly string[];
  /** The API version advertised (`API-Version`, `/version`), also the maximum accepted. */
  readonly apiVersion: string;
  /** The lowest `/v1.NN/` prefix accepted (moby's default minimum). */
  readonly minApiVersion: string;
  /** Request line + headers limit (431 + close). Go's default is 1 MiB; dockerode puts whole create bodies in the query. */
  readonly maxHeaderBytes: number;
  /** Limit of request bodies buffered as JSON (413 + close). Streamed bodies (archives) are not limited by it. */
  readonly maxBodyBytes: number;
  /** Time from the first byte of a request head to its end (408 + close): slow-loris protection. */
  readonly headerTimeoutMs: number;
  /** An idle keep-alive connection (no request in progress) is closed after this long. 0 = never. */
  readonly idleTimeoutMs: number;
  /** Open connections over all listeners; one more gets 503 + close. */
  readonly maxConnections: number;
  /** On SIGTERM/SIGINT: how long in-flight responses and streams may run before they are cut. */
  readonly shutdownGraceMs: number;
  readonly logLevel: string;
  /** Kubernetes access (used by the engine): kubeconfig path, context and namespace. */
  readonly kubeconfig: string | undefined;
  readonly context: string | undefined;
  readonly namespace: string | undefined;
  /** Instance label of every object kuber-api creates (default: the pod name in a cluster, else kept in the state dir). */
  readonly instanceId: string | undefined;
  /** kuber-api's state directory (instance ID, the embedded kube-sim's kubeconfig and state). */
  readonly stateDir: string | undefined;
  /** How long `docker start` waits for a Pod to run (image pulls included) before failing. */
  readonly startTimeoutMs: number;
  /** terminationGracePeriodSeconds of container Pods: the delay between the kubelet's stop signal and SIGKILL. */
  readonly killGraceSeconds: number;
  /** follow with split stdout/stderr: how long a quiet stream may hold the other one's lines (ms). */
  readonly logMergeHoldMs: number;
  /** TTY attach made before start: live output held back while the log is replayed (bytes). */
  readonly attachReplayBytes: number;
  /** A finished exec instance stays inspectable this long (ms). */
  readonly execRetentionMs: number;
  /** Exec instances kept in memory at most. */
  readonly maxExecs: number;
  /** imagePullPolicy of container Pods: IfNotPresent (as `docker run` uses a local image), Always or Never. */
  readonly imagePullPolicy: string;
  /** Addresses kuber-api binds published ports on (where clients in its Pod connect). */
  readonly publishAddresses: readonly string[];
  /** How published ports reach a Pod: direct (pod IP), portforward (pods/portforward), auto. */
  readonly portMode: string;
  /** How long a published-port connection waits for the container to run and accept (ms). */
  readonly publishDialTimeoutMs: number;
  /** One NetworkPolicy per Docker network ("true"/"false"): isolation between networks. */
  readonly networkPolicies: string;
  /** docker cp into a container that is not running: bytes kept in Kubernetes per container until it starts (413 beyond). */
  readonly archiveMaxBytes: number;
  /** docker cp before start: files (each one a mount) per container. */
  readonly archiveMaxFiles: number;
  /** Image of kuber-api's helper containers (needs sh, cat, tar): staged archives, bind snapshots, inspecting created containers. */
  readonly helperImage: string;
  /** docker cp from a created container runs an inspector pod; it is deleted after this long unused (ms). */
  readonly inspectorIdleMs: number;
  // -- volumes (engine/volumes): begin
  /** StorageClass of the PersistentVolumeClaims Docker volumes become ('' = the cluster's default class). */
  readonly volumeStorageClass: string;
  /** Requested size of each volume's claim (a Kubernetes quantity). */
  readonly volumeSize: string;
  /** Access mode of volume claims: ReadWriteOnce (users co-scheduled by pod affinity) or ReadWriteMany. */
  readonly volumeAccessMode: string;
  /** Bind mounts: bytes of one container's bind sources snapshotted into Kubernetes at each start (413 beyond). */
  readonly bindMaxBytes: number;
  // -- volumes: end
  /** Image configs from registries: best-effort (an unreachable registry records the image), registry (strict, as dockerd), off. */
  readonly imageMetadata: string;
  /** Docker Hub mirrors tried before Docker Hub (dockerd's registry-mirrors). */
  readonly registryMirrors: readonly string[];
  /** Registries reachable over plain HTTP / without certificate checks (host[:port] or CIDR; loopback always is). */
  readonly insecureRegistries: readonly string[];
  /** Per registry request during `docker pull` (ms). */
  readonly registryTimeoutMs: number;
  /** `docker create` of an image kuber-api has no config for waits this long for its registry (ms). */
  readonly imageLookupTimeoutMs: number;
  /** Image configs read longer ago than this are re-read at the next create (ms; 0 = never). */
  readonly imageCacheTtlMs: number;
  /** A registry lookup that failed at create is not retried for this long (ms). */
  readonly imageFailureTtlMs: number;
  /** Docker events kept for `since` replays. */
  readonly eventsBufferSize: number;
  /** `--rm`: AutoRemove waits at most this long for an attach or log stream to deliver the last output (ms). */
  readonly autoRemoveHoldMs: number;
  /** The restart policy's longest delay between runs (ms; moby restartmanager: 1 minute). */
  readonly restartMaxBackoffMs: number;
  /** Commands the engine runs in a container (docker top, signals as `kill -<n> 1`) are given up after this long (ms). */
  readonly execCommandTimeoutMs: number;
  /** Output of such a command kept (docker top's table), in characters. */
  readonly execCommandMaxOutput: number;
  /** docker cp into a running container: archive bytes buffered on the exec WebSocket before the client is paused. */
  readonly archiveExecHighWaterBytes: number;
  /** Published ports, auto mode: a direct dial slower than this counts as "pod IPs unreachable" (ms). */
  readonly publishConnectTimeoutMs: number;
  /** Published ports over pods/portforward: client bytes kept to replay on a retry, until the container's first byte. */
  readonly publishReplayBytes: number;
  /** Published ports over pods/portforward: the client is paused while the WebSocket buffers more than this. */
  readonly publishWsHighWaterBytes: number;
}

/**
 * The default unix socket. `/var/run/docker.sock` needs root (or a docker group) in a sidecar;
 * a path under /tmp works for any user. Point clients at it with DOCKER_HOST=unix:///tmp/kuber-api.sock,
 * or pass `-H unix:///var/run/docker.sock` where the process may create it.
 */
export const DEFAULT_UNIX_SOCKET = `unix://${DEFAULT_UNIX_PATH}`;
export const DEFAULT_TCP = 'tcp://127.0.0.1:2375';

type Kind = 'string' | 'int' | 'list' | 'level' | 'strings' | 'ips';
interface Spec {
  key: keyof Options;
  flag: string;
  short?: string;
  env: string;
  kind: Kind;
  def: unknown;
  help: string;
  /** For 'string' options with a fixed set of values. */
  choices?: readonly string[];
  /** For 'strings' options: each item must match (with the reason when it does not). */
  item?: { re: RegExp; what: string };
}

const LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

export const OPTION_SPECS: readonly Spec[] = [
  { key: 'hosts', flag: 'host', short: 'H', env: 'KUBER_API_HOST', kind: 'list', def: [DEFAULT_UNIX_SOCKET, DEFAULT_TCP], help: 'listen address, repeatable: unix:///path or tcp://host:port (env: comma-separated)' },
  { key: 'apiVersion', flag: 'api-version', env: 'KUBER_API_API_VERSION', kind: 'string', def: '1.51', help: 'API version advertised, and the maximum accepted' },
  { key: 'minApiVersion', flag: 'min-api-version', env: 'KUBER_API_MIN_API_VERSION', kind: 'string', def: '1.24', help: 'lowest /v1.NN/ accepted' },
  { key: 'maxHeaderBytes', flag: 'max-header-bytes', env: 'KUBER_API_MAX_HEADER_BYTES', kind: 'int', def: 1 << 20, help: 'request line + headers limit (431)' },
  { key: 'maxBodyBytes', flag: 'max-body-bytes', env: 'KUBER_API_MAX_BODY_BYTES', kind: 'int', def: 16 << 20, help: 'JSON request body limit (413)' },
  { key: 'headerTimeoutMs', flag: 'header-timeout-ms', env: 'KUBER_API_HEADER_TIMEOUT_MS', kind: 'int', def: 30_000, help: 'time allowed to send a request head (408)' },
  { key: 'idleTimeoutMs', flag: 'idle-timeout-ms', env: 'KUBER_API_IDLE_TIMEOUT_MS', kind: 'int', def: 300_000, help: 'idle keep-alive connections are closed after this (0 = never)' },
  { key: 'maxConnections', flag: 'max-connections', env: 'KUBER_API_MAX_CONNECTIONS', kind: 'int', def: 4096, help: 'open connections over all listeners (503 beyond)' },
  { key: 'shutdownGraceMs', flag: 'shutdown-grace-ms', env: 'KUBER_API_SHUTDOWN_GRACE_MS', kind: 'int', def: 10_000, help: 'on SIGTERM/SIGINT, time given to running requests and streams' },
  { key: 'logLevel', flag: 'log-level', short: 'l', env: 'KUBER_API_LOG_LEVEL', kind: 'level', def: 'info', help: `log level: ${LEVELS.join('|')}` },
  { key: 'kubeconfig', flag: 'kubeconfig', env: 'KUBECONFIG', kind: 'string', def: undefined, help: 'kubeconfig of the cluster to run containers in' },
  { key: 'context', flag: 'context', env: 'KUBER_API_CONTEXT', kind: 'string', def: undefined, help: 'kubeconfig context (default: current-context)' },
  { key: 'namespace', flag: 'namespace', env: 'KUBER_API_NAMESPACE', kind: 'string', def: undefined, help: 'namespace for containers (default: the context namespace)' },
  { key: 'instanceId', flag: 'instance-id', env: 'KUBER_API_INSTANCE_ID', kind: 'string', def: undefined, help: 'instance label of created objects (default: pod name in a cluster, else kept in the state dir)' },
  { key: 'stateDir', flag: 'state-dir', env: 'KUBER_API_STATE_DIR', kind: 'string', def: undefined, help: 'state directory (instance id, embedded kube-sim; default $XDG_STATE_HOME/kuber-api)' },
  { key: 'startTimeoutMs', flag: 'start-timeout-ms', env: 'KUBER_API_START_TIMEOUT_MS', kind: 'int', def: 300_000, help: 'docker start waits this long for the pod to run' },
  { key: 'killGraceSeconds', flag: 'kill-grace-seconds', env: 'KUBER_API_KILL_GRACE_SECONDS', kind: 'int', def: 2, help: 'pod terminationGracePeriodSeconds: stop signal to SIGKILL when the kubelet stops a container' },
  { key: 'logMergeHoldMs', flag: 'log-merge-hold-ms', env: 'KUBER_API_LOG_MERGE_HOLD_MS', kind: 'int', def: 5, help: 'following split stdout/stderr logs: how long one stream\'s lines wait for the other (ordering vs latency)' },
  { key: 'attachReplayBytes', flag: 'attach-replay-bytes', env: 'KUBER_API_ATTACH_REPLAY_BYTES', kind: 'int', def: 1 << 20, help: 'TTY attach before start: live output held while the log is replayed' },
  { key: 'execRetentionMs', flag: 'exec-retention-ms', env: 'KUBER_API_EXEC_RETENTION_MS', kind: 'int', def: 600_000, help: 'a finished exec stays inspectable this long' },
  { key: 'maxExecs', flag: 'max-execs', env: 'KUBER_API_MAX_EXECS', kind: 'int', def: 4096, help: 'exec instances kept in memory at most' },
  { key: 'archiveMaxBytes', flag: 'archive-max-bytes', env: 'KUBER_API_ARCHIVE_MAX_BYTES', kind: 'int', def: 64 << 20, help: 'docker cp before start: archive bytes kept in Kubernetes per container (413 beyond)' },
  { key: 'archiveMaxFiles', flag: 'archive-max-files', env: 'KUBER_API_ARCHIVE_MAX_FILES', kind: 'int', def: 1000, help: 'docker cp before start: files per container (each becomes a mount)' },
  { key: 'helperImage', flag: 'helper-image', env: 'KUBER_API_HELPER_IMAGE', kind: 'string', def: 'busybox:1.36', help: 'image of helper containers (sh, cat, tar): staged copies, bind snapshots; mirror it for air-gapped clusters' },
  { key: 'inspectorIdleMs', flag: 'inspector-idle-ms', env: 'KUBER_API_INSPECTOR_IDLE_MS', kind: 'int', def: 30_000, help: 'docker cp from a created container: its inspector pod is deleted after this long unused' },
  { key: 'volumeStorageClass', flag: 'volume-storage-class', env: 'KUBER_API_VOLUME_STORAGE_CLASS', kind: 'string', def: '', help: 'StorageClass of the claims Docker volumes become (empty: the cluster default class)' },
  { key: 'volumeSize', flag: 'volume-size', env: 'KUBER_API_VOLUME_SIZE', kind: 'string', def: '1Gi', help: 'requested size of each Docker volume\'s claim (volume-opt size= overrides it)' },
  { key: 'volumeAccessMode', flag: 'volume-access-mode', env: 'KUBER_API_VOLUME_ACCESS_MODE', kind: 'string', def: 'ReadWriteOnce', choices: ['ReadWriteOnce', 'ReadWriteMany'], help: 'access mode of volume claims: ReadWriteOnce (containers sharing a volume are scheduled onto one node by pod affinity) or ReadWriteMany (needs a class that offers it)' },
  { key: 'bindMaxBytes', flag: 'bind-max-bytes', env: 'KUBER_API_BIND_MAX_BYTES', kind: 'int', def: 64 << 20, help: 'bind mounts: bytes of a container\'s bind sources snapshotted into Kubernetes at each start (413 beyond)' },
  { key: 'imagePullPolicy', flag: 'image-pull-policy', env: 'KUBER_API_IMAGE_PULL_POLICY', kind: 'string', def: 'IfNotPresent', help: 'imagePullPolicy of container pods: IfNotPresent|Always|Never' },
  { key: 'publishAddresses', flag: 'publish-address', env: 'KUBER_API_PUBLISH_ADDRESS', kind: 'ips', def: ['127.0.0.1', '::1', 'gateway'], help: 'addresses published ports are bound on, repeatable (env: comma-separated); "gateway" is the bridge network gateway (POD_IP) when it is a local address; ::1 is skipped where IPv6 is off' },
  { key: 'portMode', flag: 'port-mode', env: 'KUBER_API_PORT_MODE', kind: 'string', def: 'auto', choices: ['auto', 'direct', 'portforward'], help: 'published ports reach pods by: direct (pod IP), portforward (pods/portforward), auto (direct, portforward once pod IPs prove unreachable)' },
  { key: 'publishDialTimeoutMs', flag: 'publish-dial-timeout-ms', env: 'KUBER_API_PUBLISH_DIAL_TIMEOUT_MS', kind: 'int', def: 30_000, help: 'a published-port connection waits this long for the container to run and accept' },
  { key: 'networkPolicies', flag: 'network-policies', env: 'KUBER_API_NETWORK_POLICIES', kind: 'string', def: 'false', choices: ['false', 'true'], help: 'one NetworkPolicy per Docker network (isolation between networks; enforced by the cluster\'s network plugin)' },
  { key: 'imageMetadata', flag: 'image-metadata', env: 'KUBER_API_IMAGE_METADATA', kind: 'string', def: 'best-effort', choices: ['best-effort', 'registry', 'off'], help: 'image configs from registries: best-effort (an unreachable registry records the image without its config; the kubelet still pulls it), registry (strict: a pull fails when the registry cannot be reached, as with dockerd), off (never contact registries)' },
  { key: 'registryMirrors', flag: 'registry-mirror', env: 'KUBER_API_REGISTRY_MIRRORS', kind: 'strings', def: [], item: { re: /^https?:\/\/[^/\s]+\/?$/, what: 'an http(s)://host[:port] URL' }, help: 'Docker Hub mirror URL tried before Docker Hub, repeatable (env: comma-separated)' },
  { key: 'insecureRegistries', flag: 'insecure-registry', env: 'KUBER_API_INSECURE_REGISTRIES', kind: 'strings', def: [], help: 'registry host[:port] or CIDR allowed over plain HTTP and without certificate checks, repeatable (loopback always is)' },
  { key: 'registryTimeoutMs', flag: 'registry-timeout-ms', env: 'KUBER_API_REGISTRY_TIMEOUT_MS', kind: 'int', def: 30_000, help: 'per registry request during a pull' },
  { key: 'imageLookupTimeoutMs', flag: 'image-lookup-timeout-ms', env: 'KUBER_API_IMAGE_LOOKUP_TIMEOUT_MS', kind: 'int', def: 5_000, help: 'docker create of an image without a known config waits this long for its registry, then goes on without it' },
  { key: 'imageCacheTtlMs', flag: 'image-cache-ttl-ms', env: 'KUBER_API_IMAGE_CACHE_TTL_MS', kind: 'int', def: 3_600_000, help: 'image configs older than this are re-read from the registry at the next create (0 = never)' },
  { key: 'imageFailureTtlMs', flag: 'image-failure-ttl-ms', env: 'KUBER_API_IMAGE_FAILURE_TTL_MS', kind: 'int', def: 60_000, help: 'a registry lookup that failed at create is not retried for this long' },
  { key: 'eventsBufferSize', flag: 'events-buffer-size', env: 'KUBER_API_EVENTS_BUFFER_SIZE', kind: 'int', def: 1024, help: 'docker events kept for --since replays' },
  { key: 'autoRemoveHoldMs', flag: 'auto-remove-hold-ms', env: 'KUBER_API_AUTO_REMOVE_HOLD_MS', kind: 'int', def: 30_000, help: 'docker run --rm: removal waits at most this long for attach/log streams to deliver the last output' },
  { key: 'restartMaxBackoffMs', flag: 'restart-max-backoff-ms', env: 'KUBER_API_RESTART_MAX_BACKOFF_MS', kind: 'int', def: 60_000, help: 'restart policies: longest delay between two runs (dockerd: 1 minute)' },
  { key: 'execCommandTimeoutMs', flag: 'exec-command-timeout-ms', env: 'KUBER_API_EXEC_COMMAND_TIMEOUT_MS', kind: 'int', def: 10_000, help: 'docker top and in-container signals (kill -<n> 1): how long the command may run' },
  { key: 'execCommandMaxOutput', flag: 'exec-command-max-output', env: 'KUBER_API_EXEC_COMMAND_MAX_OUTPUT', kind: 'int', def: 1 << 20, help: 'docker top and in-container signals: output kept (characters)' },
  { key: 'archiveExecHighWaterBytes', flag: 'archive-exec-high-water-bytes', env: 'KUBER_API_ARCHIVE_EXEC_HIGH_WATER_BYTES', kind: 'int', def: 1 << 20, help: 'docker cp into a running container: bytes buffered on the exec WebSocket before the client is paused' },
  { key: 'publishConnectTimeoutMs', flag: 'publish-connect-timeout-ms', env: 'KUBER_API_PUBLISH_CONNECT_TIMEOUT_MS', kind: 'int', def: 3_000, help: 'published ports, auto mode: a direct dial slower than this switches to pods/portforward' },
  { key: 'publishReplayBytes', flag: 'publish-replay-bytes', env: 'KUBER_API_PUBLISH_REPLAY_BYTES', kind: 'int', def: 256 << 10, help: 'published ports over pods/portforward: client bytes kept to replay on a retry' },
  { key: 'publishWsHighWaterBytes', flag: 'publish-ws-high-water-bytes', env: 'KUBER_API_PUBLISH_WS_HIGH_WATER_BYTES', kind: 'int', def: 256 << 10, help: 'published ports over pods/portforward: the client is paused while the WebSocket buffers more than this' },
];

export const DEFAULT_OPTIONS: Options = Object.freeze(
  Object.fromEntries(OPTION_SPECS.map((s) => [s.key, Array.isArray(s.def) ? Object.freeze([...s.def]) : s.def])) as unknown as Options,
);

function convert(spec: Spec, raw: string | string[], from: string): unknown {
  const bad = (why: string) => new EngineError('invalid', `${from}: ${why}`);
  switch (spec.kind) {
    case 'list': {
      const list = (Array.isArray(raw) ? raw : raw.split(',')).map((s) => s.trim()).filter(Boolean);
      if (!list.length) throw bad('at least one address is needed');
      for (const h of list) parseHost(h);
      return Object.freeze(list);
    }
    case 'int': {
      const v = String(raw).trim();
      if (!/^\d+$/.test(v) || !Number.isSafeInteger(Number(v))) throw bad(`"${v}" is not a non-negative integer`);
      return Number(v);
    }
    case 'ips': {
      const list = (Array.isArray(raw) ? raw : raw.split(',')).map((s) => s.trim().replace(/^\[|\]$/g, '')).filter(Boolean);
      if (!list.length) throw bad('at least one address is needed');
      for (const a of list) if (!isIP(a) && a !== 'gateway') throw bad(`"${a}" is not an IP address (or "gateway")`);
      return Object.freeze(list);
    }
    case 'level':
      if (!LEVELS.includes(String(raw))) throw bad(`"${raw}" is not one of ${LEVELS.join(', ')}`);
      return String(raw);
    case 'strings': {
      const items = (Array.isArray(raw) ? raw : [raw]).flatMap((r) => r.split(',')).map((x) => x.trim()).filter(Boolean);
      for (const i of items) if (spec.item && !spec.item.re.test(i)) throw bad(`"${i}" is not ${spec.item.what}`);
      return Object.freeze(items);
    }
    default: {
      const v = Array.isArray(raw) ? raw.at(-1)! : raw;
      if (spec.choices && !spec.choices.includes(v)) throw bad(`"${v}" is not one of ${spec.choices.join(', ')}`);
      return v;
    }
  }
}

/** Options from `argv` (flags without the program name) and `env`. Throws an `invalid` EngineError on bad input. */
export function loadOptions(argv: readonly string[] = [], env: NodeJS.ProcessEnv = process.env, overrides: Partial<Options> = {}): Options {
  const parseOpts: Record<string, { type: 'string'; short?: string; multiple?: boolean }> = {};
  for (const s of OPTION_SPECS) parseOpts[s.flag] = { type: 'string', ...(s.short ? { short: s.short } : {}), ...(s.kind === 'list' || s.kind === 'strings' || s.kind === 'ips' ? { multiple: true } : {}) };
  let values: Record<string, string | string[] | undefined>;
  try {
    values = parseArgs({ args: [...argv], options: parseOpts, allowPositionals: false, strict: true }).values as typeof values;
  } catch (err) {
    throw new EngineError('invalid', (err as Error).message);
  }
  const out: Record<string, unknown> = {};
  for (const s of OPTION_SPECS) {
    const flag = values[s.flag];
    const fromEnv = env[s.env];
    if (flag !== undefined) out[s.key] = convert(s, flag, `--${s.flag}`);
    else if (fromEnv !== undefined && fromEnv !== '') out[s.key] = convert(s, fromEnv, s.env);
    else out[s.key] = DEFAULT_OPTIONS[s.key];
  }
  Object.assign(out, overrides);
  return Object.freeze(out) as unknown as Options;
}

/** `--help` text, generated from {@link OPTION_SPECS}. */
export function usage(): string {
  const lines = ['Usage: kuber-api [flags]', '       kuber-api sim --kubeconfig PATH', '', 'Flags (environment variable, default):'];
  for (const s of OPTION_SPECS) {
    const name = (s.short ? `-${s.short}, ` : '    ') + `--${s.flag}`;
    const def = Array.isArray(s.def) ? s.def.join(' ') : s.def === undefined ? '-' : String(s.def);
    lines.push(`  ${name.padEnd(24)} ${s.help}`, `  ${''.padEnd(24)} (${s.env}, ${def})`);
  }
  return lines.join('\n') + '\n';
}
