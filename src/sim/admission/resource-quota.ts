/**
 * @module sim/admission/resource-quota
 * ResourceQuota, both halves:
 * - the admission check (k8s.io/apiserver/pkg/admission/plugin/resourcequota/controller.go
 *   CheckRequest): for every quota of the namespace that covers the object, the constraints
 *   ("failed quota: q: must specify limits.cpu for: main"), then used + requested <= hard
 *   ("exceeded quota: q, requested: pods=1, used: pods=2, limited: pods=2"), as 403s;
 * - the quota controller (pkg/controller/resourcequota): `status.hard` = `spec.hard`, `status.used`
 *   counted in full when a quota is created or changed, then kept current write by write (each
 *   change adds the object's new usage and subtracts its old one) — synchronously, so a Pod that
 *   is admitted is in the next request's `used`, as the real admission writes the new usage
 *   before it admits.
 */
import {
  addQuantity,
  canonicalQuantity,
  cmpQuantity,
  formatQuantity,
  parseQuantity,
  subQuantity,
  ZERO,
  type Quantity,
} from '../../kube/quantity.js';
import type { ResourceList } from '../../kube/pod-resources.js';
import { defOf, RESOURCES, type ResourceDef } from '../store/resources.js';
import type { Store, StoreEvent } from '../store/store.js';
import { evaluatorFor, quotaIgnored, type QuotaEvaluator } from './quota-usage.js';
import { invalidQuota, validateQuotaSpec } from './quota-validation.js';
import { forbidden, type AdmissionAttributes, type AdmissionPlugin } from './types.js';

type Obj = Record<string, any>;

export const QUOTAS = defOf({ group: '', resource: 'resourcequotas' });

const listOf = (json: unknown): ResourceList => {
  const out: ResourceList = new Map();
  if (json && typeof json === 'object') {
    for (const [k, v] of Object.entries(json)) {
      try {
        out.set(k, parseQuantity(v));
      } catch {
        /* an invalid hard limit: validation refuses it */
      }
    }
  }
  return out;
};

/** The quota's scope selectors: `spec.scopes` (operator Exists) and `spec.scopeSelector`. */
const scopesOf = (q: Obj): Obj[] => [
  ...(q.spec?.scopes ?? []).map((s: string) => ({ scopeName: s, operator: 'Exists' })),
  ...(q.spec?.scopeSelector?.matchExpressions ?? []),
];

/** generic.Matches: the quota limits something this evaluator counts, and every scope matches. */
function quotaMatches(ev: QuotaEvaluator, quota: Obj, obj: Obj): boolean {
  if (!ev.matching(Object.keys(quota.status?.hard ?? {})).length) return false;
  return scopesOf(quota).every((s) => ev.matchesScope(s, obj));
}

/** prettyPrint: `k=v` sorted, joined by commas. */
const pretty = (l: ResourceList) =>
  [...l.keys()]
    .sort()
    .map((k) => `${k}=${formatQuantity(l.get(k)!)}`)
    .join(',');
const mask = (l: ResourceList, names: Iterable<string>) => {
  const keep = new Set(names);
  return new Map([...l].filter(([k]) => keep.has(k)));
};

export function resourceQuotaPlugin(store: Store): AdmissionPlugin {
  return {
    name: 'ResourceQuota',
    admit(a) {
      if (a.def === QUOTAS && !a.subresource) canonicalHard(a.object);
    },
    validate(a) {
      if (a.def === QUOTAS && !a.subresource) {
        const errs = validateQuotaSpec(a.object.spec);
        if (errs.length) throw invalidQuota(a.name, errs);
      }
      if (!a.namespace || quotaIgnored(a.def) || (a.operation === 'CREATE' && a.def.resource === 'namespaces')) return;
      const ev = evaluatorFor(a.def);
      if (!ev.handles(a.operation, a.subresource)) return;
      const quotas = store.list(QUOTAS, a.namespace) as Obj[];
      if (quotas.length) checkRequest(a, ev, quotas);
    },
  };
}

function canonicalHard(q: Obj): void {
  const hard = q.spec?.hard;
  if (!hard || typeof hard !== 'object') return;
  for (const k of Object.keys(hard)) {
    try {
      hard[k] = canonicalQuantity(hard[k]);
    } catch {
      /* validation's to refuse */
    }
  }
}

