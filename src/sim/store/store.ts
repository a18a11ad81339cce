/**
 * @module sim/store/store
 * The object store: one map per resource, one global resourceVersion counter (as etcd's revision),
 * a bounded per-resource event history for watch resumption, and ordered synchronous dispatch to
 * subscribers. Stored objects are deep-frozen: every write stores a new object, so reads (get,
 * list, events, list snapshots) share them without copying. Deletion policy (graceful pods,
 * finalizers, GC, namespaces) lives in lifecycle.ts.
 */
import { randomUUID, randomBytes } from 'node:crypto';
import { mountServiceAccountToken } from '../auth/sa-volume.js';
import { StatusError, alreadyExists, badRequest, conflict, notFound } from '../status.js';
import type { Gvr, KObject, KubeletStore, WatchEvent } from '../types.js';
import { defaultNamespace, defaultPod, defaultPodSpec, defaultSecret, ServiceAllocator } from './defaults.js';
import { deepEqual, jsonPatch, mergePatch, schemaForKind, strategicMerge } from './patch.js';
import { apiVersionOf, defOf, resourceKey, RESOURCES, type ResourceDef } from './resources.js';
import { validateCreate, validateUpdate } from './validate.js';
import { OBJECT_META_FIELDS, pruneUnknown, typeError } from './prune.js';
import { admitStorageObject } from './storage-api.js';

type Obj = Record<string, any>;

export interface StoreEvent {
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  object: KObject;
  /** The previous state (MODIFIED/DELETED), for selector-leaving DELETED events. */
  prev?: KObject;
  rv: number;
  /** Lazily cached compact JSON of `{type, object}`: shared by every watcher. */
  json?: string;
}

/** The store's whole state (persist.ts). */
export interface StoreDump {
  rv: number;
  /** resourceKey -> objects. */
  tables: Record<string, KObject[]>;
}

export interface StoreOptions {
  /** Events kept per resource for watch resumption (the watch cache window). */
  historySize?: number;
  nodeName?: string;
}

export interface WriteOptions {
  dryRun?: boolean;
  subresource?: string;
  fieldManager?: string;
  /** What unknown fields cause: Strict -> 400, Warn (default) -> `warnings`, Ignore -> nothing. */
  fieldValidation?: 'Strict' | 'Warn' | 'Ignore';
  /** Filled with the warnings the client should get (Warning: 299 headers). */
  warnings?: string[];
}

export type PatchType = 'json' | 'merge' | 'strategic' | 'apply';

// ---- admission seam (src/sim/admission): the one hook on the create/update path
/** What an admission plugin sees (k8s.io/apiserver/pkg/admission Attributes). */
export interface AdmissionAttributes {
  operation: 'CREATE' | 'UPDATE';
  def: ResourceDef;
  namespace: string | undefined;
  /** The object's name (generated already when generateName was used). */
  name: string;
  subresource?: string;
  /** The incoming object, defaulted; plugins may change it in the 'mutate' phase only. */
  object: Record<string, any>;
  old?: KObject;
  dryRun: boolean;
  /** Warning: 299 headers for the client. */
  warnings: string[];
}
/** Mutating admission runs after defaulting, validating admission after validation, both before the write. */
export type AdmissionHook = (phase: 'mutate' | 'validate', a: AdmissionAttributes) => void;
// ---- end admission seam

export const now = () => new Date().toISOString().replace(/\.\d+Z$/, 'Z');

/** Deep-freeze a JSON value (stored objects are immutable). */
export function freeze<T>(v: T): T {
  if (v && typeof v === 'object' && !Object.isFrozen(v)) {
    Object.freeze(v);
    for (const x of Object.values(v as object)) freeze(x);
  }
  return v;
}
const copy = <T>(v: T): T => structuredClone(v);

/** Random suffix for generateName (apiserver/pkg/storage/names: 5 chars of this alphabet). */
const ALPHA = 'bcdfghjklmnpqrstvwxz2456789';
export const randomSuffix = (n = 5) => Array.from(randomBytes(n), (b) => ALPHA[b % ALPHA.length]).join('');

