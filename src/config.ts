/**
 * @module config
 * Every limit and setting of kuber-api as one frozen {@link Options} object, built from CLI flags,
 * then environment variables, then defaults (in that order of precedence). Each option has a
 * flag, an environment variable and a default in {@link OPTION_SPECS}; `--help` prints them.
 */
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
  /** Streamed bodies and attach/exec output: bytes buffered per stream before the source is paused. */
  readonly streamBatchBytes: number;
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
  /** Detached execs (docker exec -d) whose output kuber-api drains, at once (503 beyond). */
  readonly maxDetachedExecs: number;
  /** A detached exec silent for this long is let go (its WebSocket closed, its exit code unknown); 0 = never. */
  readonly detachedExecIdleMs: number;
  /** exec create opens the TLS connection its start will dial pods/exec on (a start that used it opens the next one); unused, it closes after this long (ms; 0: off). */
  readonly execPreconnectMs: number;
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
  /** docker cp into a running container: archive bytes of one copy (413 beyond). */
  readonly archiveUploadMaxBytes: number;
  /** docker cp before start: staged archive bytes of all the instance's containers together (413 beyond). */
  readonly archiveBudgetBytes: number;
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
  readonly imageFailureCacheEntries: number;
  /** Registry bearer tokens kept at most (each until it expires). */
  readonly registryTokenCacheEntries: number;
  /** Serve TLS on TCP listeners (dockerd --tls); implied by tlsVerify. */
  readonly tls: boolean;
  /** Serve TLS and require client certificates signed by tlsCaCert (dockerd --tlsverify). */
  readonly tlsVerify: boolean;
  /** PEM files of the TLS listeners: the CA that signs client certificates, the server's certificate and key. */
  readonly tlsCaCert: string | undefined;
  readonly tlsCert: string | undefined;
  readonly tlsKey: string | undefined;
  /** Allow a plaintext TCP listener on a non-loopback address (refused at startup otherwise). */
  readonly insecureTcp: boolean;
  /** Unix sockets: file mode (octal) and group (name or gid; the default "docker" falls back to our own group when absent). */
  readonly socketMode: string;
  readonly socketGroup: string;
  /** Origins whose browser requests are answered (`*` = any); requests with another Origin get 403. */
  readonly corsOrigins: readonly string[];
  readonly allowedHosts: readonly string[];
  /** A handler waiting for request body bytes that do not come for this long gets a 408 (ms; 0 = never). */
  readonly bodyTimeoutMs: number;
  /** A Docker request must have its response head out within this long of its arrival (ms; 0 = never). */
  readonly requestDeadlineMs: number;
  /** The Kubernetes backend must be ready within this long after startup, else kuber-api exits (ms; 0 = never). */
  readonly startupTimeoutMs: number;
  /** One Kubernetes call, its retries included, gives up after this long (ms). */
  readonly kubeCallDeadlineMs: number;
  readonly wsHandshakeTimeoutMs: number;
  /** A deleted object's uid is kept this long against late watch echoes (ms), at most `watchTombstones` of them. */
  readonly watchTombstoneMs: number;
  readonly watchTombstones: number;
  /** The embedded kube-sim may install its Debian packages with apt-get (root only). */
  readonly installPrereqs: boolean;
  /** Log lines: json, pretty (for a person), or auto (pretty when stdout is a terminal). */
  readonly logFormat: string;
  /** Docker events kept for `since` replays. */
  readonly eventsBufferSize: number;
  /** `--rm`: AutoRemove waits at most this long for an attach or log stream to deliver the last output (ms). */
  readonly autoRemoveHoldMs: number;
  /** The restart policy's longest delay between runs (ms; moby restartmanager: 1 minute). */
  readonly restartMaxBackoffMs: number;
  /** Exit codes of removed containers kept for late `docker wait` answers (the oldest go first). */
  readonly removedExitsKept: number;
  /** Commands the engine runs in a container (docker top, signals as `kill -<n> 1`) are given up after this long (ms). */
  readonly execCommandTimeoutMs: number;
  /** Output of such a command kept (docker top's table), in characters. */
  readonly execCommandMaxOutput: number;
  /** docker stats streaming: time between two samples (dockerd: 1 s). */
  readonly statsIntervalMs: number;
  /** --user names: bytes of the image's /etc/passwd and /etc/group read at most. */
  readonly userLookupMaxBytes: number;
  /** --user names: images whose /etc/passwd and /etc/group are kept in memory (by image digest). */
  readonly userCacheEntries: number;
  /** docker cp into a running container: archive bytes buffered on the exec WebSocket before the client is paused. */
  readonly archiveExecHighWaterBytes: number;
  /** Published ports, auto mode: a direct dial slower than this counts as "pod IPs unreachable" (ms). */
  readonly publishConnectTimeoutMs: number;
  /** Published ports over pods/portforward: client bytes kept to replay on a retry, until the container's first byte. */
  readonly publishReplayBytes: number;
  /** Published ports over pods/portforward: the client is paused while the WebSocket buffers more than this. */
  readonly publishWsHighWaterBytes: number;
  /** Image repositories kuber-api plays Ryuk for in process (no Pod), after any registry prefix. */
  readonly ryukImages: readonly string[];
  /** Lines of an in-process Ryuk's log kept (and persisted in its record). */
  readonly ryukLogLines: number;
  /** Longest Ryuk filter line (Ryuk's own bufio.Scanner limit: 64 KiB). */
  readonly ryukMaxLineBytes: number;
  /** Distinct filters one in-process Ryuk keeps. */
  readonly ryukMaxFilters: number;
  /** Connections one in-process Ryuk serves at once. */
  readonly ryukMaxConnections: number;
  // --- Pods: security and settings (issue 13) ---
  /** Pod Security level of a namespace without a pod-security.kubernetes.io/enforce label. */
  readonly podSecurityDefault: string;
  /** A namespace labelled `privileged` lets privileged Pods through only with this. */
  readonly allowPrivileged: boolean;
  /** Extra allowed bind-mount roots (besides the job's build directory and the system temp directory). */
  readonly bindRoots: readonly string[];
  /** How long a namespace's Pod Security labels are trusted before they are re-read (ms). */
  readonly podSecurityCacheMs: number;
  /** A YAML Pod (or PodSpec) whose settings every container Pod gets (engine/model/pod-settings.ts). */
  readonly podTemplate: string | undefined;
  /** Default requests / limits (`cpu=100m`, `memory=128Mi`) of containers that set none, and the maximum. */
  readonly podRequests: readonly string[];
  readonly podLimits: readonly string[];
  readonly podMaxLimits: readonly string[];
  readonly nodeSelector: readonly string[];
  readonly tolerations: readonly string[];
  readonly imagePullSecrets: readonly string[];
  readonly podLabels: readonly string[];
  readonly podAnnotations: readonly string[];
  readonly podServiceAccount: string | undefined;
  readonly runtimeClass: string | undefined;
  readonly priorityClass: string | undefined;
  /** The kuber-api operator's credential broker: the job's namespace and token come from it (sidecar mode). */
  readonly operatorUrl: string | undefined;
  /** How long to wait for the operator to have the job's namespace ready (ms). */
  readonly operatorWaitMs: number;
  /** The token presented to the operator (default: the service-account token of the Pod). */
  readonly operatorTokenFile: string | undefined;
  /** CA (PEM) that signs the operator's certificate, for an https --operator-url. */
  readonly operatorCaFile: string | undefined;
  /** The embedded DNS (engine/dns): auto (serve when possible, else headless Services) or off. */
  readonly dnsServer: string;
  /** The address the embedded DNS serves on (default: POD_IP, or the kube-sim node address). */
  readonly dnsAddress: string | undefined;
  /** Its port: containers' resolv.conf can only name port 53; other ports are for tests. */
  readonly dnsPort: number;
  /** Servers names unknown to it go to (default: kuber-api's /etc/resolv.conf, or kube-sim's kube-dns). */
  readonly dnsUpstream: readonly string[];
  /** A forwarded query waits this long for one upstream server before the next is tried. */
  readonly dnsUpstreamTimeoutMs: number;
  /** Forwarded queries in flight at most (REFUSED beyond, as moby's maxConcurrent). */
  readonly dnsMaxInflight: number;
  /** The largest query accepted (FORMERR over UDP, connection closed over TCP). */
  readonly dnsMaxQueryBytes: number;
  /** Queries per second per source address (more are dropped). */
  readonly dnsRatePerSource: number;
  /** Source addresses the rate limiter remembers at most. */
  readonly dnsMaxSources: number;
  /** Forwarded answers cached at most. */
  readonly dnsCacheEntries: number;
  /** The bytes of all cached answers together. */
  readonly dnsCacheBytes: number;
  /** The longest a forwarded answer is cached (seconds; shorter when its TTL is). */
  readonly dnsCacheMaxTtlS: number;
  /** DNS over TCP: open connections at most. */
  readonly dnsMaxTcpConnections: number;
  /** DNS over TCP: an idle connection is closed after this long. */
  readonly dnsTcpIdleMs: number;
  /** A query from an address not known yet waits this long for its container's Pod status. */
  readonly dnsUnknownSourceWaitMs: number;
}