/** CheckRequest: throws the first quota the object would break. */
function checkRequest(a: AdmissionAttributes, ev: QuotaEvaluator, quotas: Obj[]): void {
  const name = a.name || a.object.metadata?.generateName || 'Unknown';
  const interesting: Obj[] = [];
  for (const q of quotas) {
    if (!quotaMatches(ev, q, a.object)) continue;
    const restricted = ev.matching(Object.keys(q.status?.hard ?? {}));
    const why = ev.constraints?.(restricted, a.object);
    if (why) throw forbidden(a, `failed quota: ${q.metadata.name}: ${why}`, name);
    const used = q.status?.used ?? {};
    const unknown = restricted.filter((r) => used[r] === undefined);
    if (unknown.length)
      throw forbidden(
        a,
        `status unknown for quota: ${q.metadata.name}, resources: ${restricted.sort().join(',')}`,
        name,
      );
    interesting.push(q);
  }
  if (!interesting.length) return;
  const input = ev.usage(a.object);
  const negative = [...input].filter(([, v]) => v.nano < 0n).map(([k]) => k);
  if (negative.length)
    throw forbidden(a, `quota usage is negative for resource(s): ${negative.sort().join(',')}`, name);
  for (const q of interesting) {
    let delta = input;
    if (a.operation === 'UPDATE' && a.old && quotaMatches(ev, q, a.old as Obj)) {
      // Charge the growth only (SubtractWithNonNegativeResult).
      const prev = ev.usage(a.old as Obj);
      delta = new Map(
        [...input].map(
          ([k, v]) =>
            [
              k,
              {
                nano: v.nano - (prev.get(k)?.nano ?? 0n) > 0n ? v.nano - (prev.get(k)?.nano ?? 0n) : 0n,
                format: v.format,
              },
            ] as [string, Quantity],
        ),
      );
    }
    delta = new Map([...delta].filter(([, v]) => v.nano !== 0n));
    if (!delta.size || a.subresource === 'status') continue;
    const hard = listOf(q.status?.hard);
    const used = listOf(q.status?.used);
    const requested = mask(delta, hard.keys());
    const exceeded = [...requested.keys()].filter(
      (k) => cmpQuantity(addQuantity(used.get(k) ?? ZERO, requested.get(k)!), hard.get(k)!) > 0,
    );
    if (exceeded.length) {
      throw forbidden(
        a,
        `exceeded quota: ${q.metadata.name}, requested: ${pretty(mask(requested, exceeded))}, used: ${pretty(mask(used, exceeded))}, limited: ${pretty(mask(hard, exceeded))}`,
        name,
      );
    }
  }
}

// ------------------------------------------------------------------ the quota controller

/** Every namespaced resource kube-sim serves, except what quota ignores. */
const COUNTED = RESOURCES.filter((d) => d.namespaced && !quotaIgnored(d));

/** Recount `status.used` of every quota in the namespace (CalculateUsage, masked to the hard names). */
export function syncQuotas(store: Store, namespace: string): void {
  for (const q of store.list(QUOTAS, namespace) as Obj[]) syncQuota(store, q);
}

/** A full count: when a quota is created or its spec changes (the controller's sync). */
function syncQuota(store: Store, q: Obj): void {
  const hard: Record<string, string> = { ...(q.spec?.hard ?? {}) };
  const names = Object.keys(hard);
  const used = new Map<string, Quantity>(names.map((n) => [n, ZERO]));
  const scopes = scopesOf(q);
  for (const def of COUNTED) {
    const ev = evaluatorFor(def);
    if (!ev.matching(names).length) continue;
    for (const o of store.list(def, q.metadata.namespace) as Obj[]) {
      if (!scopes.every((s) => ev.matchesScope(s, o))) continue;
      for (const [k, v] of ev.usage(o)) if (used.has(k)) used.set(k, addQuantity(used.get(k)!, v));
    }
  }
  writeStatus(store, q, { hard, used: Object.fromEntries([...used].map(([k, v]) => [k, formatQuantity(v)])) });
}

function writeStatus(store: Store, q: Obj, status: Obj): void {
  store.mutate(QUOTAS, q.metadata.namespace, q.metadata.name, (o: Obj) => {
    o.status = status;
  });
}

/**
 * One object changed: add its new usage and subtract its old one, for every quota that counts it
 * (the replenishment a real controller does by recounting, here exact and O(quotas) per write).
 */
function adjust(store: Store, q: Obj, ev: QuotaEvaluator, next: Obj | undefined, prev: Obj | undefined): void {
  if (!q.status?.hard || !q.status?.used) return syncQuota(store, q);
  const names = ev.matching(Object.keys(q.status.hard));
  if (!names.length) return;
  const scopes = scopesOf(q);
  const inScope = (o: Obj | undefined) => o && scopes.every((s) => ev.matchesScope(s, o));
  const plus = inScope(next) ? ev.usage(next!) : undefined;
  const minus = inScope(prev) ? ev.usage(prev!) : undefined;
  const used: Record<string, string> = { ...q.status.used };
  let changed = false;
  for (const n of names) {
    const a = plus?.get(n),
      s = minus?.get(n);
    if ((a?.nano ?? 0n) === (s?.nano ?? 0n)) continue;
    let v = parseQuantity(used[n] ?? '0');
    if (a) v = addQuantity(v, a);
    if (s) v = subQuantity(v, s);
    used[n] = formatQuantity(v);
    changed = true;
  }
  if (changed) writeStatus(store, q, { ...q.status, used });
}

/** The store hook: keeps every quota's `status.used` current after each write. */
export function quotaController(store: Store): (def: ResourceDef, ev: StoreEvent) => void {
  return (def, ev) => {
    const ns = ev.object.metadata.namespace;
    if (!ns || !def.namespaced || quotaIgnored(def)) return;
    if (def === QUOTAS) {
      // A quota's own status write needs nothing; a new or changed spec needs a count.
      if (ev.type === 'DELETED') return;
      const o = ev.object as Obj;
      if (
        ev.type === 'MODIFIED' &&
        JSON.stringify((ev.prev as Obj | undefined)?.spec) === JSON.stringify(o.spec) &&
        o.status?.hard
      )
        return;
      return syncQuota(store, o);
    }
    const quotas = store.list(QUOTAS, ns) as Obj[];
    if (!quotas.length) return;
    const e = evaluatorFor(def);
    const next = ev.type === 'DELETED' ? undefined : (ev.object as Obj);
    const prev = ev.type === 'ADDED' ? undefined : ((ev.prev ?? ev.object) as Obj);
    for (const q of quotas) adjust(store, q, e, next, prev);
  };
}
