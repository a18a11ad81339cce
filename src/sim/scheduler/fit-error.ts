/**
 * @module sim/scheduler/fit-error
 * The FailedScheduling message (pkg/scheduler/framework/types.go FitError.Error): "0/N nodes are
 * available:" then the PreFilter message, or the histogram of the Filter reasons ("%v %v", count
 * and reason, sorted as strings, joined by ", "), each part ending in "."; then the PostFilter
 * (DefaultPreemption) message, "preemption: 0/N nodes are available: " and its own histogram:
 * nodes rejected as UnschedulableAndUnresolvable are "Preemption is not helpful for scheduling",
 * the others "No preemption victims found for incoming pod" (kube-sim never preempts: every Pod
 * it could evict has the same priority in practice).
 */
import type { Status } from './types.js';

const histogram = (reasons: string[]): string => {
  const counts = new Map<string, number>();
  for (const r of reasons) counts.set(r, (counts.get(r) ?? 0) + 1);
  return [...counts]
    .map(([r, n]) => `${n} ${r}`)
    .sort()
    .join(', ');
};

export function fitError(numNodes: number, statuses: Status[], preFilterMsg?: string): string {
  let msg = `0/${numNodes} nodes are available:`;
  if (preFilterMsg) msg += ` ${preFilterMsg}.`;
  else if (statuses.length) msg += ` ${histogram(statuses.map((s) => s.reason))}.`;
  const preemption = statuses.map((s) =>
    s.code === 'UnschedulableAndUnresolvable'
      ? 'Preemption is not helpful for scheduling'
      : 'No preemption victims found for incoming pod',
  );
  if (preemption.length) msg += ` preemption: 0/${numNodes} nodes are available: ${histogram(preemption)}.`;
  return msg;
}

/** The scheduler's error when the cluster has no node at all (ErrNoNodesAvailable). */
export const NO_NODES = 'no nodes available to schedule pods';