/**
 * The default unix socket. `/var/run/docker.sock` needs root (or a docker group) in a sidecar;
 * a path under /tmp works for any user. Point clients at it with DOCKER_HOST=unix:///tmp/kuber-api.sock,
 * or pass `-H unix:///var/run/docker.sock` where the process may create it.
 */
export const DEFAULT_UNIX_SOCKET = `unix://${DEFAULT_UNIX_PATH}`;
export const DEFAULT_TCP = 'tcp://127.0.0.1:2375';

type Kind = 'string' | 'int' | 'bytes' | 'bool' | 'list' | 'level' | 'strings' | 'ips';
/** `--help` sections, in this order; an option without a group is listed under Other. */
export const GROUPS = [
  'Connection and security',
  'Requests and lifecycle',
  'Logging',
  'Kubernetes',
  'Containers',
  'Pods',
  'Images',
  'Ports and networks',
  'Other',
] as const;
export type Group = (typeof GROUPS)[number];
interface Spec {
  group?: Group;
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
  {
    group: 'Connection and security',
    key: 'hosts',
    flag: 'host',
    short: 'H',
    env: 'KUBER_API_HOST',
    kind: 'list',
    def: [DEFAULT_UNIX_SOCKET, DEFAULT_TCP],
    help: 'listen address, repeatable: unix:///path or tcp://host:port (env: comma-separated)',
  },
  {
    group: 'Connection and security',
    key: 'tls',
    flag: 'tls',
    env: 'KUBER_API_TLS',
    kind: 'bool',
    def: false,
    help: 'serve TLS on TCP listeners (implied by --tlsverify); needs --tlscert and --tlskey',
  },
  {
    group: 'Connection and security',
    key: 'tlsVerify',
    flag: 'tlsverify',
    env: 'KUBER_API_TLSVERIFY',
    kind: 'bool',
    def: false,
    help: 'serve TLS and require client certificates signed by --tlscacert (docker: DOCKER_TLS_VERIFY=1 DOCKER_CERT_PATH=dir)',
  },
  {
    group: 'Connection and security',
    key: 'tlsCaCert',
    flag: 'tlscacert',
    env: 'KUBER_API_TLSCACERT',
    kind: 'string',
    def: undefined,
    help: 'PEM file of the CA that signs client certificates (default: ca.pem in $DOCKER_CERT_PATH or ~/.docker)',
  },
  {
    group: 'Connection and security',
    key: 'tlsCert',
    flag: 'tlscert',
    env: 'KUBER_API_TLSCERT',
    kind: 'string',
    def: undefined,
    help: 'PEM file of the server certificate (default: cert.pem there)',
  },
  {
    group: 'Connection and security',
    key: 'tlsKey',
    flag: 'tlskey',
    env: 'KUBER_API_TLSKEY',
    kind: 'string',
    def: undefined,
    help: 'PEM file of the server key (default: key.pem there)',
  },
  {
    group: 'Connection and security',
    key: 'insecureTcp',
    flag: 'insecure-tcp',
    env: 'KUBER_API_INSECURE_TCP',
    kind: 'bool',
    def: false,
    help: 'allow a plaintext TCP listener on a non-loopback address (anyone who reaches it controls the containers)',
  },
  {
    group: 'Connection and security',
    key: 'socketMode',
    flag: 'socket-mode',
    env: 'KUBER_API_SOCKET_MODE',
    kind: 'string',
    def: '660',
    item: { re: /^0?[0-7]{3}$/, what: 'an octal file mode such as 660' },
    help: 'file mode of unix sockets (octal), as dockerd',
  },
  {
    group: 'Connection and security',
    key: 'socketGroup',
    flag: 'group',
    short: 'G',
    env: 'KUBER_API_SOCKET_GROUP',
    kind: 'string',
    def: 'docker',
    help: 'group of unix sockets (name or gid); the default "docker" is skipped when no such group exists, as dockerd does',
  },
  {
    group: 'Connection and security',
    key: 'corsOrigins',
    flag: 'api-cors-header',
    env: 'KUBER_API_CORS_ORIGINS',
    kind: 'strings',
    def: [],
    help: 'browser origin allowed to call the API (exact, e.g. https://ci.example.com, or *), repeatable; requests with any other Origin header get 403',
  },
  {
    group: 'Connection and security',
    key: 'allowedHosts',
    flag: 'allowed-hosts',
    env: 'KUBER_API_ALLOWED_HOSTS',
    kind: 'strings',
    def: [],
    item: { re: /^(\*|[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*\.?)$/, what: 'a host name (or *)' },
    help: "Host header name allowed besides IP addresses, localhost and *.localhost, docker and the machine's hostname (e.g. a Service name), repeatable, or *; any other Host gets 403 (DNS rebinding)",
  },
  {
    group: 'Connection and security',
    key: 'apiVersion',
    flag: 'api-version',
    env: 'KUBER_API_API_VERSION',
    kind: 'string',
    def: '1.51',
    help: 'API version advertised, and the maximum accepted',
  },
  {
    group: 'Connection and security',
    key: 'minApiVersion',
    flag: 'min-api-version',
    env: 'KUBER_API_MIN_API_VERSION',
    kind: 'string',
    def: '1.24',
    help: 'lowest /v1.NN/ accepted',
  },
  {
    group: 'Requests and lifecycle',
    key: 'maxHeaderBytes',
    flag: 'max-header-bytes',
    env: 'KUBER_API_MAX_HEADER_BYTES',
    kind: 'bytes',
    def: 1 << 20,
    help: 'request line + headers limit (431)',
  },
  {
    group: 'Requests and lifecycle',
    key: 'maxBodyBytes',
    flag: 'max-body-bytes',
    env: 'KUBER_API_MAX_BODY_BYTES',
    kind: 'bytes',
    def: 16 << 20,
    help: 'JSON request body limit (413)',
  },
  {
    group: 'Requests and lifecycle',
    key: 'streamBatchBytes',
    flag: 'stream-batch-bytes',
    env: 'KUBER_API_STREAM_BATCH_BYTES',
    kind: 'bytes',
    def: 64 << 10,
    help: 'logs, attach and exec output: bytes held per stream for a slower client before the source is paused (more: less CPU per GiB, more memory per open stream)',
  },
  {
    group: 'Requests and lifecycle',
    key: 'headerTimeoutMs',
    flag: 'header-timeout-ms',
    env: 'KUBER_API_HEADER_TIMEOUT_MS',
    kind: 'int',
    def: 30_000,
    help: 'time allowed to send a request head (408)',
  },
  {
    group: 'Requests and lifecycle',
    key: 'bodyTimeoutMs',
    flag: 'body-timeout-ms',
    env: 'KUBER_API_BODY_TIMEOUT_MS',
    kind: 'int',
    def: 120_000,
    help: 'a request body that sends nothing for this long while it is read gets 408 (0 = never)',
  },
  {
    group: 'Requests and lifecycle',
    key: 'requestDeadlineMs',
    flag: 'request-deadline-ms',
    env: 'KUBER_API_REQUEST_DEADLINE_MS',
    kind: 'int',
    // Above --start-timeout-ms (300 s), so that a start that times out says why (the kubelet's warning).
    def: 600_000,
    help: 'a Docker request whose answer has not started this long after it arrived is cancelled with a 500 (streams are exempt once they started; 0 = never)',
  },
  {
    group: 'Requests and lifecycle',
    key: 'idleTimeoutMs',
    flag: 'idle-timeout-ms',
    env: 'KUBER_API_IDLE_TIMEOUT_MS',
    kind: 'int',
    def: 300_000,
    help: 'idle keep-alive connections are closed after this (0 = never)',
  },
  {
    group: 'Requests and lifecycle',
    key: 'maxConnections',
    flag: 'max-connections',
    env: 'KUBER_API_MAX_CONNECTIONS',
    kind: 'int',
    def: 4096,
    help: 'open connections over all listeners (503 beyond)',
  },
  {
    group: 'Requests and lifecycle',
    key: 'shutdownGraceMs',
    flag: 'shutdown-grace-ms',
    env: 'KUBER_API_SHUTDOWN_GRACE_MS',
    kind: 'int',
    def: 10_000,
    help: 'on SIGTERM/SIGINT, time given to running requests and streams',
  },
  {
    group: 'Requests and lifecycle',
    key: 'startupTimeoutMs',
    flag: 'startup-timeout-ms',
    env: 'KUBER_API_STARTUP_TIMEOUT_MS',
    kind: 'int',
    def: 300_000,
    help: 'the Kubernetes backend must be ready this long after start, else kuber-api exits (0 = wait forever)',
  },
  {
    group: 'Logging',
    key: 'logLevel',
    flag: 'log-level',
    short: 'l',
    env: 'KUBER_API_LOG_LEVEL',
    kind: 'level',
    def: 'info',
    help: `log level: ${LEVELS.join('|')}`,
  },
  {
    group: 'Logging',
    key: 'logFormat',
    flag: 'log-format',
    env: 'KUBER_API_LOG_FORMAT',
    kind: 'string',
    def: 'auto',
    choices: ['auto', 'json', 'pretty'],
    help: 'log lines: json, pretty (for a person), auto (pretty when stdout is a terminal)',
  },
  {
    group: 'Kubernetes',
    key: 'kubeconfig',
    flag: 'kubeconfig',
    env: 'KUBECONFIG',
    kind: 'string',
    def: undefined,
    help: 'kubeconfig of the cluster to run containers in',
  },
  {
    group: 'Kubernetes',
    key: 'context',
    flag: 'context',
    env: 'KUBER_API_CONTEXT',
    kind: 'string',
    def: undefined,
    help: 'kubeconfig context (default: current-context)',
  },
  {
    group: 'Kubernetes',
    key: 'namespace',
    flag: 'namespace',
    env: 'KUBER_API_NAMESPACE',
    kind: 'string',
    def: undefined,
    help: 'namespace for containers (default: the context namespace)',
  },
  {
    group: 'Kubernetes',
    key: 'instanceId',
    flag: 'instance-id',
    env: 'KUBER_API_INSTANCE_ID',
    kind: 'string',
    def: undefined,
    help: 'instance label of created objects (default: pod name in a cluster, else kept in the state dir)',
  },
  {
    group: 'Kubernetes',
    key: 'stateDir',
    flag: 'state-dir',
    env: 'KUBER_API_STATE_DIR',
    kind: 'string',
    def: undefined,
    help: 'state directory (instance id, embedded kube-sim; default $XDG_STATE_HOME/kuber-api)',
  },
  {
    group: 'Kubernetes',
    key: 'kubeCallDeadlineMs',
    flag: 'kube-call-deadline-ms',
    env: 'KUBER_API_KUBE_CALL_DEADLINE_MS',
    kind: 'int',
    def: 120_000,
    help: 'one Kubernetes API call, its retries (429, 5xx, connection failures) included, gives up after this long',
  },
  {
    group: 'Kubernetes',
    key: 'wsHandshakeTimeoutMs',
    flag: 'ws-handshake-timeout-ms',
    env: 'KUBER_API_WS_HANDSHAKE_TIMEOUT_MS',
    kind: 'int',
    def: 30_000,
    help: 'an exec, attach or port-forward WebSocket to the apiserver whose upgrade is not answered in this long fails',
  },
  {
    group: 'Kubernetes',
    key: 'watchTombstoneMs',
    flag: 'watch-tombstone-ms',
    env: 'KUBER_API_WATCH_TOMBSTONE_MS',
    kind: 'int',
    def: 60_000,
    help: "a deleted object's uid is remembered this long, so that a late watch event does not bring it back",
  },
  {
    group: 'Kubernetes',
    key: 'watchTombstones',
    flag: 'watch-tombstones',
    env: 'KUBER_API_WATCH_TOMBSTONES',
    kind: 'int',
    def: 10_000,
    help: 'deleted uids remembered per watch cache at most (--watch-tombstone-ms), the oldest forgotten first',
  },
  {
    group: 'Kubernetes',
    key: 'installPrereqs',
    flag: 'install-prereqs',
    env: 'KUBER_API_INSTALL_PREREQS',
    kind: 'bool',
    def: false,
    help: 'embedded kube-sim only: install its missing Debian packages with apt-get (root)',
  },
  {
    group: 'Containers',
    key: 'startTimeoutMs',
    flag: 'start-timeout-ms',
    env: 'KUBER_API_START_TIMEOUT_MS',
    kind: 'int',
    def: 300_000,
    help: 'docker start waits this long for the pod to run',
  },
  {
    group: 'Containers',
    key: 'killGraceSeconds',
    flag: 'kill-grace-seconds',
    env: 'KUBER_API_KILL_GRACE_SECONDS',
    kind: 'int',
    def: 2,
    help: 'pod terminationGracePeriodSeconds: stop signal to SIGKILL when the kubelet stops a container',
  },
  {
    group: 'Containers',
    key: 'logMergeHoldMs',
    flag: 'log-merge-hold-ms',
    env: 'KUBER_API_LOG_MERGE_HOLD_MS',
    kind: 'int',
    def: 5,
    help: "following split stdout/stderr logs: how long one stream's lines wait for the other (ordering vs latency)",
  },
  {
    group: 'Containers',
    key: 'attachReplayBytes',
    flag: 'attach-replay-bytes',
    env: 'KUBER_API_ATTACH_REPLAY_BYTES',
    kind: 'bytes',
    def: 1 << 20,
    help: 'TTY attach before start: live output held while the log is replayed',
  },
  {
    group: 'Containers',
    key: 'execRetentionMs',
    flag: 'exec-retention-ms',
    env: 'KUBER_API_EXEC_RETENTION_MS',
    kind: 'int',
    def: 600_000,
    help: 'a finished exec stays inspectable this long',
  },
  {
    group: 'Containers',
    key: 'maxExecs',
    flag: 'max-execs',
    env: 'KUBER_API_MAX_EXECS',
    kind: 'int',
    def: 4096,
    help: 'exec instances kept in memory at most',
  },
  {
    group: 'Containers',
    key: 'maxDetachedExecs',
    flag: 'max-detached-execs',
    env: 'KUBER_API_MAX_DETACHED_EXECS',
    kind: 'int',
    def: 256,
    help: 'docker exec -d sessions (each holds a WebSocket to the apiserver) running at once (503 beyond)',
  },
  {
    group: 'Containers',
    key: 'detachedExecIdleMs',
    flag: 'detached-exec-idle-ms',
    env: 'KUBER_API_DETACHED_EXEC_IDLE_MS',
    kind: 'int',
    def: 3_600_000,
    help: 'a docker exec -d session with no output for this long is let go: its WebSocket closed, its exit code unknown (0 = never)',
  },
  {
    group: 'Containers',
    key: 'execPreconnectMs',
    flag: 'exec-preconnect-ms',
    env: 'KUBER_API_EXEC_PRECONNECT_MS',
    kind: 'int',
    def: 5000,
    help: 'exec create opens the TLS connection to the apiserver that its start will use (and a start that used it opens the next one); closed if unused this long (0: off)',
  },
  {
    group: 'Containers',
    key: 'archiveMaxBytes',
    flag: 'archive-max-bytes',
    env: 'KUBER_API_ARCHIVE_MAX_BYTES',
    kind: 'bytes',
    def: 64 << 20,
    help: 'docker cp before start: archive bytes kept in Kubernetes per container (413 beyond)',
  },
  {
    group: 'Containers',
    key: 'archiveBudgetBytes',
    flag: 'archive-budget-bytes',
    env: 'KUBER_API_ARCHIVE_BUDGET_BYTES',
    kind: 'bytes',
    def: 256 << 20,
    help: 'docker cp before start: archive bytes kept in Kubernetes for all containers of this instance together (413 beyond; etcd holds them)',
  },
  {
    group: 'Containers',
    key: 'archiveUploadMaxBytes',
    flag: 'archive-upload-max-bytes',
    env: 'KUBER_API_ARCHIVE_UPLOAD_MAX_BYTES',
    kind: 'bytes',
    def: 16 * 2 ** 30,
    help: 'docker cp into a running container: archive bytes of one copy, streamed through (413 beyond)',
  },
  {
    group: 'Containers',
    key: 'archiveMaxFiles',
    flag: 'archive-max-files',
    env: 'KUBER_API_ARCHIVE_MAX_FILES',
    kind: 'int',
    def: 1000,
    help: 'docker cp before start: files per container (each becomes a mount)',
  },
  {
    group: 'Kubernetes',
    key: 'helperImage',
    flag: 'helper-image',
    env: 'KUBER_API_HELPER_IMAGE',
    kind: 'string',
    def: 'busybox:1.36',
    help: 'image of helper containers (sh, cat, tar): staged copies, bind snapshots; mirror it for air-gapped clusters',
  },
  {
    group: 'Containers',
    key: 'inspectorIdleMs',
    flag: 'inspector-idle-ms',
    env: 'KUBER_API_INSPECTOR_IDLE_MS',
    kind: 'int',
    def: 30_000,
    help: 'docker cp from a created container: its inspector pod is deleted after this long unused',
  },
  // --- Pods: security and settings (issue 13) ---
  {
    group: 'Pods',
    key: 'podSecurityDefault',
    flag: 'pod-security-default',
    env: 'KUBER_API_POD_SECURITY_DEFAULT',
    kind: 'string',
    def: 'baseline',
    choices: ['privileged', 'baseline', 'restricted'],
    help: 'Pod Security level Pods are checked against when the namespace has no pod-security.kubernetes.io/enforce label',
  },
  {
    group: 'Pods',
    key: 'allowPrivileged',
    flag: 'allow-privileged',
    env: 'KUBER_API_ALLOW_PRIVILEGED',
    kind: 'bool',
    def: false,
    help: 'honour a namespace labelled pod-security.kubernetes.io/enforce=privileged (--privileged, host namespaces, --cap-add beyond baseline, --device); without it kuber-api checks at least baseline',
  },
  {
    group: 'Pods',
    key: 'bindRoots',
    flag: 'bind-root',
    env: 'KUBER_API_BIND_ROOTS',
    kind: 'strings',
    def: [],
    help: "directory bind-mount sources may come from, repeatable, besides the job build directory ($CI_BUILDS_DIR or $CI_PROJECT_DIR) and the system temp directory; kuber-api's own credentials never",
  },
  {
    group: 'Pods',
    key: 'podSecurityCacheMs',
    flag: 'pod-security-cache-ms',
    env: 'KUBER_API_POD_SECURITY_CACHE_MS',
    kind: 'int',
    def: 30_000,
    help: "the namespace's Pod Security labels are re-read after this long",
  },
  {
    group: 'Pods',
    key: 'podTemplate',
    flag: 'pod-template',
    env: 'KUBER_API_POD_TEMPLATE',
    kind: 'string',
    def: undefined,
    help: 'YAML Pod (or PodSpec) merged under every container Pod: resources of its first container, nodeSelector, tolerations, affinity, imagePullSecrets, labels, annotations, serviceAccountName, runtimeClassName, priorityClassName (flags win)',
  },
  {
    group: 'Pods',
    key: 'podRequests',
    flag: 'pod-requests',
    env: 'KUBER_API_POD_REQUESTS',
    kind: 'strings',
    def: [],
    item: { re: /^[^=\s]+=.*$/, what: 'key=value' },
    help: 'default request of containers that set none, repeatable: cpu=100m, memory=128Mi',
  },
  {
    group: 'Pods',
    key: 'podLimits',
    flag: 'pod-limits',
    env: 'KUBER_API_POD_LIMITS',
    kind: 'strings',
    def: [],
    item: { re: /^[^=\s]+=.*$/, what: 'key=value' },
    help: 'default limit of containers that set none (docker -m and --cpus win), repeatable: cpu=1, memory=1Gi',
  },
  {
    group: 'Pods',
    key: 'podMaxLimits',
    flag: 'pod-max-limits',
    env: 'KUBER_API_POD_MAX_LIMITS',
    kind: 'strings',
    def: [],
    item: { re: /^[^=\s]+=.*$/, what: 'key=value' },
    help: 'largest request/limit a container may ask for (403 at create beyond), repeatable: memory=8Gi',
  },
  {
    group: 'Pods',
    key: 'nodeSelector',
    flag: 'node-selector',
    env: 'KUBER_API_NODE_SELECTOR',
    kind: 'strings',
    def: [],
    item: { re: /^[^=\s]+=.*$/, what: 'key=value' },
    help: 'nodeSelector of container Pods, repeatable: key=value',
  },
  {
    group: 'Pods',
    key: 'tolerations',
    flag: 'toleration',
    env: 'KUBER_API_TOLERATIONS',
    kind: 'strings',
    def: [],
    help: 'toleration of container Pods, repeatable: key[=value][:NoSchedule|PreferNoSchedule|NoExecute]',
  },
  {
    group: 'Pods',
    key: 'imagePullSecrets',
    flag: 'image-pull-secret',
    env: 'KUBER_API_IMAGE_PULL_SECRETS',
    kind: 'strings',
    def: [],
    help: 'existing Secret added to the imagePullSecrets of container Pods, repeatable',
  },
  {
    group: 'Pods',
    key: 'podLabels',
    flag: 'pod-label',
    env: 'KUBER_API_POD_LABELS',
    kind: 'strings',
    def: [],
    item: { re: /^[^=\s]+=.*$/, what: 'key=value' },
    help: "extra label of container Pods, repeatable (kuber-api's own labels win)",
  },
  {
    group: 'Pods',
    key: 'podAnnotations',
    flag: 'pod-annotation',
    env: 'KUBER_API_POD_ANNOTATIONS',
    kind: 'strings',
    def: [],
    item: { re: /^[^=\s]+=.*$/, what: 'key=value' },
    help: 'extra annotation of container Pods, repeatable: sidecar.istio.io/inject=false',
  },
  {
    group: 'Pods',
    key: 'podServiceAccount',
    flag: 'pod-service-account',
    env: 'KUBER_API_POD_SERVICE_ACCOUNT',
    kind: 'string',
    def: undefined,
    help: 'serviceAccountName of container Pods (its token is still not mounted)',
  },
  {
    group: 'Pods',
    key: 'runtimeClass',
    flag: 'runtime-class',
    env: 'KUBER_API_RUNTIME_CLASS',
    kind: 'string',
    def: undefined,
    help: 'runtimeClassName of container Pods (gVisor, Kata: a stronger sandbox for untrusted jobs)',
  },
  {
    group: 'Pods',
    key: 'priorityClass',
    flag: 'priority-class',
    env: 'KUBER_API_PRIORITY_CLASS',
    kind: 'string',
    def: undefined,
    help: 'priorityClassName of container Pods',
  },
  {
    group: 'Kubernetes',
    key: 'operatorUrl',
    flag: 'operator-url',
    env: 'KUBER_API_OPERATOR_URL',
    kind: 'string',
    def: undefined,
    help: "URL of the kuber-api operator: the job's namespace and a token for it come from its credential broker (the Pod's own token needs no rights)",
  },
  {
    group: 'Kubernetes',
    key: 'operatorWaitMs',
    flag: 'operator-wait-ms',
    env: 'KUBER_API_OPERATOR_WAIT_MS',
    kind: 'int',
    def: 120_000,
    help: "with --operator-url: how long to wait for the job's namespace to be ready before failing",
  },
  {
    group: 'Kubernetes',
    key: 'operatorTokenFile',
    flag: 'operator-token-file',
    env: 'KUBER_API_OPERATOR_TOKEN_FILE',
    kind: 'string',
    def: undefined,
    help: "with --operator-url: the token presented to the operator (default: the Pod's service-account token; a projected token with the operator's audience is better)",
  },
  {
    group: 'Kubernetes',
    key: 'operatorCaFile',
    flag: 'operator-ca-file',
    env: 'KUBER_API_OPERATOR_CA_FILE',
    kind: 'string',
    def: undefined,
    help: "with an https --operator-url: the CA (PEM) of the operator's certificate",
  },
  // --- end Pods ---
  {
    group: 'Images',
    key: 'imagePullPolicy',
    flag: 'image-pull-policy',
    env: 'KUBER_API_IMAGE_PULL_POLICY',
    kind: 'string',
    def: 'IfNotPresent',
    help: 'imagePullPolicy of container pods: IfNotPresent|Always|Never',
  },
  {
    group: 'Ports and networks',
    key: 'publishAddresses',
    flag: 'publish-address',
    env: 'KUBER_API_PUBLISH_ADDRESS',
    kind: 'ips',
    def: ['127.0.0.1', '::1', 'gateway'],
    help: 'addresses published ports are bound on, repeatable (env: comma-separated); "gateway" is the bridge network gateway (POD_IP) when it is a local address; ::1 is skipped where IPv6 is off',
  },
  {
    group: 'Ports and networks',
    key: 'portMode',
    flag: 'port-mode',
    env: 'KUBER_API_PORT_MODE',
    kind: 'string',
    def: 'auto',
    choices: ['auto', 'direct', 'portforward'],
    help: 'published ports reach pods by: direct (pod IP), portforward (pods/portforward), auto (direct, portforward once pod IPs prove unreachable)',
  },
  {
    group: 'Ports and networks',
    key: 'publishDialTimeoutMs',
    flag: 'publish-dial-timeout-ms',
    env: 'KUBER_API_PUBLISH_DIAL_TIMEOUT_MS',
    kind: 'int',
    def: 30_000,
    help: 'a published-port connection waits this long for the container to run and accept',
  },
  {
    group: 'Ports and networks',
    key: 'networkPolicies',
    flag: 'network-policies',
    env: 'KUBER_API_NETWORK_POLICIES',
    kind: 'string',
    def: 'false',
    choices: ['false', 'true'],
    help: "one NetworkPolicy per Docker network (isolation between networks; enforced by the cluster's network plugin)",
  },
  {
    group: 'Images',
    key: 'imageMetadata',
    flag: 'image-metadata',
    env: 'KUBER_API_IMAGE_METADATA',
    kind: 'string',
    def: 'best-effort',
    choices: ['best-effort', 'registry', 'off'],
    help: 'image configs from registries: best-effort (an unreachable registry records the image without its config; the kubelet still pulls it), registry (strict: a pull fails when the registry cannot be reached, as with dockerd), off (never contact registries)',
  },
  {
    group: 'Images',
    key: 'registryMirrors',
    flag: 'registry-mirror',
    env: 'KUBER_API_REGISTRY_MIRRORS',
    kind: 'strings',
    def: [],
    item: { re: /^https?:\/\/[^/\s]+\/?$/, what: 'an http(s)://host[:port] URL' },
    help: 'Docker Hub mirror URL tried before Docker Hub, repeatable (env: comma-separated)',
  },
  {
    group: 'Images',
    key: 'insecureRegistries',
    flag: 'insecure-registry',
    env: 'KUBER_API_INSECURE_REGISTRIES',
    kind: 'strings',
    def: [],
    help: 'registry host[:port] or CIDR allowed over plain HTTP and without certificate checks, repeatable (loopback always is)',
  },
  {
    group: 'Images',
    key: 'registryTimeoutMs',
    flag: 'registry-timeout-ms',
    env: 'KUBER_API_REGISTRY_TIMEOUT_MS',
    kind: 'int',
    def: 30_000,
    help: 'per registry request during a pull',
  },
  {
    group: 'Images',
    key: 'imageLookupTimeoutMs',
    flag: 'image-lookup-timeout-ms',
    env: 'KUBER_API_IMAGE_LOOKUP_TIMEOUT_MS',
    kind: 'int',
    def: 5_000,
    help: 'docker create of an image without a known config waits this long for its registry, then goes on without it',
  },
  {
    group: 'Images',
    key: 'imageCacheTtlMs',
    flag: 'image-cache-ttl-ms',
    env: 'KUBER_API_IMAGE_CACHE_TTL_MS',
    kind: 'int',
    def: 3_600_000,
    help: 'image configs older than this are re-read from the registry at the next create (0 = never)',
  },
  {
    group: 'Images',
    key: 'imageFailureTtlMs',
    flag: 'image-failure-ttl-ms',
    env: 'KUBER_API_IMAGE_FAILURE_TTL_MS',
    kind: 'int',
    def: 60_000,
    help: 'a registry lookup that failed at create is not retried for this long',
  },
  {
    group: 'Images',
    key: 'imageFailureCacheEntries',
    flag: 'image-failure-cache-entries',
    env: 'KUBER_API_IMAGE_FAILURE_CACHE_ENTRIES',
    kind: 'int',
    def: 10_000,
    help: 'failed registry lookups remembered (for --image-failure-ttl-ms) at most, the oldest forgotten first',
  },
  {
    group: 'Images',
    key: 'registryTokenCacheEntries',
    flag: 'registry-token-cache-entries',
    env: 'KUBER_API_REGISTRY_TOKEN_CACHE_ENTRIES',
    kind: 'int',
    def: 1_000,
    help: 'registry bearer tokens (one per repository pulled) kept at most until they expire, the least recently used forgotten first',
  },
  {
    group: 'Requests and lifecycle',
    key: 'eventsBufferSize',
    flag: 'events-buffer-size',
    env: 'KUBER_API_EVENTS_BUFFER_SIZE',
    kind: 'int',
    def: 1024,
    help: 'docker events kept for --since replays',
  },
  {
    group: 'Containers',
    key: 'autoRemoveHoldMs',
    flag: 'auto-remove-hold-ms',
    env: 'KUBER_API_AUTO_REMOVE_HOLD_MS',
    kind: 'int',
    def: 30_000,
    help: 'docker run --rm: removal waits at most this long for attach/log streams to deliver the last output',
  },
  {
    group: 'Containers',
    key: 'restartMaxBackoffMs',
    flag: 'restart-max-backoff-ms',
    env: 'KUBER_API_RESTART_MAX_BACKOFF_MS',
    kind: 'int',
    def: 60_000,
    help: 'restart policies: longest delay between two runs (dockerd: 1 minute)',
  },
  {
    group: 'Containers',
    key: 'removedExitsKept',
    flag: 'removed-exits-kept',
    env: 'KUBER_API_REMOVED_EXITS_KEPT',
    kind: 'int',
    def: 4096,
    help: 'exit codes of removed containers remembered for docker wait callers still answering (oldest forgotten first)',
  },
  {
    group: 'Containers',
    key: 'execCommandTimeoutMs',
    flag: 'exec-command-timeout-ms',
    env: 'KUBER_API_EXEC_COMMAND_TIMEOUT_MS',
    kind: 'int',
    def: 10_000,
    help: 'docker top and in-container signals (kill -<n> 1): how long the command may run',
  },
  {
    group: 'Containers',
    key: 'execCommandMaxOutput',
    flag: 'exec-command-max-output',
    env: 'KUBER_API_EXEC_COMMAND_MAX_OUTPUT',
    kind: 'int',
    def: 1 << 20,
    help: 'docker top and in-container signals: output kept (characters)',
  },
  {
    group: 'Containers',
    key: 'archiveExecHighWaterBytes',
    flag: 'archive-exec-high-water-bytes',
    env: 'KUBER_API_ARCHIVE_EXEC_HIGH_WATER_BYTES',
    kind: 'bytes',
    def: 1 << 20,
    help: 'docker cp into a running container: bytes buffered on the exec WebSocket before the client is paused',
  },
  {
    group: 'Ports and networks',
    key: 'publishConnectTimeoutMs',
    flag: 'publish-connect-timeout-ms',
    env: 'KUBER_API_PUBLISH_CONNECT_TIMEOUT_MS',
    kind: 'int',
    def: 3_000,
    help: 'published ports, auto mode: a direct dial slower than this switches to pods/portforward',
  },
  {
    group: 'Ports and networks',
    key: 'publishReplayBytes',
    flag: 'publish-replay-bytes',
    env: 'KUBER_API_PUBLISH_REPLAY_BYTES',
    kind: 'bytes',
    def: 256 << 10,
    help: 'published ports over pods/portforward: client bytes kept to replay on a retry',
  },
  {
    group: 'Ports and networks',
    key: 'publishWsHighWaterBytes',
    flag: 'publish-ws-high-water-bytes',
    env: 'KUBER_API_PUBLISH_WS_HIGH_WATER_BYTES',
    kind: 'bytes',
    def: 256 << 10,
    help: 'published ports over pods/portforward: the client is paused while the WebSocket buffers more than this',
  },
  {
    group: 'Containers',
    key: 'ryukImages',
    flag: 'ryuk-image',
    env: 'KUBER_API_RYUK_IMAGES',
    kind: 'strings',
    def: ['testcontainers/ryuk'],
    help: 'image repository (after any registry or mirror prefix, any tag) whose containers kuber-api plays Ryuk for in process, without a Pod; repeatable (env: comma-separated)',
  },
  {
    group: 'Containers',
    key: 'ryukLogLines',
    flag: 'ryuk-log-lines',
    env: 'KUBER_API_RYUK_LOG_LINES',
    kind: 'int',
    def: 1000,
    help: 'in-process Ryuk: log lines kept (in its container record)',
  },
  {
    group: 'Containers',
    key: 'ryukMaxLineBytes',
    flag: 'ryuk-max-line-bytes',
    env: 'KUBER_API_RYUK_MAX_LINE_BYTES',
    kind: 'bytes',
    def: 64 << 10,
    help: "in-process Ryuk: longest filter line; a longer one ends the connection (as Ryuk's 64 KiB scanner does)",
  },
  {
    group: 'Containers',
    key: 'ryukMaxFilters',
    flag: 'ryuk-max-filters',
    env: 'KUBER_API_RYUK_MAX_FILTERS',
    kind: 'int',
    def: 1024,
    help: 'in-process Ryuk: distinct filters kept per Ryuk; a client sending more is disconnected',
  },
  {
    group: 'Containers',
    key: 'ryukMaxConnections',
    flag: 'ryuk-max-connections',
    env: 'KUBER_API_RYUK_MAX_CONNECTIONS',
    kind: 'int',
    def: 256,
    help: 'in-process Ryuk: connections served at once per Ryuk; more are closed',
  },
  {
    group: 'Containers',
    key: 'statsIntervalMs',
    flag: 'stats-interval-ms',
    env: 'KUBER_API_STATS_INTERVAL_MS',
    kind: 'int',
    def: 1_000,
    help: 'docker stats (streaming): time between two samples (dockerd: 1 s)',
  },
  {
    group: 'Containers',
    key: 'userLookupMaxBytes',
    flag: 'user-lookup-max-bytes',
    env: 'KUBER_API_USER_LOOKUP_MAX_BYTES',
    kind: 'bytes',
    def: 1 << 20,
    help: "--user names: bytes of the image's /etc/passwd and /etc/group read at most",
  },
  {
    group: 'Containers',
    key: 'userCacheEntries',
    flag: 'user-cache-entries',
    env: 'KUBER_API_USER_CACHE_ENTRIES',
    kind: 'int',
    def: 256,
    help: '--user names: images whose /etc/passwd and /etc/group are kept in memory (by image digest)',
  },
  {
    group: 'Containers',
    key: 'dnsServer',
    flag: 'dns-server',
    env: 'KUBER_API_DNS_SERVER',
    kind: 'string',
    def: 'auto',
    choices: ['auto', 'off'],
    help: "embedded DNS as dockerd's (names per network, forwarding to the cluster DNS): auto (serve on the address containers reach kuber-api at, else fall back to headless Services), off (headless Services)",
  },
  {
    group: 'Containers',
    key: 'dnsAddress',
    flag: 'dns-address',
    env: 'KUBER_API_DNS_ADDRESS',
    kind: 'string',
    def: undefined,
    help: 'address the embedded DNS serves on (default: POD_IP; on kube-sim the node address)',
  },
  {
    group: 'Containers',
    key: 'dnsPort',
    flag: 'dns-port',
    env: 'KUBER_API_DNS_PORT',
    kind: 'int',
    def: 53,
    help: 'port of the embedded DNS (containers can only use 53; other ports are for tests)',
  },
  {
    group: 'Containers',
    key: 'dnsUpstream',
    flag: 'dns-upstream',
    env: 'KUBER_API_DNS_UPSTREAM',
    kind: 'strings',
    def: [],
    item: {
      re: /^(\[[0-9a-fA-F:.]+\](:\d+)?|[0-9a-fA-F:]*:[0-9a-fA-F:.]*|\d+\.\d+\.\d+\.\d+(:\d+)?)$/,
      what: 'ip, ip:port or [ipv6]:port',
    },
    help: "servers the embedded DNS forwards to, repeatable (default: /etc/resolv.conf; kube-sim's kube-dns Service outside a Pod)",
  },
  {
    group: 'Containers',
    key: 'dnsUpstreamTimeoutMs',
    flag: 'dns-upstream-timeout-ms',
    env: 'KUBER_API_DNS_UPSTREAM_TIMEOUT_MS',
    kind: 'int',
    def: 4_000,
    help: 'embedded DNS: wait for one upstream server before trying the next (moby: 4 s)',
  },
  {
    group: 'Containers',
    key: 'dnsMaxInflight',
    flag: 'dns-max-inflight',
    env: 'KUBER_API_DNS_MAX_INFLIGHT',
    kind: 'int',
    def: 1024,
    help: 'embedded DNS: forwarded queries in flight at most, REFUSED beyond (moby: 1024)',
  },
  {
    group: 'Containers',
    key: 'dnsMaxQueryBytes',
    flag: 'dns-max-query-bytes',
    env: 'KUBER_API_DNS_MAX_QUERY_BYTES',
    kind: 'int',
    def: 1232,
    help: 'embedded DNS: largest query accepted (FORMERR over UDP; TCP connection closed)',
  },
  {
    group: 'Containers',
    key: 'dnsRatePerSource',
    flag: 'dns-rate-per-source',
    env: 'KUBER_API_DNS_RATE_PER_SOURCE',
    kind: 'int',
    def: 1000,
    help: 'embedded DNS: queries per second per source address, dropped beyond (0 = unlimited)',
  },
  {
    group: 'Containers',
    key: 'dnsMaxSources',
    flag: 'dns-max-sources',
    env: 'KUBER_API_DNS_MAX_SOURCES',
    kind: 'int',
    def: 4096,
    help: 'embedded DNS: source addresses the rate limiter remembers',
  },
  {
    group: 'Containers',
    key: 'dnsCacheEntries',
    flag: 'dns-cache-entries',
    env: 'KUBER_API_DNS_CACHE_ENTRIES',
    kind: 'int',
    def: 4096,
    help: 'embedded DNS: forwarded answers cached (0 = no cache)',
  },
  {
    group: 'Containers',
    key: 'dnsCacheBytes',
    flag: 'dns-cache-bytes',
    env: 'KUBER_API_DNS_CACHE_BYTES',
    kind: 'int',
    def: 4 << 20,
    help: 'embedded DNS: bytes of all cached answers together (least recently used dropped first)',
  },
  {
    group: 'Containers',
    key: 'dnsCacheMaxTtlS',
    flag: 'dns-cache-max-ttl-s',
    env: 'KUBER_API_DNS_CACHE_MAX_TTL_S',
    kind: 'int',
    def: 300,
    help: 'embedded DNS: longest a forwarded answer is cached (its TTL when shorter)',
  },
  {
    group: 'Containers',
    key: 'dnsMaxTcpConnections',
    flag: 'dns-max-tcp-connections',
    env: 'KUBER_API_DNS_MAX_TCP_CONNECTIONS',
    kind: 'int',
    def: 256,
    help: 'embedded DNS: TCP connections open at most',
  },
  {
    group: 'Containers',
    key: 'dnsTcpIdleMs',
    flag: 'dns-tcp-idle-ms',
    env: 'KUBER_API_DNS_TCP_IDLE_MS',
    kind: 'int',
    def: 10_000,
    help: 'embedded DNS: an idle TCP connection is closed after this',
  },
  {
    group: 'Containers',
    key: 'dnsUnknownSourceWaitMs',
    flag: 'dns-unknown-source-wait-ms',
    env: 'KUBER_API_DNS_UNKNOWN_SOURCE_WAIT_MS',
    kind: 'int',
    def: 1_000,
    help: "embedded DNS: a query from an address not yet known waits this long for its container's Pod status",
  },
  {
    group: 'Containers',
    key: 'volumeStorageClass',
    flag: 'volume-storage-class',
    env: 'KUBER_API_VOLUME_STORAGE_CLASS',
    kind: 'string',
    def: '',
    help: 'StorageClass of the claims Docker volumes become (empty: the cluster default class)',
  },
  {
    group: 'Containers',
    key: 'volumeSize',
    flag: 'volume-size',
    env: 'KUBER_API_VOLUME_SIZE',
    kind: 'string',
    def: '1Gi',
    help: "requested size of each Docker volume's claim (volume-opt size= overrides it)",
  },
  {
    group: 'Containers',
    key: 'volumeAccessMode',
    flag: 'volume-access-mode',
    env: 'KUBER_API_VOLUME_ACCESS_MODE',
    kind: 'string',
    def: 'ReadWriteOnce',
    choices: ['ReadWriteOnce', 'ReadWriteMany'],
    help: 'access mode of volume claims: ReadWriteOnce (containers sharing a volume are scheduled onto one node by pod affinity) or ReadWriteMany (needs a class that offers it)',
  },
  {
    group: 'Containers',
    key: 'bindMaxBytes',
    flag: 'bind-max-bytes',
    env: 'KUBER_API_BIND_MAX_BYTES',
    kind: 'bytes',
    def: 64 << 20,
    help: "bind mounts: bytes of a container's bind sources snapshotted into Kubernetes at each start (413 beyond)",
  },
];

export const DEFAULT_OPTIONS: Options = Object.freeze(
  Object.fromEntries(
    OPTION_SPECS.map((s) => [s.key, Array.isArray(s.def) ? Object.freeze([...s.def]) : s.def]),
  ) as unknown as Options,
);

const UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  k: 1024,
  kb: 1024,
  kib: 1024,
  m: 1024 ** 2,
  mb: 1024 ** 2,
  mib: 1024 ** 2,
  g: 1024 ** 3,
  gb: 1024 ** 3,
  gib: 1024 ** 3,
};

