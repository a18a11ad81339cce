/**
 * @module engine/model/state
 * Docker's container State from Kubernetes objects (pure): the record (what runs were made, the
 * last finished run, start errors, restart-policy state) and the Pod of the current run (its
 * container status: waiting/running/terminated, core/v1 ContainerState in kubernetes
 * pkg/apis/core/types.go).
 *
 * - waiting (ContainerCreating, image pull...) -> "created" (moby reports "created" until the
 *   process runs), with Error set for Kubernetes' failure reasons; "restarting" while a
 *   restart-policy run comes up.
 * - running -> "running" (also while a stop is in progress: Docker shows running until exit).
 * - terminated -> "exited" with the real exitCode, startedAt/finishedAt, OOMKilled.
 * - the Pod gone without a recorded exit -> "exited", 137, Error naming what happened.
 * - Health (containers with a Healthcheck) is derived from the readiness probe: healthy while the
 *   container is Ready; unhealthy once Ready turned False after the container started, or when no
 *   probe succeeded within StartPeriod + Interval x (Retries+1) + 2 s; starting before that. FailingStreak
 *   and Log are derived from those transitions (kuber-api does not run the probe itself).
 */
import type { ContainerRecord, DockerHealth, DockerState, RunSummary } from './types.js';
import { ZERO_TIME } from './types.js';
import { healthTiming, readinessProbe, CONTAINER_NAME } from './translate.js';

export interface ContainerStatus {
  name: string;
  ready?: boolean;
  started?: boolean;
  restartCount?: number;
  state?: {
    waiting?: { reason?: string; message?: string };
    running?: { startedAt?: string };
    terminated?: {
      exitCode: number;
      signal?: number;
      reason?: string;
      message?: string;
      startedAt?: string;
      finishedAt?: string;
    };
  };
}

export interface PodLike {
  metadata: {
    name: string;
    deletionTimestamp?: string;
    annotations?: Record<string, string>;
    creationTimestamp?: string;
  };
  spec?: { activeDeadlineSeconds?: number; [k: string]: unknown };
  status?: {
    phase?: string;
    reason?: string;
    message?: string;
    startTime?: string;
    conditions?: Array<{
      type: string;
      status: string;
      reason?: string;
      message?: string;
      lastTransitionTime?: string;
    }>;
    containerStatuses?: ContainerStatus[];
    initContainerStatuses?: ContainerStatus[];
  };
}

/** Waiting reasons that are failures, not progress (kubelet images/pull.go, kuberuntime). */
export const FAILED_WAITING = new Set([
  'ErrImagePull',
  'ImagePullBackOff',
  'InvalidImageName',
  'ErrImageNeverPull',
  'RegistryUnavailable',
  'CreateContainerConfigError',
  'CreateContainerError',
  'RunContainerError',
  'PreStartHookError',
  'CrashLoopBackOff',
]);

/** Terminated reasons that mean the process never started (the runtime could not exec it). */
export const START_FAILED = new Set(['StartError', 'ContainerCannotRun']);

export function mainStatus(pod: PodLike | undefined): ContainerStatus | undefined {
  return pod?.status?.containerStatuses?.find((c) => c.name === CONTAINER_NAME);
}

/** Why a Pod that is not running cannot run (image pull, scheduling...), or undefined while it progresses. */
export function podFailure(pod: PodLike): { reason: string; message: string } | undefined {
  const w = mainStatus(pod)?.state?.waiting;
  if (w?.reason && FAILED_WAITING.has(w.reason)) return { reason: w.reason, message: w.message ?? '' };
  // kuber-api's own init containers (staged copies: engine/archive/plan.ts) can fail too.
  for (const s of pod.status?.initContainerStatuses ?? []) {
    const iw = s.state?.waiting;
    if (iw?.reason && FAILED_WAITING.has(iw.reason))
      return { reason: iw.reason, message: `init container ${s.name}: ${iw.message ?? ''}` };
    const t = s.state?.terminated;
    if (t && t.exitCode !== 0)
      return {
        reason: 'InitContainerFailed',
        message: `init container ${s.name} exited with code ${t.exitCode}${t.message ? `: ${t.message.trim()}` : ''}`,
      };
  }
  const sched = pod.status?.conditions?.find((c) => c.type === 'PodScheduled');
  if (sched?.status === 'False' && sched.reason === 'Unschedulable')
    return { reason: 'Unschedulable', message: sched.message ?? '' };
  return undefined;
}

/**
 * Exit code for a runtime start failure, as the docker CLI derives it from moby's message
 * (cli/command/container/start.go, moby daemon/start.go translateContainerdStartErr):
 * not found -> 127, permission denied -> 126, anything else -> 128.
 */
export function startFailureExitCode(message: string): number {
  if (/executable file not found|no such file or directory|not found/i.test(message)) return 127;
  if (/permission denied|is a directory/i.test(message)) return 126;
  return 128;
}

/** The summary of a finished run from its Pod, or undefined while it has not finished. */
export function runSummary(pod: PodLike | undefined): RunSummary | undefined {
  const t = mainStatus(pod)?.state?.terminated;
  if (!t) return undefined;
  return {
    exitCode: t.exitCode,
    startedAt: t.startedAt ?? ZERO_TIME,
    finishedAt: t.finishedAt ?? ZERO_TIME,
    ...(t.reason === 'OOMKilled' ? { oomKilled: true } : {}),
    ...(START_FAILED.has(t.reason ?? '') ? { error: t.message ?? t.reason } : {}),
  };
}