const keyOf = (ns: string | undefined, name: string) => `${ns ?? ''}/${name}`;

export class Store implements KubeletStore {
  /** The global revision: the resourceVersion of the last write. */
  rv = 0;
  readonly historySize: number;
  readonly services = new ServiceAllocator();
  private tables = new Map<string, Map<string, KObject>>();
  private history = new Map<string, StoreEvent[]>();
  /** Per resource: the oldest RV from which a watch can still resume (too old below it). */
  private floor = new Map<string, number>();
  private subs = new Map<string, Set<(ev: StoreEvent) => void>>();
  private queue: Array<{ key: string; ev: StoreEvent }> = [];
  private dispatching = false;
  /** uid -> where the object lives (ownerReference resolution). */
  readonly byUid = new Map<string, { def: ResourceDef; ns: string | undefined; name: string }>();
  /** owner uid -> dependents' "resKey|ns|name". */
  readonly dependents = new Map<string, Set<string>>();
  /** Hooks run after every committed write (the lifecycle controllers). */
  readonly afterWrite: Array<(def: ResourceDef, ev: StoreEvent) => void> = [];
  /** Admission plugins (src/sim/admission), installed by start(); none: everything is admitted. */
  admission?: AdmissionHook;

  constructor(readonly opts: StoreOptions = {}) {
    this.historySize = opts.historySize ?? 5000;
    for (const r of RESOURCES) {
      this.tables.set(resourceKey(r), new Map());
      this.history.set(resourceKey(r), []);
      this.floor.set(resourceKey(r), 0);
    }
  }

  private table(def: { group: string; resource: string }): Map<string, KObject> {
    const t = this.tables.get(resourceKey(def));
    if (!t) throw badRequest(`the server could not find the requested resource (${resourceKey(def)})`);
    return t;
  }

  // ------------------------------------------------------------------ reads

  get(gvr: Gvr | ResourceDef, namespace: string | undefined, name: string): KObject | undefined {
    return this.table(gvr).get(keyOf(gvr.namespaced ? namespace : undefined, name));
  }

  /** Objects in key order (as etcd lists them); all namespaces when `namespace` is undefined. */
  list(gvr: Gvr | ResourceDef, namespace: string | undefined): KObject[] {
    const out: KObject[] = [];
    const prefix = namespace !== undefined && gvr.namespaced ? `${namespace}/` : '';
    for (const [k, v] of this.table(gvr)) if (!prefix || k.startsWith(prefix)) out.push(v);
    return out.sort((a, b) => cmp(a, b));
  }

  count(def: ResourceDef): number {
    return this.table(def).size;
  }