/** A size as docker's units.RAMInBytes reads it (binary multiples: `1m` = `1MiB` = 1048576), or bytes. */
export function parseBytes(v: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(v.trim());
  const unit = m ? UNITS[m[2]!.toLowerCase()] : undefined;
  if (!m || unit === undefined) return undefined;
  const n = Math.floor(Number(m[1]) * unit);
  return Number.isSafeInteger(n) ? n : undefined;
}

/** `1 MiB`, `64 MiB`, `1.5 GiB`; a size that is not a round multiple stays in bytes. */
export function humanBytes(n: number): string {
  for (const [unit, size] of [
    ['GiB', 1024 ** 3],
    ['MiB', 1024 ** 2],
    ['KiB', 1024],
  ] as const) {
    if (n >= size && (n * 10) % size === 0) return `${n / size} ${unit}`;
  }
  return `${n} B`;
}

function convert(spec: Spec, raw: string | string[], from: string): unknown {
  const bad = (why: string) => new EngineError('invalid', `${from}: ${why}`);
  switch (spec.kind) {
    case 'bool': {
      const v = String(Array.isArray(raw) ? raw.at(-1) : raw)
        .trim()
        .toLowerCase();
      if (['1', 'true', 'yes', 'on'].includes(v)) return true;
      if (['0', 'false', 'no', 'off'].includes(v)) return false;
      throw bad(`"${v}" is not a boolean (true or false)`);
    }
    case 'bytes': {
      const v = String(Array.isArray(raw) ? raw.at(-1) : raw).trim();
      const n = parseBytes(v);
      if (n === undefined) throw bad(`"${v}" is not a size (bytes, or a number with k, m, g: 64m, 1GiB)`);
      return n;
    }
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
      const list = (Array.isArray(raw) ? raw : raw.split(','))
        .map((s) => s.trim().replace(/^\[|\]$/g, ''))
        .filter(Boolean);
      if (!list.length) throw bad('at least one address is needed');
      for (const a of list) if (!isIP(a) && a !== 'gateway') throw bad(`"${a}" is not an IP address (or "gateway")`);
      return Object.freeze(list);
    }
    case 'level':
      if (!LEVELS.includes(String(raw))) throw bad(`"${raw}" is not one of ${LEVELS.join(', ')}`);
      return String(raw);
    case 'strings': {
      const items = (Array.isArray(raw) ? raw : [raw])
        .flatMap((r) => r.split(','))
        .map((x) => x.trim())
        .filter(Boolean);
      for (const i of items) if (spec.item && !spec.item.re.test(i)) throw bad(`"${i}" is not ${spec.item.what}`);
      return Object.freeze(items);
    }
    default: {
      const v = Array.isArray(raw) ? raw.at(-1)! : raw;
      if (spec.choices && !spec.choices.includes(v)) throw bad(`"${v}" is not one of ${spec.choices.join(', ')}`);
      if (spec.item && !spec.item.re.test(v)) throw bad(`"${v}" is not ${spec.item.what}`);
      return v;
    }
  }
}

