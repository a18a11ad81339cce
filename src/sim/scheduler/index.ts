/**
 * @module sim/scheduler
 * kube-sim's default-scheduler: binds each Pod whose schedulerName is `default-scheduler` (no
 * nodeName, no schedulingGates, not being deleted) to one of the Node objects, as kube-scheduler's
 * scheduling cycle does: PreFilter and Filter (filters.ts), a simplified Score (preferred
 * affinities, then the node with the fewest Pods, then the name), and the bind (spec.nodeName,
 * PodScheduled True, a `Scheduled` event). A Pod no node fits stays Pending with PodScheduled
 * False/Unschedulable and a `FailedScheduling` Warning carrying the real FitError text; it is tried
 * again when something that could change the answer changes (a Node, a claim, a volume, a class,
 * another Pod's arrival, departure, labels or node) — the scheduling queue's cluster events.
 * Delayed binding (VolumeBinding PreBind): an unbound WaitForFirstConsumer claim of the chosen node
 * gets `volume.kubernetes.io/selected-node`; the Pod is bound once the PV controller has bound
 * every claim (the volume then carries the node affinity that keeps the Pod on that node).
 */
import { childLogger } from '../../log.js';
import { deepEqual } from '../store/patch.js';
import { defOf } from '../store/resources.js';
import type { Store, StoreEvent } from '../store/store.js';
import { claimsOfPod, now, SELECTED_NODE } from '../storage/common.js';
import type { KObject } from '../types.js';
import { filterNode, preFilter, preferenceScore } from './filters.js';
import { fitError, NO_NODES } from './fit-error.js';
import { Snapshot } from './snapshot.js';
import type { Status } from './types.js';

type Obj = Record<string, any>;

const PODS = defOf({ group: '', resource: 'pods' });
const PVC = defOf({ group: '', resource: 'persistentvolumeclaims' });
const CLUSTER = [
  defOf({ group: '', resource: 'nodes' }),
  PVC,
  defOf({ group: '', resource: 'persistentvolumes' }),
  defOf({ group: 'storage.k8s.io', resource: 'storageclasses' }),
];
export const SCHEDULER_NAME = 'default-scheduler';

const key = (p: KObject) => `${p.metadata.namespace}/${p.metadata.name}`;

/** Is this Pod for us to schedule now? */
function pending(p: Obj): boolean {
  const s = p.spec ?? {};
  return (
    !s.nodeName &&
    (s.schedulerName ?? SCHEDULER_NAME) === SCHEDULER_NAME &&
    !(s.schedulingGates ?? []).length &&
    !p.metadata.deletionTimestamp &&
    p.status?.phase !== 'Succeeded' &&
    p.status?.phase !== 'Failed'
  );
}

export class Scheduler {
  private readonly log = childLogger({ component: 'kube-sim-scheduler' });
  private readonly unsubs: Array<() => void> = [];
  /** Pods to try in the next pass ("ns/name"). */
  private readonly queue = new Set<string>();
  /** Pods that did not fit at their last try (the unschedulable queue). */
  private readonly waiting = new Set<string>();
  private scheduled = false;

  constructor(private readonly store: Store) {}

  start(): void {
    this.unsubs.push(this.store.subscribe(PODS, (ev) => this.onPod(ev as StoreEvent)));
    for (const def of CLUSTER) this.unsubs.push(this.store.subscribe(def, () => this.retryWaiting()));
    for (const p of this.store.list(PODS, undefined)) if (pending(p as Obj)) this.queue.add(key(p));
    this.soon();
  }

  stop(): void {
    for (const u of this.unsubs.splice(0)) u();
    this.queue.clear();
    this.waiting.clear();
  }

  private onPod(ev: StoreEvent): void {
    const p = ev.object as Obj,
      prev = ev.prev as Obj | undefined;
    if (ev.type !== 'DELETED' && pending(p)) {
      // Our own status writes change nothing the filters read: only a new Pod or a changed spec/labels is tried again.
      if (
        !prev ||
        !pending(prev) ||
        !deepEqual(prev.spec, p.spec) ||
        !deepEqual(prev.metadata.labels ?? {}, p.metadata.labels ?? {})
      )
        this.enqueue(key(p as KObject));
      return;
    }
    this.waiting.delete(key(p as KObject));
    // Another Pod came, went, moved or changed labels: it may free (or fill) a node for the waiting ones.
    const relevant =
      ev.type !== 'MODIFIED' ||
      !prev ||
      prev.spec?.nodeName !== p.spec?.nodeName ||
      !deepEqual(prev.metadata.labels ?? {}, p.metadata.labels ?? {}) ||
      prev.status?.phase !== p.status?.phase;
    if (relevant) this.retryWaiting();
  }