  /** Events of a resource with rv > `since`, or 'expired' if the window no longer reaches back. */
  eventsSince(def: ResourceDef, since: number): StoreEvent[] | { expired: number } {
    const key = resourceKey(def);
    const f = this.floor.get(key) ?? 0;
    if (since < f) return { expired: f };
    const h = this.history.get(key)!;
    // Binary search the first event after `since`.
    let lo = 0,
      hi = h.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (h[mid]!.rv <= since) lo = mid + 1;
      else hi = mid;
    }
    return h.slice(lo);
  }

  subscribe(gvr: Gvr | ResourceDef, cb: (ev: WatchEvent & { prev?: KObject; rv?: number }) => void): () => void {
    const key = resourceKey(gvr);
    let set = this.subs.get(key);
    if (!set) this.subs.set(key, (set = new Set()));
    const fn = cb as (ev: StoreEvent) => void;
    set.add(fn);
    return () => set!.delete(fn);
  }

  // ------------------------------------------------------------------ commit

  /** Store `obj` (already complete) as the new state and emit the event. */
  commit(def: ResourceDef, type: 'ADDED' | 'MODIFIED', obj: Obj, prev?: KObject): KObject {
    this.rv++;
    obj.metadata.resourceVersion = String(this.rv);
    const stored = freeze(ordered(obj) as KObject);
    this.table(def).set(keyOf(stored.metadata.namespace, stored.metadata.name!), stored);
    this.index(def, stored, prev);
    this.emit(def, { type, object: stored, prev, rv: this.rv });
    return stored;
  }

  /** Remove the object for good and emit DELETED with its last state (at a new RV). */
  erase(def: ResourceDef, obj: KObject): KObject {
    const t = this.table(def);
    const k = keyOf(obj.metadata.namespace, obj.metadata.name!);
    const cur = t.get(k);
    if (!cur) return obj;
    t.delete(k);
    this.rv++;
    const last = copy(cur) as Obj;
    last.metadata.resourceVersion = String(this.rv);
    freeze(last);
    this.index(def, undefined, cur);
    if (def.resource === 'services') this.services.release(cur as Obj);
    this.emit(def, { type: 'DELETED', object: last as KObject, prev: cur, rv: this.rv });
    return last as KObject;
  }

  private index(def: ResourceDef, next: KObject | undefined, prev: KObject | undefined): void {
    const id = `${resourceKey(def)}|${(next ?? prev)!.metadata.namespace ?? ''}|${(next ?? prev)!.metadata.name}`;
    if (prev) {
      for (const r of prev.metadata.ownerReferences ?? []) this.dependents.get(r.uid)?.delete(id);
      if (!next) this.byUid.delete(prev.metadata.uid!);
    }
    if (next) {
      this.byUid.set(next.metadata.uid!, { def, ns: next.metadata.namespace, name: next.metadata.name! });
      for (const r of next.metadata.ownerReferences ?? []) {
        let s = this.dependents.get(r.uid);
        if (!s) this.dependents.set(r.uid, (s = new Set()));
        s.add(id);
      }
    }
  }

  private emit(def: ResourceDef, ev: StoreEvent): void {
    const key = resourceKey(def);
    const h = this.history.get(key)!;
    h.push(ev);
    if (h.length > this.historySize) {
      const dropped = h.splice(0, h.length - this.historySize);
      this.floor.set(key, dropped.at(-1)!.rv);
    }
    // Ordered dispatch: a subscriber that writes from its callback enqueues, so every
    // subscriber sees every resource's events in RV order.
    this.queue.push({ key, ev });
    for (const hook of this.afterWrite) hook(def, ev);
    if (this.dispatching) return;
    this.dispatching = true;
    try {
      for (let item = this.queue.shift(); item; item = this.queue.shift()) {
        for (const cb of [...(this.subs.get(item.key) ?? [])]) {
          try {
            cb(item.ev);
          } catch (err) {
            process.emitWarning(`kube-sim: a store subscriber threw: ${(err as Error).stack ?? err}`);
          }
        }
      }
    } finally {
      this.dispatching = false;
    }
  }

  /** Compact at `rv` (the expire-watches fault): resuming from any older RV gets 410. */
  expireBefore(rv: number): void {
    for (const [key, h] of this.history) {
      const i = h.findIndex((e) => e.rv > rv);
      if (i < 0) h.splice(0);
      else h.splice(0, i);
      this.floor.set(key, Math.max(this.floor.get(key) ?? 0, rv));
    }
  }

  // ---- persistence seam (store/persist.ts): the whole state out, and back in after a restart
  /** Every object of every resource, and the revision (what persist.ts writes to disk). */
  dump(): StoreDump {
    const tables: Record<string, KObject[]> = {};
    for (const [key, t] of this.tables) tables[key] = [...t.values()];
    return { rv: this.rv, tables };
  }

  /**
   * Replace the state of every resource the dump has (an apiserver restarted on its etcd): no
   * events, the indexes rebuilt, and the watch window starts again at the restored revision, so a
   * client resuming from an older resourceVersion gets 410 Expired and relists.
   */
  load(d: StoreDump): void {
    for (const r of RESOURCES) {
      const key = resourceKey(r);
      const objs = d.tables[key];
      if (!objs) continue;
      const t = this.table(r);
      for (const o of t.values()) this.index(r, undefined, o);
      t.clear();
      for (const o of objs) {
        const stored = freeze(o);
        t.set(keyOf(stored.metadata.namespace, stored.metadata.name!), stored);
        this.index(r, stored, undefined);
        if (r.resource === 'services') this.services.reserveAll(stored as Obj);
      }
    }
    this.rv = Math.max(this.rv, d.rv);
    for (const key of this.history.keys()) {
      this.history.set(key, []);
      this.floor.set(key, this.rv);
    }
  }
  // ---- end persistence seam

  // ------------------------------------------------------------------ create / update / patch

  create(def: ResourceDef, namespace: string | undefined, body: unknown, opts: WriteOptions = {}): KObject {
    if (!body || typeof body !== 'object' || Array.isArray(body))
      throw badRequest('the body of the request was not a JSON object');
    const obj = copy(body) as Obj;
    checkTypeMeta(def, obj);
    obj.apiVersion = apiVersionOf(def);
    obj.kind = def.kind;
    unknownFields(def, obj, opts);
    const meta = (obj.metadata ??= {});
    if (def.namespaced) {
      if (meta.namespace && namespace && meta.namespace !== namespace)
        throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
      meta.namespace = namespace ?? meta.namespace;
      this.checkNamespaceWritable(def, meta.namespace, meta.name ?? '');
    } else delete meta.namespace;
    if (!meta.name && meta.generateName) meta.name = `${meta.generateName}${randomSuffix()}`.slice(0, 253);
    validateCreate(def, obj as KObject);
    if (this.get(def, meta.namespace, meta.name)) {
      if (meta.generateName && !(body as Obj).metadata?.name) {
        throw new StatusError(
          409,
          'AlreadyExists',
          `${def.resource} "${meta.name}" already exists, the server was not able to generate a unique name for the object`,
          { name: meta.name, kind: def.resource },
        );
      }
      throw alreadyExists(def.resource, meta.name, def.group);
    }
    if (meta.resourceVersion) throw badRequest('resourceVersion should not be set on objects to be created');
    meta.uid = randomUUID();
    meta.creationTimestamp = now();
    delete meta.deletionTimestamp;
    delete meta.deletionGracePeriodSeconds;
    if (def.generation) meta.generation = 1;
    else delete meta.generation;
    delete meta.managedFields;
    this.applyDefaults(def, obj as KObject, opts);
    const attrs: AdmissionAttributes = {
      operation: 'CREATE',
      def,
      namespace: meta.namespace,
      name: meta.name ?? '',
      object: obj,
      dryRun: !!opts.dryRun,
      warnings: opts.warnings ?? [],
    };
    this.admission?.('mutate', attrs);
    if (def.resource === 'pods') {
      // ServiceAccount admission: the pod's service account must exist.
      const sa = obj.spec.serviceAccountName;
      if (!this.get(SA_DEF, meta.namespace, sa))
        throw new StatusError(
          403,
          'Forbidden',
          `pods "${meta.name}" is forbidden: error looking up service account ${meta.namespace}/${sa}: serviceaccount "${sa}" not found`,
          { name: meta.name, kind: 'pods' },
        );
      mountServiceAccountToken(obj as KObject, this.get(SA_DEF, meta.namespace, sa));
    }
    this.admission?.('validate', attrs);
    if (opts.dryRun) {
      meta.resourceVersion = undefined;
      delete meta.resourceVersion;
      return freeze(obj as KObject);
    }
    return this.commit(def, 'ADDED', obj);
  }

  private applyDefaults(def: ResourceDef, obj: KObject, opts: WriteOptions): void {
    switch (def.resource) {
      case 'pods':
        defaultPod(obj);
        break;
      case 'persistentvolumeclaims':
      case 'persistentvolumes':
      case 'storageclasses':
        admitStorageObject(def.resource, obj as Obj, () => this.list(SC_DEF, undefined));
        break;
      case 'namespaces':
        defaultNamespace(obj);
        break;
      case 'secrets':
        defaultSecret(obj);
        break;
      case 'services':
        if (!opts.dryRun) this.services.defaultService(obj);
        break;
    }
  }

  private checkNamespaceWritable(def: ResourceDef, ns: string | undefined, name: string): void {
    if (!ns) throw badRequest('an empty namespace may not be set during creation');
    const n = this.get(NAMESPACE_DEF, undefined, ns);
    if (!n) throw notFound('namespaces', ns);
    if ((n as Obj).status?.phase === 'Terminating' || n.metadata.deletionTimestamp) {
      // errors.NewForbidden: `<resource> "<name>" is forbidden: ...`, or `<resource> is forbidden: ...` without a name.
      throw new StatusError(
        403,
        'Forbidden',
        `${qualified(def)}${name ? ` "${name}"` : ''} is forbidden: unable to create new content in namespace ${ns} because it is being terminated`,
        {
          name,
          kind: def.resource,
          causes: [
            {
              reason: 'NamespaceTerminating',
              message: `namespace ${ns} is being terminated`,
              field: 'metadata.namespace',
            },
          ],
        },
      );
    }
  }

  /**
   * PUT. `body.metadata.resourceVersion`, when set, is a precondition (409 Conflict when stale).
   * The main resource ignores status changes, /status ignores everything but status.
   */
  update(
    def: ResourceDef,
    namespace: string | undefined,
    name: string,
    body: unknown,
    opts: WriteOptions = {},
  ): KObject {
    if (!body || typeof body !== 'object' || Array.isArray(body))
      throw badRequest('the body of the request was not a JSON object');
    const prev = this.get(def, namespace, name);
    if (!prev) throw notFound(def.resource, name, def.group);
    const obj = copy(body) as Obj;
    checkTypeMeta(def, obj);
    obj.kind = def.kind;
    unknownFields(def, obj, opts);
    const meta = (obj.metadata ??= {});
    if (meta.name && meta.name !== name)
      throw badRequest(`the name of the object (${meta.name}) does not match the name on the URL (${name})`);
    if (def.namespaced && meta.namespace && meta.namespace !== namespace)
      throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
    checkPreconditions(def, name, prev, meta.resourceVersion, meta.uid);
    return this.replace(def, prev, obj, opts);
  }

  /** The shared tail of PUT and PATCH: merge the protected parts of `prev` into `obj`, validate, store. */
  replace(def: ResourceDef, prev: KObject, obj: Obj, opts: WriteOptions = {}): KObject {
    const p = prev as Obj;
    const meta = (obj.metadata ??= {});
    obj.apiVersion = apiVersionOf(def);
    obj.kind = def.kind;
    meta.name = prev.metadata.name;
    if (def.namespaced) meta.namespace = prev.metadata.namespace;
    meta.uid = prev.metadata.uid;
    meta.creationTimestamp = prev.metadata.creationTimestamp;
    if (prev.metadata.deletionTimestamp) {
      meta.deletionTimestamp = prev.metadata.deletionTimestamp;
      meta.deletionGracePeriodSeconds = prev.metadata.deletionGracePeriodSeconds;
    } else {
      delete meta.deletionTimestamp;
      delete meta.deletionGracePeriodSeconds;
    }
    delete meta.managedFields;
    delete meta.resourceVersion;
    if (opts.subresource === 'status') {
      // Only status changes (pkg/registry/*/strategy.go statusStrategy.PrepareForUpdate).
      const status = obj.status;
      for (const k of Object.keys(obj)) delete obj[k];
      Object.assign(obj, copy(p));
      if (status === undefined) delete obj.status;
      else obj.status = status;
    } else if (def.hasStatus) {
      if (p.status === undefined) delete obj.status;
      else obj.status = copy(p.status);
    }
    if (def.resource === 'namespaces' && opts.subresource !== 'finalize') obj.spec = copy(p.spec);
    if (def.resource === 'services') {
      const s = (obj.spec ??= {});
      s.clusterIP ??= p.spec?.clusterIP;
      s.clusterIPs ??= p.spec?.clusterIPs;
      s.type ??= 'ClusterIP';
      s.sessionAffinity ??= 'None';
      for (const port of s.ports ?? []) {
        port.protocol ??= 'TCP';
        port.targetPort ??= port.port;
      }
    }
    if (def.resource === 'secrets') defaultSecret(obj as KObject);
    if (def.resource === 'pods') {
      // Pods keep defaulted fields the client did not send (as the decoder's defaulting does).
      const spec = (obj.spec ??= {});
      for (const k of Object.keys(p.spec ?? {}))
        if (spec[k] === undefined && k !== 'activeDeadlineSeconds') spec[k] = copy(p.spec[k]);
      defaultPodSpec(spec);
    }
    const attrs: AdmissionAttributes = {
      operation: 'UPDATE',
      def,
      namespace: prev.metadata.namespace,
      name: prev.metadata.name!,
      subresource: opts.subresource,
      object: obj,
      old: prev,
      dryRun: !!opts.dryRun,
      warnings: opts.warnings ?? [],
    };
    this.admission?.('mutate', attrs);
    validateUpdate(def, obj as KObject, prev);
    this.admission?.('validate', attrs);
    if (def.generation) {
      const changed = !deepEqual(specPart(obj), specPart(p));
      meta.generation = (p.metadata.generation ?? 1) + (changed ? 1 : 0);
    }
    // A no-op write keeps the resourceVersion and emits nothing (GuaranteedUpdate short-circuit).
    const cmp = { ...obj, metadata: { ...meta, resourceVersion: prev.metadata.resourceVersion } };
    if (deepEqual(JSON.parse(JSON.stringify(cmp)), prev)) return prev;
    if (opts.dryRun) return freeze(JSON.parse(JSON.stringify(cmp)) as KObject);
    const stored = this.commit(def, 'MODIFIED', JSON.parse(JSON.stringify(obj)), prev);
    return this.finishIfDone(def, stored);
  }

  /** An object marked for deletion whose last finalizer went away (and has no grace left) is removed. */
  finishIfDone(def: ResourceDef, obj: KObject): KObject {
    const m = obj.metadata;
    if (
      m.deletionTimestamp &&
      !(m.finalizers ?? []).length &&
      !m.deletionGracePeriodSeconds &&
      def.resource !== 'namespaces'
    ) {
      return this.erase(def, obj);
    }
    return obj;
  }

  patch(
    def: ResourceDef,
    namespace: string | undefined,
    name: string,
    type: PatchType,
    patch: unknown,
    opts: WriteOptions & { force?: boolean } = {},
  ): KObject {
    const prev = this.get(def, namespace, name);
    if (!prev) {
      if (type === 'apply') {
        // Server-side apply creates.
        if (!patch || typeof patch !== 'object') throw badRequest('the body of the request was not a JSON object');
        const body = copy(patch) as Obj;
        if (body.metadata?.name && body.metadata.name !== name)
          throw badRequest(
            `the name of the object (${body.metadata.name}) does not match the name on the URL (${name})`,
          );
        body.metadata = { ...(body.metadata ?? {}), name };
        return this.create(def, namespace, body, opts);
      }
      throw notFound(def.resource, name, def.group);
    }
    let next: unknown;
    const base = copy(prev) as Obj;
    switch (type) {
      case 'json':
        next = jsonPatch(base, patch);
        break;
      case 'merge':
        next = mergePatch(base, patch);
        break;
      case 'strategic':
        next = strategicMerge(base, patch, schemaForKind(def.kind));
        break;
      case 'apply': {
        const pb = patch as Obj;
        if (pb && typeof pb === 'object') {
          checkTypeMeta(def, pb, true);
          if (pb.metadata?.name && pb.metadata.name !== name)
            throw badRequest(
              `the name of the object (${pb.metadata.name}) does not match the name on the URL (${name})`,
            );
        }
        next = strategicMerge(base, patch, schemaForKind(def.kind), true);
        break;
      }
    }
    if (!next || typeof next !== 'object' || Array.isArray(next))
      throw badRequest('the patched object is not a JSON object');
    const obj = next as Obj;
    obj.kind = def.kind;
    unknownFields(def, obj, opts);
    const meta = (obj.metadata ??= {});
    // A patch that sets metadata.resourceVersion makes it a precondition (patch.go applyPatch).
    const askedRv =
      type === 'merge' || type === 'strategic' ? (patch as Obj)?.metadata?.resourceVersion : meta.resourceVersion;
    checkPreconditions(def, name, prev, askedRv, meta.uid);
    if (meta.name !== undefined && meta.name !== name)
      throw badRequest(`the name of the object (${meta.name}) does not match the name on the URL (${name})`);
    return this.replace(def, prev, obj, opts);
  }

  // ------------------------------------------------------------------ KubeletStore

  mutate(gvr: Gvr, namespace: string | undefined, name: string, fn: (obj: KObject) => void): KObject | undefined {
    const def = defOf(gvr);
    const prev = this.get(def, namespace, name);
    if (!prev) return undefined;
    const obj = copy(prev) as Obj;
    fn(obj as KObject);
    // Identity is not the kubelet's to change.
    obj.metadata.name = prev.metadata.name;
    obj.metadata.namespace = prev.metadata.namespace;
    obj.metadata.uid = prev.metadata.uid;
    obj.metadata.creationTimestamp = prev.metadata.creationTimestamp;
    obj.metadata.resourceVersion = prev.metadata.resourceVersion;
    const clean = JSON.parse(JSON.stringify(obj));
    if (deepEqual(clean, prev)) return prev;
    return this.finishIfDone(def, this.commit(def, 'MODIFIED', clean, prev));
  }

  /** End of a graceful deletion: gone at once, unless finalizers still hold it. */
  remove(gvr: Gvr, namespace: string | undefined, name: string): void {
    const def = defOf(gvr);
    const cur = this.get(def, namespace, name);
    if (!cur) return;
    if ((cur.metadata.finalizers ?? []).length) {
      this.mutate(gvr, namespace, name, (o) => {
        o.metadata.deletionTimestamp ??= now();
        o.metadata.deletionGracePeriodSeconds = 0;
      });
      return;
    }
    this.erase(def, cur);
  }

  private eventSeq = 0;
  recordEvent(
    involved: KObject,
    type: 'Normal' | 'Warning',
    reason: string,
    message: string,
    source = 'kubelet',
  ): void {
    const ns = involved.metadata.namespace ?? 'default';
    if (!this.get(NAMESPACE_DEF, undefined, ns) || this.get(NAMESPACE_DEF, undefined, ns)!.metadata.deletionTimestamp)
      return;
    const evDef = defOf({ group: '', resource: 'events' });
    const t = now();
    // The event correlator aggregates identical events into a count.
    const same = this.list(evDef, ns).find(
      (e) =>
        (e as Obj).involvedObject?.uid === involved.metadata.uid &&
        (e as Obj).reason === reason &&
        (e as Obj).message === message &&
        (e as Obj).type === type,
    );
    if (same) {
      this.mutate(evDef, ns, same.metadata.name!, (e: Obj) => {
        e.count = (e.count ?? 1) + 1;
        e.lastTimestamp = t;
      });
      return;
    }
    const name = `${involved.metadata.name}.${(Date.now() * 1000 + (this.eventSeq++ % 1000)).toString(16)}`;
    // A kubelet names its node (a Pod's own, with several simulated nodes); controllers name none.
    const host = source === 'kubelet' ? ((involved as Obj).spec?.nodeName ?? this.opts.nodeName) : undefined;
    const ev: Obj = {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name, namespace: ns },
      involvedObject: {
        kind: involved.kind,
        namespace: involved.metadata.namespace,
        name: involved.metadata.name,
        uid: involved.metadata.uid,
        apiVersion: involved.apiVersion,
        resourceVersion: involved.metadata.resourceVersion,
      },
      reason,
      message,
      source: host ? { component: source, host } : { component: source },
      firstTimestamp: t,
      lastTimestamp: t,
      count: 1,
      type,
      eventTime: null,
      reportingComponent: source,
      reportingInstance: host ?? '',
    };
    try {
      this.create(evDef, ns, ev);
    } catch {
      /* the namespace went away meanwhile */
    }
  }
}

