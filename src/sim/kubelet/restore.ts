/**
 * @module sim/kubelet/restore
 * A kubelet started again on a persisted store (kube-sim restarted, store/persist.ts) finds the pods
 * it ran before; their processes ended with the previous kube-sim process. As a kubelet after a node
 * reboot does it:
 * - a pod with restartPolicy Never whose containers already ran is not started again
 *   (pkg/kubelet/kuberuntime/kuberuntime_manager.go computePodActions: "Should not restart the pod,
 *   just return"): it becomes Failed, and each container that was still running or waiting is
 *   reported terminated as ContainerStatusUnknown, exit code 137, "The container could not be
 *   located when the pod was terminated" (pkg/kubelet/kubelet_pods.go convertToAPIContainerStatuses);
 * - a pod that had already finished keeps its status;
 * - either way its logs stay readable (`kubectl logs`, `--previous`): the worker rebuilt here only
 *   serves them, from the log files the previous process left in the pod directory.
 * Pods with another restart policy take the normal path (a new sandbox, the containers started again).
 */
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { PODS, type KObject } from '../types.js';
import { ContainerInstance } from './container.js';
import { now, type TerminatedState } from './pod-status.js';
import { PodWorker, type WorkerEnv } from './pod-worker.js';
import type { ContainerView } from './sandbox.js';

type Obj = Record<string, any>;

const LOST = {
  exitCode: 137,
  reason: 'ContainerStatusUnknown',
  message: 'The container could not be located when the pod was terminated',
};

/** Did a previous kubelet process run this pod here (it has a start time and is bound to our node)? */
function ranBefore(pod: KObject, nodeNames: readonly string[]): boolean {
  const p = pod as Obj;
  return !!p.status?.startTime && nodeNames.includes(p.spec?.nodeName) && !pod.metadata.deletionTimestamp;
}

/** The terminated status of a container whose process is gone (running or waiting when kube-sim stopped). */
export function lostContainerStatus(st: Obj, at: string): Obj {
  if (st.state?.terminated) return st;
  const terminated: Obj = { ...LOST, startedAt: st.state?.running?.startedAt ?? null, finishedAt: at };
  if (st.containerID) terminated.containerID = st.containerID;
  return { ...st, state: { terminated }, ready: false, started: false };
}

/** Mark a pod whose containers died with the previous kube-sim Failed (in the store); the new pod. */
function failLostPod(env: WorkerEnv, pod: KObject): KObject | undefined {
  const at = now();
  return env.store.mutate(PODS, pod.metadata.namespace, pod.metadata.name ?? '', (o) => {
    if (o.metadata.uid !== pod.metadata.uid) return;
    const st = ((o as Obj).status ??= {});
    st.phase = 'Failed';
    for (const key of ['initContainerStatuses', 'containerStatuses'])
      if (st[key]) st[key] = (st[key] as Obj[]).map((c) => lostContainerStatus(c, at));
    for (const c of (st.conditions ?? []) as Obj[]) {
      if (c.type === 'Ready' || c.type === 'ContainersReady')
        Object.assign(c, { status: 'False', reason: 'PodCompleted', lastTransitionTime: at });
      else if (c.type === 'PodReadyToStartContainers') Object.assign(c, { status: 'False', lastTransitionTime: at });
    }
  });
}

/** A finished container instance, as the previous process left it: its ID and its log file. */
function pastInstance(
  name: string,
  logPath: string,
  containerID: string,
  term: Obj | undefined,
  hwm: number,
): ContainerInstance {
  const view: ContainerView = { rootfs: 'host', mounts: [], cwd: '/', caps: [] };
  const inst = new ContainerInstance(name, logPath, view, {}, false, false, false, hwm);
  (inst as { id: string }).id = containerID.replace(/^[a-z]+:\/\//, '');
  inst.startedAt = term?.startedAt ?? '';
  inst.finishedAt = term?.finishedAt ?? '';
  let size = 0;
  try {
    size = statSync(logPath).size;
  } catch {
    /* no output was ever logged */
  }
  inst.log.size = size;
  inst.log.ended = true;
  return inst;
}

const terminatedState = (t: Obj): TerminatedState => ({
  exitCode: t.exitCode,
  reason: t.reason,
  message: t.message,
  startedAt: t.startedAt ?? '',
  finishedAt: t.finishedAt ?? '',
  containerID: t.containerID,
  signal: t.signal,
});

/** Give a fresh worker the containers' history from the pod status: their instances and terminations. */
function rebuildHistory(w: PodWorker, pod: KObject, hwm: number): void {
  const st = (pod as Obj).status ?? {};
  const statuses = [...((st.initContainerStatuses ?? []) as Obj[]), ...((st.containerStatuses ?? []) as Obj[])];
  for (const cs of [...w.init, ...w.main]) {
    const s = statuses.find((x) => x.name === cs.name);
    if (!s?.containerID) continue;
    const n = Number(s.restartCount ?? 0);
    const logs = join(w.dir, 'logs', cs.name);
    const prev = s.lastState?.terminated;
    if (prev?.containerID && n > 0)
      cs.instances.push(pastInstance(cs.name, join(logs, `${n - 1}.log`), prev.containerID, prev, hwm));
    cs.instances.push(pastInstance(cs.name, join(logs, `${n}.log`), s.containerID, s.state?.terminated, hwm));
    cs.created = n + 1;
    cs.history = [prev, s.state?.terminated].filter(Boolean).map(terminatedState);
  }
}

/**
 * For a pod the previous kube-sim process ran and that will not run again: a worker that serves its
 * logs (never started), after failing the pod if it was still running. Undefined: take the normal path.
 */
export function restoredWorker(pod: KObject, env: WorkerEnv): PodWorker | undefined {
  if (!ranBefore(pod, env.cfg.nodeNames)) return undefined;
  const phase = (pod as Obj).status?.phase;
  const terminal = phase === 'Succeeded' || phase === 'Failed';
  if (!terminal && (pod as Obj).spec?.restartPolicy !== 'Never') return undefined;
  const current = terminal ? pod : failLostPod(env, pod);
  if (!current) return undefined;
  const w = new PodWorker(current, env);
  rebuildHistory(w, current, env.cfg.logHighWaterMark);
  return w;
}