  private enqueue(k: string): void {
    this.queue.add(k);
    this.soon();
  }

  private retryWaiting(): void {
    if (!this.waiting.size) return;
    for (const k of this.waiting) this.queue.add(k);
    this.soon();
  }

  private soon(): void {
    if (this.scheduled || !this.queue.size) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      const keys = [...this.queue];
      this.queue.clear();
      for (const k of keys) {
        const [ns, name] = k.split('/') as [string, string];
        const p = this.store.get(PODS, ns, name) as Obj | undefined;
        if (!p || !pending(p)) {
          this.waiting.delete(k);
          continue;
        }
        try {
          this.scheduleOne(p);
        } catch (err) {
          this.log.warn({ err, pod: k }, 'scheduling attempt failed');
        }
      }
    });
  }

  /** One scheduling cycle for one Pod. */
  private scheduleOne(pod: Obj): void {
    const k = key(pod as KObject);
    const snap = new Snapshot(this.store);
    if (!snap.nodes.length) return this.unschedulable(pod, NO_NODES);
    const pre = preFilter(pod, snap);
    if (pre.error) return this.unschedulable(pod, pre.error);
    if (pre.status)
      return this.unschedulable(
        pod,
        fitError(
          snap.nodes.length,
          snap.nodes.map(() => pre.status!),
          pre.status.reason,
        ),
      );
    const statuses: Status[] = [];
    const feasible: Obj[] = [];
    for (const n of snap.nodes) {
      const st = filterNode(pod, n, snap, pre);
      if (st) statuses.push(st);
      else feasible.push(n);
    }
    if (!feasible.length) return this.unschedulable(pod, fitError(snap.nodes.length, statuses));
    const scored = feasible.map((n) => ({
      n,
      pref: preferenceScore(pod, n, snap),
      load: snap.podsOn(n.metadata.name).length,
    }));
    scored.sort((a, b) => b.pref - a.pref || a.load - b.load || (a.n.metadata.name < b.n.metadata.name ? -1 : 1));
    const node: string = scored[0]!.n.metadata.name;
    if (!this.claimsReady(pod, node)) {
      // PreBind waits for the PV controller; the claim's change brings the Pod back.
      this.waiting.add(k);
      return;
    }
    this.waiting.delete(k);
    this.bind(pod, node);
  }

  /** VolumeBinding PreBind: every claim bound, after asking for the delayed ones to be provisioned on `node`. */
  private claimsReady(pod: Obj, node: string): boolean {
    let ready = true;
    for (const name of claimsOfPod(pod)) {
      const c = this.store.get(PVC, pod.metadata.namespace, name) as Obj | undefined;
      if (!c || c.spec?.volumeName) continue;
      ready = false;
      if (!c.metadata.annotations?.[SELECTED_NODE]) {
        this.store.mutate(PVC, pod.metadata.namespace, name, (o) => {
          o.metadata.annotations = { ...(o.metadata.annotations ?? {}), [SELECTED_NODE]: node };
        });
      }
    }
    return ready;
  }

  private bind(pod: Obj, node: string): void {
    const uid = pod.metadata.uid;
    const bound = this.store.mutate(PODS, pod.metadata.namespace, pod.metadata.name, (o: Obj) => {
      if (o.metadata.uid !== uid || o.spec.nodeName) return;
      o.spec.nodeName = node;
      const conds: Obj[] = ((o.status ??= {}).conditions ??= []);
      const c = conds.find((x) => x.type === 'PodScheduled');
      const fresh = { type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: now() };
      if (c) Object.assign(c, fresh, { reason: undefined, message: undefined });
      else conds.push(fresh);
    });
    if (bound && bound.metadata.uid === uid && (bound as Obj).spec.nodeName === node) {
      this.store.recordEvent(
        bound,
        'Normal',
        'Scheduled',
        `Successfully assigned ${pod.metadata.namespace}/${pod.metadata.name} to ${node}`,
        SCHEDULER_NAME,
      );
    }
  }

  private unschedulable(pod: Obj, message: string): void {
    this.waiting.add(key(pod as KObject));
    const updated = this.store.mutate(PODS, pod.metadata.namespace, pod.metadata.name, (o: Obj) => {
      const conds: Obj[] = ((o.status ??= {}).conditions ??= []);
      const c = conds.find((x) => x.type === 'PodScheduled');
      if (c && c.status === 'False' && c.message === message) return;
      const cond = {
        type: 'PodScheduled',
        status: 'False',
        lastProbeTime: null,
        lastTransitionTime: now(),
        reason: 'Unschedulable',
        message,
      };
      if (c) Object.assign(c, cond);
      else conds.push(cond);
    });
    if (updated) this.store.recordEvent(updated, 'Warning', 'FailedScheduling', message, SCHEDULER_NAME);
  }
}
