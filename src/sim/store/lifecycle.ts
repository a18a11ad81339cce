/**
 * @module sim/store/lifecycle
 * Deletion as the real control plane does it, plus the controllers every cluster runs:
 * - DELETE: preconditions, pod graceful deletion (pkg/registry/core/pod/strategy.go
 *   CheckGracefulDelete), finalizers, propagationPolicy Orphan/Background/Foreground;
 * - the garbage collector (pkg/controller/garbagecollector): dependents of a deleted owner are
 *   deleted when none of their owners remain, dangling references to live owners are removed,
 *   a Foreground owner waits for its dependents (finalizer `foregroundDeletion`);
 * - the namespace controller (Terminating -> contents deleted -> namespace gone);
 * - the serviceaccounts controller (`default` SA per namespace) and the root-ca publisher
 *   (`kube-root-ca.crt` ConfigMap per namespace).
 * Controllers run asynchronously (setImmediate), as real controllers run after the write.
 */
import { StatusError, conflict, notFound } from '../status.js';
import type { KObject } from '../types.js';
import { defOf, defOfKind, resourceKey, RESOURCES, type ResourceDef } from './resources.js';
import { NAMESPACE_DEF, now, type Store, type StoreEvent } from './store.js';
import { servicesFor, syncEndpoints } from './endpoints.js';

type Obj = Record<string, any>;

export interface DeleteOptions {
  gracePeriodSeconds?: number;
  propagationPolicy?: 'Orphan' | 'Background' | 'Foreground';
  orphanDependents?: boolean;
  preconditions?: { uid?: string; resourceVersion?: string };
  dryRun?: boolean;
}

export interface DeleteResult {
  /** The final state (gone) or the object now marked for deletion. */
  object: KObject;
  gone: boolean;
}

const PROTECTED_NAMESPACES = new Set(['default', 'kube-system', 'kube-public']);
const SA = defOf({ group: '', resource: 'serviceaccounts' });
const CM = defOf({ group: '', resource: 'configmaps' });
const ROOT_CA = 'kube-root-ca.crt';
const NAMESPACED = RESOURCES.filter((r) => r.namespaced);
const PODS = defOf({ group: '', resource: 'pods' });
const SVC = defOf({ group: '', resource: 'services' });
const EP = defOf({ group: '', resource: 'endpoints' });

export class Lifecycle {
  private pending = new Set<string>();
  private scheduled = false;
  private work: Array<() => void> = [];

  constructor(
    readonly store: Store,
    private readonly opts: { caPem?: string } = {},
  ) {
    store.afterWrite.push((def, ev) => this.onWrite(def, ev));
  }

  // ------------------------------------------------------------------ DELETE

