/**
 * @module kube/pod-resources
 * A pod's effective requests and limits (k8s.io/kubernetes/pkg/api/v1/resource PodRequests /
 * PodLimits): the containers' sum, raised to the largest init container (sidecars — init
 * containers with restartPolicy Always — add to both), plus the pod overhead for requests.
 * Pure: quota and LimitRange evaluation use it.
 */
import { addQuantity, cmpQuantity, parseQuantity, type Quantity } from './quantity.js';

type Obj = Record<string, any>;
export type ResourceList = Map<string, Quantity>;

/** A JSON ResourceList ({cpu: "500m"}) as quantities; unparsable values are skipped (validation refuses them). */
export function resourceList(json: unknown): ResourceList {
  const out: ResourceList = new Map();
  if (!json || typeof json !== 'object') return out;
  for (const [k, v] of Object.entries(json as Record<string, unknown>)) {
    try {
      out.set(k, parseQuantity(v));
    } catch {
      /* invalid quantity: the object's validation reports it */
    }
  }
  return out;
}

export function addList(into: ResourceList, add: ResourceList): void {
  for (const [k, q] of add) {
    const cur = into.get(k);
    into.set(k, cur ? addQuantity(cur, q) : q);
  }
}

function maxList(into: ResourceList, other: ResourceList): void {
  for (const [k, q] of other) {
    const cur = into.get(k);
    if (!cur || cmpQuantity(q, cur) > 0) into.set(k, q);
  }
}

function aggregate(spec: Obj, field: 'requests' | 'limits'): ResourceList {
  const total: ResourceList = new Map();
  for (const c of spec.containers ?? []) addList(total, resourceList(c.resources?.[field]));
  const sidecars: ResourceList = new Map();
  const init: ResourceList = new Map();
  for (const c of spec.initContainers ?? []) {
    const own = resourceList(c.resources?.[field]);
    let eff: ResourceList;
    if (c.restartPolicy === 'Always') {
      addList(total, own);
      addList(sidecars, own);
      eff = new Map(sidecars);
    } else {
      eff = new Map(own);
      addList(eff, sidecars);
    }
    maxList(init, eff);
  }
  maxList(total, init);
  return total;
}

export function podRequests(spec: Obj): ResourceList {
  const r = aggregate(spec, 'requests');
  if (spec.overhead) addList(r, resourceList(spec.overhead));
  return r;
}

export function podLimits(spec: Obj): ResourceList {
  const l = aggregate(spec, 'limits');
  // Overhead counts in limits only where some limit is set (PodLimits).
  if (spec.overhead)
    for (const [k, q] of resourceList(spec.overhead)) if (l.has(k)) l.set(k, addQuantity(l.get(k)!, q));
  return l;
}