export const NAMESPACE_DEF = defOf({ group: '', resource: 'namespaces' });
const SA_DEF = defOf({ group: '', resource: 'serviceaccounts' });
const SC_DEF = defOf({ group: 'storage.k8s.io', resource: 'storageclasses' });

/** Go's field order (TypeMeta, ObjectMeta, then the rest), so raw JSON reads like a real server's. */
const META_ORDER = OBJECT_META_FIELDS;
function ordered(o: Obj): Obj {
  const meta: Obj = {};
  for (const k of META_ORDER) if (o.metadata[k] !== undefined) meta[k] = o.metadata[k];
  for (const k of Object.keys(o.metadata)) if (!(k in meta) && o.metadata[k] !== undefined) meta[k] = o.metadata[k];
  const { kind, apiVersion, metadata: _m, ...rest } = o;
  return { kind, apiVersion, metadata: meta, ...rest };
}

const qualified = (def: ResourceDef) => (def.group ? `${def.resource}.${def.group}` : def.resource);

/** Everything except metadata and status: what `generation` tracks. */
const specPart = (o: Obj) => {
  const { metadata: _m, status: _s, ...rest } = o;
  return rest;
};

function cmp(a: KObject, b: KObject): number {
  const ka = keyOf(a.metadata.namespace, a.metadata.name!);
  const kb = keyOf(b.metadata.namespace, b.metadata.name!);
  return ka < kb ? -1 : ka > kb ? 1 : 0;
}