  delete(def: ResourceDef, namespace: string | undefined, name: string, o: DeleteOptions = {}): DeleteResult {
    const store = this.store;
    const cur = store.get(def, namespace, name);
    if (!cur) throw notFound(def.resource, name, def.group);
    const m = cur.metadata;
    const qn = def.group ? `${def.resource}.${def.group}` : def.resource;
    if (o.preconditions?.uid && o.preconditions.uid !== m.uid)
      throw conflict(
        qn,
        name,
        `Precondition failed: UID in precondition: ${o.preconditions.uid}, UID in object meta: ${m.uid}`,
      );
    if (o.preconditions?.resourceVersion && o.preconditions.resourceVersion !== m.resourceVersion)
      throw conflict(
        qn,
        name,
        `Precondition failed: ResourceVersion in precondition: ${o.preconditions.resourceVersion}, ResourceVersion in object meta: ${m.resourceVersion}`,
      );
    const policy =
      o.propagationPolicy ??
      (o.orphanDependents === true ? 'Orphan' : o.orphanDependents === false ? 'Background' : undefined);
    if (policy && !['Orphan', 'Background', 'Foreground'].includes(policy))
      throw new StatusError(
        422,
        'Invalid',
        `DeleteOptions.meta.k8s.io "" is invalid: propagationPolicy: Unsupported value: "${policy}": supported values: "Foreground", "Background", "Orphan", "nil"`,
      );
    if (def.resource === 'namespaces') return this.deleteNamespace(cur, o);
    if (o.dryRun) return { object: cur, gone: !m.finalizers?.length };

    if (def.resource === 'pods') {
      const p = cur as Obj;
      const terminal = p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed';
      let grace = o.gracePeriodSeconds ?? p.spec?.terminationGracePeriodSeconds ?? 30;
      if (grace < 0) grace = 1;
      if (p.spec?.nodeName && !terminal && grace > 0) {
        // Graceful: mark, the kubelet finishes through KubeletStore.remove. A second DELETE may
        // only shorten the period (BeforeDelete: "only a shorter grace period may be set").
        if (m.deletionTimestamp && m.deletionGracePeriodSeconds !== undefined && m.deletionGracePeriodSeconds <= grace)
          return { object: cur, gone: false };
        const fins = this.finalizersFor(policy, m.uid!, m.finalizers);
        const updated = store.mutate(def, namespace, name, (x) => {
          x.metadata.deletionTimestamp = new Date(Date.now() + grace * 1000).toISOString().replace(/\.\d+Z$/, 'Z');
          x.metadata.deletionGracePeriodSeconds = grace;
          if (fins.length) x.metadata.finalizers = fins;
          if (def.generation) x.metadata.generation = (x.metadata.generation ?? 1) + 1;
        })!;
        if (policy === 'Orphan') this.orphan(m.uid!);
        return { object: updated, gone: false };
      }
    }
    if (policy === 'Orphan') this.orphan(m.uid!);
    const fins = this.finalizersFor(policy, m.uid!, m.finalizers);
    if (fins.length) {
      if (m.deletionTimestamp) return { object: cur, gone: false };
      const updated = store.mutate(def, namespace, name, (x) => {
        x.metadata.deletionTimestamp = now();
        x.metadata.deletionGracePeriodSeconds = 0;
        x.metadata.finalizers = fins;
      })!;
      if (fins.includes('foregroundDeletion')) this.enqueueDependents(m.uid!);
      return { object: updated, gone: false };
    }
    return { object: store.erase(def, cur), gone: true };
  }

  private finalizersFor(policy: string | undefined, uid: string, existing: string[] | undefined): string[] {
    const fins = [...(existing ?? [])];
    if (policy === 'Foreground' && this.liveDependents(uid).length && !fins.includes('foregroundDeletion'))
      fins.push('foregroundDeletion');
    return fins;
  }

  /** DeleteCollection: every matching object, each as a DELETE (returns the deleted ones). */
  deleteCollection(def: ResourceDef, items: KObject[], o: DeleteOptions = {}): KObject[] {
    const out: KObject[] = [];
    for (const it of items) {
      try {
        out.push(this.delete(def, it.metadata.namespace, it.metadata.name!, o).object);
      } catch (err) {
        if (!(err instanceof StatusError && err.code === 404)) throw err;
      }
    }
    return out;
  }

  private deleteNamespace(cur: KObject, o: DeleteOptions): DeleteResult {
    const name = cur.metadata.name!;
    if (PROTECTED_NAMESPACES.has(name)) {
      throw new StatusError(403, 'Forbidden', `namespaces "${name}" is forbidden: this namespace may not be deleted`, {
        name,
        kind: 'namespaces',
      });
    }
    if (cur.metadata.deletionTimestamp || o.dryRun) return { object: cur, gone: false };
    const updated = this.store.mutate(NAMESPACE_DEF, undefined, name, (x: Obj) => {
      x.metadata.deletionTimestamp = now();
      x.metadata.deletionGracePeriodSeconds = 0;
      x.status = { ...(x.status ?? {}), phase: 'Terminating' };
    })!;
    this.defer(() => this.sweepNamespace(name));
    return { object: updated, gone: false };
  }

  // ------------------------------------------------------------------ controllers