/** Docker's State of a container that never ran (moby container/state.go NewState). */
export const createdState = (): DockerState => ({
  Status: 'created',
  Running: false,
  Paused: false,
  Restarting: false,
  OOMKilled: false,
  Dead: false,
  Pid: 0,
  ExitCode: 0,
  Error: '',
  StartedAt: ZERO_TIME,
  FinishedAt: ZERO_TIME,
});

function exited(s: RunSummary, err = ''): DockerState {
  return {
    ...createdState(),
    Status: 'exited',
    ExitCode: s.exitCode,
    StartedAt: s.startedAt,
    FinishedAt: s.finishedAt,
    OOMKilled: !!s.oomKilled,
    Error: s.error ?? err,
  };
}

/** Docker's State for a container, from its record and the Pod of its current run (if any). */
export function dockerState(rec: ContainerRecord, pod: PodLike | undefined, now = Date.now()): DockerState {
  const st = rec.state;
  if (st.run === 0) {
    return { ...createdState(), ExitCode: st.startError?.exitCode ?? 0, Error: st.startError?.message ?? '' };
  }
  const restarting = st.restarting === true;
  const restartingState = (): DockerState => ({
    ...(st.last ? exited(st.last) : createdState()),
    Status: 'restarting',
    Running: true,
    Restarting: true,
  });
  if (!pod) {
    if (restarting) return restartingState();
    if (st.startError && !st.last)
      return { ...createdState(), ExitCode: st.startError.exitCode, Error: st.startError.message };
    if (st.last) return exited(st.last, st.startError?.message);
    // The Pod vanished before its exit was recorded (deleted outside kuber-api, evicted and GC'd).
    return {
      ...createdState(),
      Status: 'exited',
      ExitCode: 137,
      FinishedAt: ZERO_TIME,
      Error: 'the pod of this container is gone (deleted outside kuber-api); its exit code is unknown',
    };
  }
  const cs = mainStatus(pod);
  const term = cs?.state?.terminated;
  if (term) {
    const sum = runSummary(pod)!;
    if (START_FAILED.has(term.reason ?? '')) {
      const msg = term.message || term.reason || 'the container could not start';
      return { ...(st.last ? exited(st.last) : createdState()), ExitCode: startFailureExitCode(msg), Error: msg };
    }
    return { ...exited(sum), Health: health(rec, pod, now) };
  }
  const running = cs?.state?.running;
  if (running) {
    return {
      ...createdState(),
      Status: 'running',
      Running: true,
      StartedAt: running.startedAt ?? pod.status?.startTime ?? ZERO_TIME,
      Health: health(rec, pod, now),
    };
  }
  // Waiting, or no status yet.
  const phase = pod.status?.phase;
  if (phase === 'Failed' || phase === 'Succeeded') {
    // The pod ended without the container ever running (deadline, eviction before start).
    return {
      ...createdState(),
      Status: 'exited',
      ExitCode: 137,
      FinishedAt: ZERO_TIME,
      Error: `the pod ended before the container ran: ${pod.status?.reason ?? phase}${pod.status?.message ? `: ${pod.status.message}` : ''}`,
    };
  }
  if (restarting) return restartingState();
  const fail = podFailure(pod);
  const err = fail ? `${fail.reason}: ${fail.message}`.replace(/: $/, '') : '';
  if (st.last) return { ...exited(st.last), Error: err };
  return { ...createdState(), Error: err };
}

/**
 * When a container that never became ready counts as unhealthy: Docker needs Retries failed probes
 * after StartPeriod, the first one an Interval after start; one more Interval and 2 s allow for the
 * kubelet's probe scheduling and status reporting, so that a slow first success is not "unhealthy".
 */
export function giveUpMs(t: { interval: number; retries: number; startPeriod: number }): number {
  return (t.startPeriod + t.interval * (t.retries + 1)) * 1000 + 2000;
}

/** State.Health derived from the readiness probe (see the module comment); undefined without a healthcheck. */
export function health(rec: ContainerRecord, pod: PodLike | undefined, now = Date.now()): DockerHealth | undefined {
  if (!readinessProbe(rec.config.Healthcheck)) return undefined;
  const cs = mainStatus(pod);
  const running = cs?.state?.running;
  const timing = healthTiming(rec.config.Healthcheck);
  const cond =
    pod?.status?.conditions?.find((c) => c.type === 'ContainersReady') ??
    pod?.status?.conditions?.find((c) => c.type === 'Ready');
  const at = cond?.lastTransitionTime ?? new Date(now).toISOString();
  const entry = (code: number, out: string) => [{ Start: at, End: at, ExitCode: code, Output: out }];
  const DERIVED = "(derived from the pod's readiness probe: kuber-api does not keep probe output)";
  if (!running) return { Status: 'unhealthy', FailingStreak: 0, Log: [] };
  if (cs?.ready) return { Status: 'healthy', FailingStreak: 0, Log: entry(0, `ready ${DERIVED}`) };
  const startedAt = Date.parse(running.startedAt ?? '') || now;
  // Ready turns False after a success only after Retries failed probes: a False transition that
  // late is a healthy -> unhealthy change, not the initial "not yet ready" written at pod start.
  const minFlip = Math.max(500, timing.interval * timing.retries * 1000 - 1000);
  const turnedUnready =
    cond?.status === 'False' &&
    cond.lastTransitionTime !== undefined &&
    Date.parse(cond.lastTransitionTime) > startedAt + minFlip;
  const gaveUp = now - startedAt > giveUpMs(timing);
  if (turnedUnready || gaveUp)
    return { Status: 'unhealthy', FailingStreak: timing.retries, Log: entry(1, `not ready ${DERIVED}`) };
  return { Status: 'starting', FailingStreak: 0, Log: [] };
}