/**
 * An update's or patch's preconditions against the stored object: the resourceVersion it was read
 * at (optimistic concurrency) and the uid (apiserver pkg/registry/generic/registry/store.go Update).
 */
function checkPreconditions(def: ResourceDef, name: string, prev: KObject, rv: unknown, uid: unknown): void {
  if (rv && rv !== prev.metadata.resourceVersion)
    throw conflict(
      qualified(def),
      name,
      'the object has been modified; please apply your changes to the latest version and try again',
    );
  if (uid && uid !== prev.metadata.uid)
    throw conflict(
      qualified(def),
      name,
      `Precondition failed: UID in precondition: ${String(uid)}, UID in object meta: ${prev.metadata.uid}`,
    );
}

/** Drop unknown fields as the typed decoder does; Strict turns them into a 400. */
function unknownFields(def: ResourceDef, obj: Obj, opts: WriteOptions): void {
  const te = typeError(obj);
  if (te) throw badRequest(`${def.kind} in version "${def.version}" cannot be handled as a ${def.kind}: ${te}`);
  const unknown = pruneUnknown(obj);
  if (!unknown.length || opts.fieldValidation === 'Ignore') return;
  if (opts.fieldValidation === 'Strict') {
    throw badRequest(
      `${def.kind} in version "${def.version}" cannot be handled as a ${def.kind}: strict decoding error: ${unknown.map((f) => `unknown field "${f}"`).join(', ')}`,
    );
  }
  opts.warnings?.push(...unknown.map((f) => `unknown field "${f}"`));
}

/** apiVersion/kind in the body must match the endpoint (400 as the decoder answers). */
function checkTypeMeta(def: ResourceDef, obj: Obj, apply = false): void {
  const want = apiVersionOf(def);
  if (obj.apiVersion !== undefined && obj.apiVersion !== want) {
    throw badRequest(
      `the API version in the data (${obj.apiVersion}) does not match the expected API version (${want})`,
    );
  }
  if (obj.kind !== undefined && obj.kind !== def.kind) {
    throw badRequest(`the kind in the data (${obj.kind}) does not match the expected kind (${def.kind})`);
  }
  if (apply && (obj.apiVersion === undefined || obj.kind === undefined)) {
    throw badRequest(`invalid object type: /, Kind=`);
  }
}
