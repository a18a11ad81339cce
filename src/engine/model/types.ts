/**
 * @module engine/model/types
 * The Docker shapes the engine reads and writes (moby api/types/container), and the container
 * record: what kuber-api keeps in Kubernetes about a container so that it can be rebuilt after a
 * restart. Only the fields the engine interprets are typed; everything else is carried verbatim.
 */

export interface HealthConfig {
  Test?: string[];
  Interval?: number; // nanoseconds
  Timeout?: number;
  Retries?: number;
  StartPeriod?: number;
  StartInterval?: number;
}

export interface RestartPolicy {
  Name?: '' | 'no' | 'always' | 'unless-stopped' | 'on-failure';
  MaximumRetryCount?: number;
}

export interface HostConfig {
  AutoRemove?: boolean;
  Memory?: number;
  MemoryReservation?: number;
  NanoCpus?: number;
  CpuShares?: number;
  CpuQuota?: number;
  CpuPeriod?: number;
  ExtraHosts?: string[] | null;
  Tmpfs?: Record<string, string> | null;
  ShmSize?: number;
  RestartPolicy?: RestartPolicy;
  NetworkMode?: string;
  PortBindings?: Record<string, Array<{ HostIp?: string; HostPort?: string }> | null> | null;
  Binds?: string[] | null;
  Mounts?: unknown[] | null;
  Privileged?: boolean;
  Init?: boolean | null;
  LogConfig?: { Type?: string; Config?: Record<string, string> };
  [k: string]: unknown;
}

/** The body of POST /containers/create: Config with HostConfig and NetworkingConfig inline. */
export interface CreateBody {
  Hostname?: string;
  Domainname?: string;
  User?: string;
  AttachStdin?: boolean;
  AttachStdout?: boolean;
  AttachStderr?: boolean;
  ExposedPorts?: Record<string, unknown> | null;
  Tty?: boolean;
  OpenStdin?: boolean;
  StdinOnce?: boolean;
  Env?: string[] | null;
  Cmd?: string[] | string | null;
  Healthcheck?: HealthConfig | null;
  Image?: string;
  Volumes?: Record<string, unknown> | null;
  WorkingDir?: string;
  Entrypoint?: string[] | string | null;
  Labels?: Record<string, string> | null;
  StopSignal?: string;
  StopTimeout?: number | null;
  HostConfig?: HostConfig;
  NetworkingConfig?: { EndpointsConfig?: Record<string, unknown> | null } | null;
  [k: string]: unknown;
}

/** The last finished run, kept in the record once its Pod is gone (or replaced by a new run). */
export interface RunSummary {
  exitCode: number;
  startedAt: string;
  finishedAt: string;
  oomKilled?: boolean;
  error?: string;
}

/** The mutable part of a record (JSON in the `kuber-api.io/state` annotation). */
export interface RecordState {
  /** Current run number: 0 before the first start; run N's Pod is `podName(name, id, N)`. */
  run: number;
  /** Docker's RestartCount: restarts made by the restart policy (not by `docker start`). */
  restartCount: number;
  /** Set by `docker stop`/`kill`, cleared by `docker start` (moby HasBeenManuallyStopped). */
  manuallyStopped?: boolean;
  /** The previous run, if any (shown while a new run is starting, or after its Pod vanished). */
  last?: RunSummary;
  /** The error of the last failed start (moby State.Error); the container stays "created". */
  startError?: { message: string; exitCode: number; at: string };
  /** Set while the restart policy waits to start the next run (moby State.Restarting). */
  restarting?: boolean;
}

/** A container as kuber-api knows it: decoded from its ConfigMap record. */
export interface ContainerRecord {
  id: string;
  name: string; // without the leading slash
  created: string; // RFC 3339 with nanoseconds
  /** The create body merged with the image's defaults (engine/images/config.ts), as dockerd stores it. */
  config: CreateBody;
  /** The image it was created from: its ID, the image USER the Pod leaves to the runtime, the digest-pinned reference the Pod pulls (absent in old records). */
  image?: { id: string; defaults?: ImageDefaults; pullRef?: string };
  state: RecordState;
  /** The ConfigMap's name, uid and resourceVersion (for conditional updates and owner refs). */
  object: { name: string; uid: string; resourceVersion: string };
}

/** moby api/types/container.State (the inspect `State`). */
export interface DockerState {
  Status: 'created' | 'running' | 'paused' | 'restarting' | 'removing' | 'exited' | 'dead';
  Running: boolean;
  Paused: boolean;
  Restarting: boolean;
  OOMKilled: boolean;
  Dead: boolean;
  Pid: number;
  ExitCode: number;
  Error: string;
  StartedAt: string;
  FinishedAt: string;
  Health?: DockerHealth;
}

export interface DockerHealth {
  Status: 'starting' | 'healthy' | 'unhealthy';
  FailingStreak: number;
  Log: Array<{ Start: string; End: string; ExitCode: number; Output: string }>;
}

export const ZERO_TIME = '0001-01-01T00:00:00Z';

/** The image values the Pod leaves to the container runtime (kept in the container record). */
export interface ImageDefaults {
  User?: string;
}