/**
 * Flags the way cobra (dockerd's parser) reads them: `--flag value`, `--flag=value`, `-H value`,
 * booleans alone or as `--tls=false`; a flag nobody knows is `unknown flag: --x` (cobra's words).
 */
function parseFlags(argv: readonly string[]): Map<string, string[]> {
  const byName = new Map(OPTION_SPECS.map((s) => [s.flag, s]));
  const byShort = new Map(OPTION_SPECS.filter((s) => s.short).map((s) => [s.short!, s]));
  const out = new Map<string, string[]>();
  const add = (spec: Spec, v: string) => out.set(spec.flag, [...(out.get(spec.flag) ?? []), v]);
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    let spec: Spec | undefined;
    let inline: string | undefined;
    if (arg.startsWith('--') && arg.length > 2) {
      const eq = arg.indexOf('=');
      const name = eq < 0 ? arg.slice(2) : arg.slice(2, eq);
      spec = byName.get(name);
      if (!spec) throw new EngineError('invalid', `unknown flag: --${name}`, { code: 'KAPI_UNKNOWN_FLAG' });
      if (eq >= 0) inline = arg.slice(eq + 1);
    } else if (arg.startsWith('-') && arg.length > 1) {
      const c = arg[1]!;
      spec = byShort.get(c);
      if (!spec)
        throw new EngineError('invalid', `unknown shorthand flag: '${c}' in ${arg}`, { code: 'KAPI_UNKNOWN_FLAG' });
      if (arg.length > 2) inline = arg[2] === '=' ? arg.slice(3) : arg.slice(2);
    } else {
      throw new EngineError('invalid', `kuber-api takes no arguments, got "${arg}"`, { code: 'KAPI_UNKNOWN_FLAG' });
    }
    if (inline !== undefined) add(spec, inline);
    else if (spec.kind === 'bool') add(spec, 'true');
    else if (i + 1 < argv.length) add(spec, argv[++i]!);
    else throw new EngineError('invalid', `flag needs an argument: --${spec.flag}`, { code: 'KAPI_UNKNOWN_FLAG' });
  }
  return out;
}

