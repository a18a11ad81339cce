/**
 * @module sim/admission/limit-range
 * The LimitRanger admission plugin (plugin/pkg/admission/limitranger/admission.go): on pod
 * create, each LimitRange of the namespace fills in the containers' missing requests/limits
 * (`default`, `defaultRequest`, recorded in the `kubernetes.io/limit-ranger` annotation), then
 * min / max / maxLimitRequestRatio are enforced per Container and per Pod, and storage min/max per
 * PersistentVolumeClaim — refusals worded as upstream. Also the LimitRange object's own defaults
 * (pkg/apis/core/v1/defaults.go SetDefaults_LimitRangeItem: max -> default -> defaultRequest, min ->
 * defaultRequest) and canonical quantities, as the apiserver's decoder applies them.
 */
import { canonicalQuantity, formatQuantity, quantityMilli, quantityValue, type Quantity } from '../../kube/quantity.js';
import { podLimits, podRequests, resourceList, type ResourceList } from '../../kube/pod-resources.js';
import { qosClass } from '../store/defaults.js';
import type { Store } from '../store/store.js';
import { defOf } from '../store/resources.js';
import { aggregateMessage, forbidden, type AdmissionAttributes, type AdmissionPlugin } from './types.js';

type Obj = Record<string, any>;

const LIMIT_RANGES = defOf({ group: '', resource: 'limitranges' });
const ANNOTATION = 'kubernetes.io/limit-ranger';

export function limitRangePlugin(store: Store): AdmissionPlugin {
  return {
    name: 'LimitRanger',
    admit(a) {
      if (a.def.resource === 'limitranges' && !a.subresource) return defaultLimitRange(a.object);
      if (!supports(a) || a.def.resource !== 'pods') return;
      let changed = false;
      for (const lr of store.list(LIMIT_RANGES, a.namespace)) changed = mergeDefaults(a.object, lr as Obj) || changed;
      // The pod's QoS class is decided after admission (PrepareForCreate): follow the defaults.
      if (changed && a.object.status) a.object.status.qosClass = qosClass(a.object.spec ?? {});
    },
    validate(a) {
      if (!supports(a)) return;
      for (const lr of store.list(LIMIT_RANGES, a.namespace)) {
        const errs = a.def.resource === 'pods' ? validatePod(lr as Obj, a.object) : validateClaim(lr as Obj, a.object);
        if (errs.length) throw forbidden(a, aggregateMessage(errs), a.name || a.object.metadata?.generateName);
      }
    },
  };
}

/** Pods on create (containers are immutable after), PVCs on create and update, never subresources. */
function supports(a: AdmissionAttributes): boolean {
  if (a.subresource || a.def.group) return false;
  if (a.def.resource === 'pods') return a.operation === 'CREATE';
  if (a.def.resource === 'persistentvolumeclaims') return !a.old?.metadata.deletionTimestamp;
  return false;
}

function defaultLimitRange(lr: Obj): void {
  for (const item of lr.spec?.limits ?? []) {
    for (const k of ['max', 'min', 'default', 'defaultRequest', 'maxLimitRequestRatio']) canonicalize(item[k]);
    if (item.type !== 'Container') continue;
    const def = (item.default ??= {});
    const req = (item.defaultRequest ??= {});
    for (const [k, v] of Object.entries(item.max ?? {})) def[k] ??= v;
    for (const [k, v] of Object.entries(def)) req[k] ??= v;
    for (const [k, v] of Object.entries(item.min ?? {})) req[k] ??= v;
  }
}

function canonicalize(list: Obj | undefined): void {
  if (!list || typeof list !== 'object') return;
  for (const k of Object.keys(list)) {
    try {
      list[k] = canonicalQuantity(list[k]);
    } catch {
      /* validation's to refuse */
    }
  }
}

/** mergePodResourceRequirements: true when something was filled in. */
function mergeDefaults(pod: Obj, lr: Obj): boolean {
  const defLimits: Obj = {},
    defRequests: Obj = {};
  for (const item of lr.spec?.limits ?? []) {
    if (item.type !== 'Container') continue;
    Object.assign(defRequests, item.defaultRequest ?? {});
    Object.assign(defLimits, item.default ?? {});
  }
  const notes: string[] = [];
  const merge = (c: Obj, what: string) => {
    const res = (c.resources ??= {});
    const lim = (res.limits ??= {}),
      req = (res.requests ??= {});
    const setL = Object.keys(defLimits).filter((k) => lim[k] === undefined);
    const setR = Object.keys(defRequests).filter((k) => req[k] === undefined);
    for (const k of setL) lim[k] = defLimits[k];
    for (const k of setR) req[k] = defRequests[k];
    if (!Object.keys(lim).length) delete res.limits;
    if (!Object.keys(req).length) delete res.requests;
    if (setR.length) notes.push(`${setR.sort().join(', ')} request for ${what} ${c.name}`);
    if (setL.length) notes.push(`${setL.sort().join(', ')} limit for ${what} ${c.name}`);
  };
  for (const c of pod.spec?.containers ?? []) merge(c, 'container');
  for (const c of pod.spec?.initContainers ?? []) merge(c, 'init container');
  if (!notes.length) return false;
  pod.metadata.annotations = {
    ...(pod.metadata.annotations ?? {}),
    [ANNOTATION]: `LimitRanger plugin set: ${notes.join('; ')}`,
  };
  return true;
}

