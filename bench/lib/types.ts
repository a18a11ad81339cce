/**
 * @module bench/lib/types
 * The vocabulary of a run: the paths, a sample, a case (one row of the table), the options, and
 * the context every scenario receives.
 */
import type { DockerClient } from './docker-client.js';
import type { KubeDirect } from './kube-direct.js';

/**
 * a: through kuber-api with a Docker API client; b: the same work directly on the Kubernetes API;
 * c: a bare Node.js TCP pass-through from a local producer (the ceiling of any Node proxy);
 * d: the same Docker API calls against another Docker endpoint (`--docker-host`, or the
 *    dockerd-oracle when it is up);
 * e: the docker CLI against the in-memory Engine API endpoint (bench/lib/cli-ceiling): the CLI's own
 *    ceiling, on the CLI cases, where a and d are the docker CLI against kuber-api and dockerd;
 * f: a bare Node process reading the same pods/log, exec and attach streams from the same
 *    apiserver over TLS and writing them to a socket with no framing (bench/lib/floor-proxy): the
 *    floor of any Node proxy's CPU per GiB.
 */
export type PathId = 'a' | 'b' | 'c' | 'd' | 'e' | 'f';
export const PATHS: readonly PathId[] = ['a', 'b', 'c', 'd', 'e', 'f'];
export const PATH_LABEL: Record<PathId, string> = {
  a: 'kuber-api',
  b: 'direct k8s',
  c: 'raw TCP',
  d: 'docker host',
  e: 'CLI ceiling',
  f: 'Node floor',
};

export type Metric = 'throughput' | 'latency' | 'memory' | 'concurrency';

/** One row of the table. */
export interface CaseDef {
  id: string;
  group: string;
  metric: Metric;
  /** What the row measures, in words. */
  what: string;
}

export interface MemPeak {
  /** RSS right before the stream (KiB). */
  idleKiB: number;
  /** Peak RSS over the stream (KiB): max(sampled VmRSS, VmHWM after a reset). */
  peakKiB: number;
}

export interface Sample {
  case: string;
  path: PathId;
  rep: number;
  ok: boolean;
  error?: string;
  /** Throughput: verified payload bytes and the wall time from the request to the last byte. */
  bytes?: number;
  seconds?: number;
  ttfbMs?: number;
  /** Data events the client needed (bytes / reads = the average read). */
  reads?: number;
  /** Latency samples (ms). */
  latenciesMs?: number[];
  /** Concurrency: streams started / failed. */
  streams?: number;
  failed?: number;
  /** Memory, per process name (kuber-api, kube-sim, raw proxy, docker host...). */
  mem?: Record<string, MemPeak>;
  /** RSS over the stream (MiB every 500 ms), per process. */
  timeline?: Record<string, number[]>;
  /** CPU seconds spent by each process over the sample. */
  cpu?: Record<string, number>;
  /** RSS of the process under test when idle (KiB): the startup case. */
  rssKiB?: number;
  /** Anything else worth keeping (exit codes, stream counts...). */
  note?: string;
}

export interface Options {
  groups: string[];
  quick: boolean;
  cluster: boolean;
  kubeconfig?: string;
  namespace?: string;
  dockerHost?: string;
  /** Do not turn path d on by itself when the dockerd-oracle is up. */
  noDockerHost: boolean;
  /** The Docker host's daemon pid, for its RSS and CPU (default: its pid file when local). */
  dockerPid?: number;
  /** MiB per log stream. */
  sizeMiB: number;
  /** MiB per attach/exec stream. */
  streamMiB: number;
  /** At most this many MiB per stream on path d (the docker host), except the docker CLI cases. */
  dMiB: number;
  reps: number;
  /** Latency samples per path. */
  samples: number;
  /** MiB per stream of the docker CLI cases (path e). */
  cliMiB: number;
  /** Wall-time samples per path of `docker exec true` and `docker run --rm true`. */
  cliSamples: number;
  concurrency: number;
  /** MiB per stream in the concurrency cases. */
  concMiB: number;
  /** Containers the concurrent streams are spread over. */
  concContainers: number;
  /** Containers in the `docker ps` case. */
  psContainers: number;
  /** The slow reader's rate, MiB/s. */
  slowMiBps: number;
  /** MiB that the slow reader reads. */
  slowMiB: number;
  outDir: string;
  /** Write bench/RESULTS.md (+ chart) from this run. */
  results: boolean;
  cpuProf: boolean;
  unix: boolean;
  /** kube-sim's PodLogsQuerySplitStreams gate: on, off, or both (off + a second kube-sim with it on for the log cases). */
  splitStreams: 'on' | 'off' | 'both';
  tls: boolean;
  image: string;
  /** Another kuber-api build to measure (its dist/src/cli.js), e.g. the one before a change. */
  kuberCli?: string;
  /** The command line as typed, for RESULTS.md. */
  command: string;
}

export interface Ctx {
  opts: Options;
  /** kuber-api's Docker endpoint (path a). */
  docker: DockerClient;
  /** The other Docker endpoint (path d), with --docker-host. */
  other?: DockerClient;
  /** Direct Kubernetes access (path b). */
  kube: KubeDirect;
  /** Port of the raw TCP pass-through (path c). */
  proxyPort: number;
  /** Port of the Node floor (path f) on this environment's apiserver. */
  floorPort?: number;
  /** Start another kuber-api on this environment's apiserver (the startup scenario stops it). */
  spawnKuber?: () => Promise<{ pid: number; dockerHost: string; stop(): Promise<void> }>;
  /** The in-memory Engine API endpoint (path e's far end), when the docker CLI is on PATH. */
  ceiling?: DockerClient;
  /** The processes whose CPU and memory are tracked, by name. */
  pids: Record<string, number>;
  /** kuber-api's instance label value (its pods carry it). */
  instance: string;
  /** The paths that run in this mode: a, b, c, and d with a docker host (e and f are added by the scenarios that have them). */
  paths: PathId[];
  /** Streams running at once that share the path's bandwidth (concurrency): each stream's timeout allows for them. */
  sharedBy?: number;
  /** '' or a suffix for every case id of this environment, e.g. ' (split)'. */
  variant: string;
  record(s: Sample): void;
  progress(text: string): void;
  /** Register a case (row) before its samples. */
  declare(c: CaseDef): void;
}