  private defer(fn: () => void): void {
    this.work.push(fn);
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      const batch = this.work.splice(0);
      for (const f of batch) {
        try {
          f();
        } catch (err) {
          if (!(err instanceof StatusError)) process.emitWarning(`kube-sim controller: ${(err as Error).stack ?? err}`);
        }
      }
    });
  }

  private onWrite(def: ResourceDef, ev: StoreEvent): void {
    const o = ev.object;
    const m = o.metadata;
    if (def.resource === 'namespaces') {
      if (ev.type === 'ADDED') this.defer(() => this.populateNamespace(m.name!));
      return;
    }
    if (ev.type === 'ADDED' && m.ownerReferences?.length) this.enqueue(def, o);
    if (def === SVC && m.namespace) {
      const ns = m.namespace,
        name = m.name!;
      if (ev.type === 'DELETED') {
        this.defer(() => {
          const ep = this.store.get(EP, ns, name);
          if (ep && (ev.object as Record<string, any>).spec?.selector) this.store.erase(EP, ep);
        });
      } else this.syncSoon(ns, name);
    }
    if (def === PODS && m.namespace) {
      const ns = m.namespace;
      for (const svc of servicesFor(this.store, ns, [m.labels, ev.prev?.metadata.labels])) this.syncSoon(ns, svc);
    }
    if (ev.type === 'DELETED') {
      const deps = this.store.dependents.get(m.uid!);
      if (deps?.size) this.enqueueDependents(m.uid!);
      for (const r of ev.prev?.metadata.ownerReferences ?? []) this.defer(() => this.checkForegroundOwner(r.uid));
      if (def.namespaced && m.namespace) {
        const ns = m.namespace;
        this.defer(() => {
          const n = this.store.get(NAMESPACE_DEF, undefined, ns);
          if (n?.metadata.deletionTimestamp) this.finishNamespace(ns);
          else if (n && def === SA && m.name === 'default') this.populateNamespace(ns);
          else if (n && def === CM && m.name === ROOT_CA) this.populateNamespace(ns);
        });
      }
    }
    if (ev.type === 'MODIFIED' && ev.prev) {
      // An ownerReference removed from a dependent may unblock a Foreground owner.
      const now = new Set((m.ownerReferences ?? []).map((r) => r.uid));
      for (const r of ev.prev.metadata.ownerReferences ?? [])
        if (!now.has(r.uid)) this.defer(() => this.checkForegroundOwner(r.uid));
    }
  }

  private endpointsDue = new Set<string>();
  /** Coalesce endpoint syncs: one per service per controller pass. */
  private syncSoon(ns: string, name: string): void {
    const key = `${ns}/${name}`;
    if (this.endpointsDue.has(key)) return;
    this.endpointsDue.add(key);
    this.defer(() => {
      this.endpointsDue.delete(key);
      syncEndpoints(this.store, ns, name);
    });
  }

  private populateNamespace(ns: string): void {
    const n = this.store.get(NAMESPACE_DEF, undefined, ns);
    if (!n || n.metadata.deletionTimestamp) return;
    if (!this.store.get(SA, ns, 'default')) this.store.create(SA, ns, { metadata: { name: 'default' } });
    if (!this.store.get(CM, ns, ROOT_CA)) {
      this.store.create(CM, ns, {
        metadata: {
          name: ROOT_CA,
          annotations: {
            'kubernetes.io/description':
              'Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such as the internal service IP or kubernetes.default.svc. No other usage is guaranteed across distributions of Kubernetes clusters.',
          },
        },
        data: { 'ca.crt': this.opts.caPem ?? '' },
      });
    }
  }

  private sweepNamespace(ns: string): void {
    for (const def of NAMESPACED) {
      for (const o of this.store.list(def, ns)) {
        if (o.metadata.deletionTimestamp) continue;
        try {
          this.delete(def, ns, o.metadata.name!, {});
        } catch (err) {
          if (!(err instanceof StatusError && err.code === 404)) throw err;
        }
      }
    }
    this.finishNamespace(ns);
  }

  private finishNamespace(ns: string): void {
    const n = this.store.get(NAMESPACE_DEF, undefined, ns);
    if (!n?.metadata.deletionTimestamp) return;
    for (const def of NAMESPACED) if (this.store.list(def, ns).length) return;
    const done = this.store.mutate(NAMESPACE_DEF, undefined, ns, (x: Obj) => {
      x.spec = { ...(x.spec ?? {}), finalizers: [] };
    });
    if (done && !(done.metadata.finalizers ?? []).length) this.store.erase(NAMESPACE_DEF, done);
  }

  // ------------------------------------------------------------------ garbage collector

  private enqueueDependents(uid: string): void {
    for (const id of this.store.dependents.get(uid) ?? []) {
      const [key, ns, name] = id.split('|') as [string, string, string];
      const def = RESOURCES.find((r) => resourceKey(r) === key)!;
      const o = this.store.get(def, ns || undefined, name);
      if (o) this.enqueue(def, o);
    }
  }

  private enqueue(def: ResourceDef, o: KObject): void {
    const id = `${resourceKey(def)}|${o.metadata.namespace ?? ''}|${o.metadata.name}`;
    if (this.pending.has(id)) return;
    this.pending.add(id);
    this.defer(() => {
      this.pending.delete(id);
      this.attemptToDelete(def, o.metadata.namespace, o.metadata.name!);
    });
  }

  /** 'alive' | 'foreground' (owner waiting for its dependents) | 'absent' | 'unknown' (kind not served). */
  private ownerState(
    ref: { apiVersion: string; kind: string; name: string; uid: string },
    ns: string | undefined,
  ): string {
    const at = this.store.byUid.get(ref.uid);
    const def = defOfKind(ref.apiVersion, ref.kind);
    if (!def) return 'unknown';
    if (!at || at.def !== def || at.name !== ref.name || (def.namespaced && at.ns !== ns)) return 'absent';
    const owner = this.store.get(def, at.ns, at.name);
    if (!owner) return 'absent';
    if (owner.metadata.deletionTimestamp && owner.metadata.finalizers?.includes('foregroundDeletion'))
      return 'foreground';
    return 'alive';
  }

  private attemptToDelete(def: ResourceDef, ns: string | undefined, name: string): void {
    const o = this.store.get(def, ns, name);
    const refs = o?.metadata.ownerReferences ?? [];
    if (!o || !refs.length) return;
    const states = refs.map((r) => this.ownerState(r, ns));
    const solid = states.filter((s) => s === 'alive' || s === 'unknown').length;
    if (solid) {
      // Remove references to owners that no longer exist ("dangling"), keep the object.
      if (states.includes('absent')) {
        this.store.mutate(def, ns, name, (x) => {
          x.metadata.ownerReferences = refs.filter((_, i) => states[i] !== 'absent');
          if (!x.metadata.ownerReferences.length) delete x.metadata.ownerReferences;
        });
      }
      return;
    }
    if (o.metadata.deletionTimestamp) return;
    const policy = states.includes('foreground') ? 'Foreground' : 'Background';
    this.delete(def, ns, name, { propagationPolicy: policy });
  }

  private liveDependents(uid: string): KObject[] {
    const out: KObject[] = [];
    for (const id of this.store.dependents.get(uid) ?? []) {
      const [key, ns, name] = id.split('|') as [string, string, string];
      const def = RESOURCES.find((r) => resourceKey(r) === key)!;
      const o = this.store.get(def, ns || undefined, name);
      if (o && o.metadata.ownerReferences?.some((r) => r.uid === uid)) out.push(o);
    }
    return out;
  }

  private checkForegroundOwner(uid: string): void {
    const at = this.store.byUid.get(uid);
    if (!at) return;
    const owner = this.store.get(at.def, at.ns, at.name);
    if (!owner?.metadata.deletionTimestamp || !owner.metadata.finalizers?.includes('foregroundDeletion')) return;
    if (this.liveDependents(uid).length) return;
    this.store.mutate(at.def, at.ns, at.name, (x) => {
      x.metadata.finalizers = (x.metadata.finalizers ?? []).filter((f) => f !== 'foregroundDeletion');
      if (!x.metadata.finalizers.length) delete x.metadata.finalizers;
    });
  }

  /** Orphan: remove the owner's reference from every dependent (the GC's orphanDependents). */
  private orphan(uid: string): void {
    for (const d of this.liveDependents(uid)) {
      const def = defOfKind(d.apiVersion, d.kind)!;
      this.store.mutate(def, d.metadata.namespace, d.metadata.name!, (x) => {
        x.metadata.ownerReferences = (x.metadata.ownerReferences ?? []).filter((r) => r.uid !== uid);
        if (!x.metadata.ownerReferences.length) delete x.metadata.ownerReferences;
      });
    }
  }
}
