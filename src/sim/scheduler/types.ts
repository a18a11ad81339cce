/**
 * @module sim/scheduler/types
 * What the scheduler's plugins answer (a status with the plugin's reason) and what they read of the
 * cluster (the pass's snapshot, snapshot.ts), so the plugin files depend on this one and not on
 * each other.
 */
type Obj = Record<string, any>;

/** framework.Code: Unschedulable (preemption might help) or UnschedulableAndUnresolvable (it cannot). */
export type Code = 'Unschedulable' | 'UnschedulableAndUnresolvable';
export interface Status {
  code: Code;
  reason: string;
}

export interface ClusterView {
  readonly nodes: Obj[];
  /** Pods bound to a node that have not finished. */
  readonly assigned: Obj[];
  node(name: string): Obj | undefined;
  podsOn(node: string): Obj[];
  claim(ns: string, name: string): Obj | undefined;
  volume(name: string): Obj | undefined;
  storageClass(name: string): Obj | undefined;
  nsLabels(ns: string): Record<string, string>;
  claimUsers(ns: string, claim: string, except?: string): number;
  staticVolumeFor(c: Obj, node: Obj): Obj | undefined;
  termSatisfiedOn(owner: Obj, term: Obj, node: Obj): boolean;
}