/** requestLimitEnforcedValues: milli precision unless that would overflow int64. */
const MAX_MILLI = 9223372036854775n;
function comparable(...qs: Array<Quantity | undefined>): bigint[] {
  const vals = qs.map((q) => (q ? quantityValue(q) : 0n));
  const milli = vals.every((v) => v <= MAX_MILLI);
  return qs.map((q) => (q ? (milli ? quantityMilli(q) : quantityValue(q)) : 0n));
}

type Constraint = (
  type: string,
  res: string,
  enforced: Quantity,
  req: ResourceList,
  lim: ResourceList,
) => string | undefined;
const s = formatQuantity;

const minConstraint: Constraint = (type, res, enforced, req, lim) => {
  const r = req.get(res),
    l = lim.get(res);
  const [rv, lv, ev] = comparable(r, l, enforced);
  if (!r) return `minimum ${res} usage per ${type} is ${s(enforced)}.  No request is specified`;
  if (rv! < ev!) return `minimum ${res} usage per ${type} is ${s(enforced)}, but request is ${s(r)}`;
  if (l && lv! < ev!) return `minimum ${res} usage per ${type} is ${s(enforced)}, but limit is ${s(l)}`;
  return undefined;
};

const maxConstraint: Constraint = (type, res, enforced, req, lim) => {
  const r = req.get(res),
    l = lim.get(res);
  const [rv, lv, ev] = comparable(r, l, enforced);
  if (!l) return `maximum ${res} usage per ${type} is ${s(enforced)}.  No limit is specified`;
  if (lv! > ev!) return `maximum ${res} usage per ${type} is ${s(enforced)}, but limit is ${s(l)}`;
  if (r && rv! > ev!) return `maximum ${res} usage per ${type} is ${s(enforced)}, but request is ${s(r)}`;
  return undefined;
};

const ratioConstraint: Constraint = (type, res, enforced, req, lim) => {
  const r = req.get(res),
    l = lim.get(res);
  const [rv, lv] = comparable(r, l, enforced);
  if (!r || rv === 0n)
    return `${res} max limit to request ratio per ${type} is ${s(enforced)}, but no request is specified or request is 0`;
  if (!l || lv === 0n)
    return `${res} max limit to request ratio per ${type} is ${s(enforced)}, but no limit is specified or limit is 0`;
  const ratio = Number(lv) / Number(rv);
  if (ratio * 1000 > Number(quantityMilli(enforced)))
    return `${res} max limit to request ratio per ${type} is ${s(enforced)}, but provided ratio is ${ratio.toFixed(6)}`;
  return undefined;
};

function enforce(item: Obj, req: ResourceList, lim: ResourceList, errs: string[]): void {
  const run = (field: string, c: Constraint) => {
    for (const [res, q] of resourceList(item[field])) {
      const e = c(item.type, res, q, req, lim);
      if (e) errs.push(e);
    }
  };
  run('min', minConstraint);
  run('max', maxConstraint);
  run('maxLimitRequestRatio', ratioConstraint);
}

function validatePod(lr: Obj, pod: Obj): string[] {
  const errs: string[] = [];
  const spec = pod.spec ?? {};
  for (const item of lr.spec?.limits ?? []) {
    if (item.type === 'Container') {
      for (const c of [...(spec.containers ?? []), ...(spec.initContainers ?? [])]) {
        enforce(item, resourceList(c.resources?.requests), resourceList(c.resources?.limits), errs);
      }
    } else if (item.type === 'Pod') enforce(item, podRequests(spec), podLimits(spec), errs);
  }
  return errs;
}

/** Storage min/max against the claim's requests only (PersistentVolumeClaimValidateLimitFunc). */
function validateClaim(lr: Obj, pvc: Obj): string[] {
  const errs: string[] = [];
  const req = resourceList(pvc.spec?.resources?.requests);
  for (const item of lr.spec?.limits ?? []) {
    if (item.type !== 'PersistentVolumeClaim') continue;
    for (const [res, q] of resourceList(item.min)) {
      const e = minConstraint(item.type, res, q, req, new Map());
      if (e) errs.push(e);
    }
    for (const [res, q] of resourceList(item.max)) {
      const r = req.get(res);
      const [rv, , ev] = comparable(r, undefined, q);
      if (!r) errs.push(`maximum ${res} usage per ${item.type} is ${s(q)}.  No request is specified`);
      else if (rv! > ev!) errs.push(`maximum ${res} usage per ${item.type} is ${s(q)}, but request is ${s(r)}`);
    }
  }
  return errs;
}