/** Options from `argv` (flags without the program name) and `env`. Throws an `invalid` EngineError on bad input. */
export function loadOptions(
  argv: readonly string[] = [],
  env: NodeJS.ProcessEnv = process.env,
  overrides: Partial<Options> = {},
): Options {
  const values = parseFlags(argv);
  const out: Record<string, unknown> = {};
  for (const s of OPTION_SPECS) {
    const flag = values.get(s.flag);
    const fromEnv = env[s.env];
    if (flag !== undefined) out[s.key] = convert(s, flag, `--${s.flag}`);
    else if (fromEnv !== undefined && fromEnv !== '') out[s.key] = convert(s, fromEnv, s.env);
    else out[s.key] = DEFAULT_OPTIONS[s.key];
  }
  Object.assign(out, overrides);
  return Object.freeze(out) as unknown as Options;
}

/** A default as people read it: sizes in KiB/MiB, lists joined, nothing as "-". */
export function defaultText(s: Spec): string {
  if (Array.isArray(s.def)) return s.def.length ? s.def.join(' ') : '-';
  if (s.def === undefined) return '-';
  if (s.kind === 'bytes') return humanBytes(s.def as number);
  return String(s.def);
}

function grouped(): [Group, Spec[]][] {
  return GROUPS.map((g) => [g, OPTION_SPECS.filter((s) => (s.group ?? 'Other') === g)] as [Group, Spec[]]).filter(
    ([, specs]) => specs.length > 0,
  );
}

