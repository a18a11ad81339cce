/**
 * @module sim/kubelet/pod-status
 * Pod status as the kubelet generates it (pkg/kubelet/kubelet_pods.go generateAPIPodStatus,
 * getPhase, convertToAPIContainerStatuses; pkg/kubelet/status/generate.go for the conditions):
 * pure functions from the worker's container states to the API object.
 */

import { qosClass } from '../store/defaults.js';

type Obj = Record<string, any>;

export interface TerminatedState {
  exitCode: number;
  reason: string;
  message?: string;
  startedAt: string;
  finishedAt: string;
  containerID?: string;
  signal?: number;
}

/** What the worker knows about one container (spec order preserved by the caller). */
export interface ContainerSnapshot {
  name: string;
  image: string;
  imageID: string;
  containerID?: string;
  restartCount: number;
  ready: boolean;
  started: boolean;
  running?: { startedAt: string };
  terminated?: TerminatedState;
  waiting?: { reason: string; message?: string };
  lastTerminated?: TerminatedState;
  volumeMounts: Obj[];
  /** Native sidecar (init container with restartPolicy: Always). */
  sidecar?: boolean;
}

export const now = () => new Date().toISOString().replace(/\.\d+Z$/, 'Z');

function state(c: ContainerSnapshot): Obj {
  if (c.running) return { running: { startedAt: c.running.startedAt } };
  if (c.terminated) return { terminated: { ...c.terminated } };
  const w: Obj = { reason: c.waiting?.reason ?? 'ContainerCreating' };
  if (c.waiting?.message) w.message = c.waiting.message;
  return { waiting: w };
}

export function containerStatus(c: ContainerSnapshot): Obj {
  const s: Obj = {
    name: c.name,
    state: state(c),
    lastState: c.lastTerminated ? { terminated: { ...c.lastTerminated } } : {},
    ready: c.ready,
    restartCount: c.restartCount,
    image: c.image,
    imageID: c.imageID,
  };
  if (c.containerID) s.containerID = c.containerID;
  s.started = c.started;
  if (c.volumeMounts.length) s.volumeMounts = c.volumeMounts;
  return s;
}

/** getPhase: Pending / Running / Succeeded / Failed from the containers' states. */
export function podPhase(
  restartPolicy: string,
  init: ContainerSnapshot[],
  main: ContainerSnapshot[],
  podIsTerminal: boolean,
): string {
  let pendingInit = 0;
  let failedInit = 0;
  for (const c of init) {
    if (c.sidecar) {
      if (!c.started) pendingInit++;
      continue;
    }
    if (c.running) pendingInit++;
    else if (c.terminated) {
      if (c.terminated.exitCode !== 0) failedInit++;
    } else if (c.lastTerminated) {
      if (c.lastTerminated.exitCode !== 0) failedInit++;
    } else pendingInit++;
  }
  let running = 0,
    waiting = 0,
    stopped = 0,
    succeeded = 0;
  for (const c of main) {
    if (c.running) running++;
    else if (c.terminated) {
      stopped++;
      if (c.terminated.exitCode === 0) succeeded++;
    } else if (c.lastTerminated) stopped++;
    else waiting++;
  }
  if (failedInit > 0 && restartPolicy === 'Never') return 'Failed';
  const anyStarted = main.some((c) => c.running || c.terminated || c.lastTerminated);
  if ((pendingInit > 0 && !anyStarted) || waiting > 0) return 'Pending';
  if (running > 0) return 'Running';
  if (running === 0 && stopped > 0) {
    if (podIsTerminal) return stopped === succeeded ? 'Succeeded' : 'Failed';
    if (restartPolicy === 'Always') return 'Running';
    if (stopped === succeeded) return 'Succeeded';
    if (restartPolicy === 'Never') return 'Failed';
    return 'Running';
  }
  return 'Pending';
}

export interface PodConditionsInput {
  sandboxReady: boolean;
  init: ContainerSnapshot[];
  main: ContainerSnapshot[];
  phase: string;
  readinessGates: string[];
  existing: Obj[];
}

const KUBELET_CONDITIONS = new Set([
  'PodReadyToStartContainers',
  'Initialized',
  'Ready',
  'ContainersReady',
  'PodScheduled',
]);

function cond(type: string, ok: boolean, reason?: string, message?: string): Obj {
  const c: Obj = { type, status: ok ? 'True' : 'False', lastProbeTime: null };
  if (reason) c.reason = reason;
  if (message) c.message = message;
  return c;
}

/** The kubelet's conditions (status/generate.go), keeping transition times of unchanged ones. */
export function podConditions(i: PodConditionsInput): Obj[] {
  const done = i.phase === 'Succeeded' || i.phase === 'Failed';
  const out: Obj[] = [];
  out.push(cond('PodReadyToStartContainers', i.sandboxReady));
  // Initialized
  const incomplete = i.init.filter((c) => (c.sidecar ? !c.started : !(c.terminated && c.terminated.exitCode === 0)));
  if (!i.init.length || !incomplete.length)
    out.push(cond('Initialized', true, done && i.init.length ? 'PodCompleted' : undefined));
  else
    out.push(
      cond(
        'Initialized',
        false,
        'ContainersNotInitialized',
        `containers with incomplete status: [${incomplete.map((c) => c.name).join(' ')}]`,
      ),
    );
  // ContainersReady / Ready
  const unready = [...i.init.filter((c) => c.sidecar), ...i.main].filter((c) => !c.ready).map((c) => c.name);
  let ready: Obj;
  let containersReady: Obj;
  if (done) {
    ready = cond('Ready', false, 'PodCompleted');
    containersReady = cond('ContainersReady', false, 'PodCompleted');
  } else if (unready.length) {
    const msg = `containers with unready status: [${unready.join(' ')}]`;
    ready = cond('Ready', false, 'ContainersNotReady', msg);
    containersReady = cond('ContainersReady', false, 'ContainersNotReady', msg);
  } else {
    containersReady = cond('ContainersReady', true);
    const gatesMissing = i.readinessGates.filter((g) => !i.existing.some((c) => c.type === g && c.status === 'True'));
    ready = gatesMissing.length
      ? cond(
          'Ready',
          false,
          'ReadinessGatesNotReady',
          `corresponding condition of pod readiness gate "${gatesMissing[0]}" does not exist.`,
        )
      : cond('Ready', true);
  }
  out.push(ready, containersReady, cond('PodScheduled', true));
  const t = now();
  for (const c of out) {
    const prev = i.existing.find((e) => e.type === c.type);
    c.lastTransitionTime = prev && prev.status === c.status && prev.lastTransitionTime ? prev.lastTransitionTime : t;
  }
  // Conditions owned by others (readiness gates, DisruptionTarget...) are preserved.
  for (const e of i.existing) if (!KUBELET_CONDITIONS.has(e.type)) out.push(e);
  return out;
}

/** kubelet sorts containerStatuses by name; init container statuses stay in spec order. */
export function sortByName(statuses: Obj[]): Obj[] {
  return [...statuses].sort((a, b) => String(a.name).localeCompare(String(b.name)));
}

export interface PodStatusInput {
  spec: Obj;
  init: ContainerSnapshot[];
  main: ContainerSnapshot[];
  /** The pod will run nothing more (all done, deleted, or past its deadline). */
  terminal: boolean;
  podReason?: { reason: string; message: string };
  sandboxReady: boolean;
  hostIP: string;
  podIP?: string;
  startTime?: string;
  /** The status in the store (conditions owned by others, qosClass, a terminal phase). */
  existing: Obj;
}

/** generateAPIPodStatus: phase, conditions, IPs, startTime, container statuses, qosClass. */
export function buildPodStatus(i: PodStatusInput): Obj {
  const existing = i.existing;
  let phase = podPhase(i.spec.restartPolicy ?? 'Always', i.init, i.main, i.terminal);
  if (i.podReason) phase = 'Failed';
  // A terminal phase is never left (the kubelet's "illegal phase transition" guard).
  if ((existing.phase === 'Succeeded' || existing.phase === 'Failed') && phase !== existing.phase)
    phase = existing.phase;
  const status: Obj = {
    phase,
    conditions: podConditions({
      sandboxReady: i.sandboxReady,
      init: i.init,
      main: i.main,
      phase,
      readinessGates: ((i.spec.readinessGates ?? []) as Obj[]).map((g) => g.conditionType),
      existing: existing.conditions ?? [],
    }),
  };
  if (i.podReason) {
    status.reason = i.podReason.reason;
    status.message = i.podReason.message;
  }
  status.hostIP = i.hostIP;
  status.hostIPs = [{ ip: i.hostIP }];
  const ip = i.podIP ?? existing.podIP;
  if (ip) {
    status.podIP = ip;
    status.podIPs = [{ ip }];
  }
  if (i.startTime) status.startTime = i.startTime;
  if (i.init.length) status.initContainerStatuses = i.init.map(containerStatus);
  status.containerStatuses = sortByName(i.main.map(containerStatus));
  status.qosClass = existing.qosClass ?? qosClass(i.spec);
  return status;
}