/** `--help` text, generated from {@link OPTION_SPECS}, one section per group. */
export function usage(): string {
  const lines = [
    'Usage: kuber-api [serve] [flags]',
    '       kuber-api operator [flags]   (the per-job namespace operator; see kuber-api operator --help)',
    '       kuber-api sim --kubeconfig PATH',
    '',
    'Every flag has an environment variable (shown with the default); flags beat variables.',
  ];
  for (const [group, specs] of grouped()) {
    lines.push('', `${group}:`);
    for (const s of specs) {
      const name =
        (s.short ? `-${s.short}, ` : '    ') +
        `--${s.flag}` +
        (s.kind === 'bool' ? '' : s.kind === 'bytes' ? ' size' : s.kind === 'int' ? ' n' : ' value');
      lines.push(`  ${name.padEnd(32)} ${s.help}`, `  ${''.padEnd(32)} (${s.env}, default ${defaultText(s)})`);
    }
  }
  return lines.join('\n') + '\n';
}

/** The README's flag table (one table per group), generated from {@link OPTION_SPECS}; test/config.test.ts keeps README.md equal to it. */
export function flagTableMarkdown(): string {
  const cell = (t: string) => t.replace(/\|/g, '\\|');
  const out: string[] = [];
  for (const [group, specs] of grouped()) {
    out.push(`**${group}**`, '', '| Flag | Variable | Default | Meaning |', '|---|---|---|---|');
    for (const s of specs) {
      const multi = s.kind === 'list' || s.kind === 'strings' || s.kind === 'ips';
      const flag = (s.short ? `\`-${s.short}\`, ` : '') + `\`--${s.flag}\`` + (multi ? ' (repeatable)' : '');
      const def = Array.isArray(s.def)
        ? s.def.length
          ? s.def.map((d) => `\`${d}\``).join(', ')
          : '(none)'
        : s.def === undefined
          ? ''
          : s.kind === 'bytes'
            ? humanBytes(s.def as number)
            : typeof s.def === 'string'
              ? `\`${s.def}\``
              : String(s.def);
      out.push(`| ${flag} | \`${s.env}\` | ${cell(def)} | ${cell(s.help)} |`);
    }
    out.push('');
  }
  return out.join('\n');
}
