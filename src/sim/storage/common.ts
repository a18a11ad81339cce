/**
 * @module sim/storage/common
 * What the storage controllers and the scheduler share: the claims a Pod mounts, node selector
 * matching (component-helpers/scheduling/corev1/nodeaffinity), and the annotations of the
 * scheduler <-> PV controller handshake for delayed binding, and the claimRef that binds a PV.
 */
type Obj = Record<string, any>;

/** Set by the scheduler on a WaitForFirstConsumer claim: provision it for this node. */
export const SELECTED_NODE = 'volume.kubernetes.io/selected-node';

export const now = () => new Date().toISOString().replace(/\.\d+Z$/, 'Z');

/** A PV's claimRef to claim `c` (pv_controller.go bindVolumeToClaim: ObjectReference of the claim). */
export function claimRefOf(c: Obj): Obj {
  return {
    kind: 'PersistentVolumeClaim',
    namespace: c.metadata.namespace,
    name: c.metadata.name,
    uid: c.metadata.uid,
    apiVersion: 'v1',
    resourceVersion: c.metadata.resourceVersion,
  };
}

/** Names of the claims a Pod's volumes use (spec.volumes[].persistentVolumeClaim.claimName). */
export function claimsOfPod(pod: Obj): string[] {
  const out: string[] = [];
  for (const v of pod.spec?.volumes ?? [])
    if (v?.persistentVolumeClaim?.claimName) out.push(v.persistentVolumeClaim.claimName);
  return out;
}

/** One NodeSelectorRequirement against a set of values (labels, or metadata.name for matchFields). */
function requirementMatches(r: Obj, values: Record<string, string>): boolean {
  const has = Object.prototype.hasOwnProperty.call(values, r.key);
  const v = values[r.key];
  const list: string[] = r.values ?? [];
  switch (r.operator) {
    case 'In':
      return has && list.includes(v!);
    case 'NotIn':
      return !has || !list.includes(v!);
    case 'Exists':
      return has;
    case 'DoesNotExist':
      return !has;
    case 'Gt':
    case 'Lt': {
      if (!has || list.length !== 1) return false;
      const a = Number.parseInt(v!, 10),
        b = Number.parseInt(list[0]!, 10);
      if (!Number.isFinite(a) || !Number.isFinite(b)) return false;
      return r.operator === 'Gt' ? a > b : a < b;
    }
  }
  return false;
}

/** NodeSelectorTerms are ORed, the requirements of a term ANDed; a term with no requirement matches nothing. */
export function nodeSelectorTermsMatch(terms: Obj[] | undefined, node: Obj): boolean {
  const labels: Record<string, string> = node.metadata?.labels ?? {};
  const fields = { 'metadata.name': node.metadata?.name ?? '' };
  return (terms ?? []).some((t) => {
    const exprs: Obj[] = t?.matchExpressions ?? [];
    const fieldExprs: Obj[] = t?.matchFields ?? [];
    if (!exprs.length && !fieldExprs.length) return false;
    return exprs.every((r) => requirementMatches(r, labels)) && fieldExprs.every((r) => requirementMatches(r, fields));
  });
}

/** A volume's spec.nodeAffinity.required against a node (volume/util CheckNodeAffinity). */
export function nodeMatchesVolume(node: Obj, pv: Obj): boolean {
  const terms = pv.spec?.nodeAffinity?.required?.nodeSelectorTerms;
  if (!terms) return true;
  return nodeSelectorTermsMatch(terms, node);
}

/**
 * Could this volume serve this claim (pv_controller findMatchingVolume's checks)? Same class and
 * volume mode, every access mode, enough capacity, the claim's selector, free or pre-bound to it.
 */
export function volumeFitsClaim(
  v: Obj,
  c: Obj,
  bytes: (q: unknown) => number,
  labelsMatch: (sel: Obj, labels: Record<string, string> | undefined) => boolean,
): boolean {
  const ref = v.spec?.claimRef;
  if (v.metadata.deletionTimestamp) return false;
  if (
    ref &&
    !(
      ref.namespace === c.metadata.namespace &&
      ref.name === c.metadata.name &&
      (!ref.uid || ref.uid === c.metadata.uid)
    )
  )
    return false;
  if (!ref && v.status?.phase !== 'Available') return false;
  if ((v.spec?.storageClassName ?? '') !== (c.spec?.storageClassName ?? '')) return false;
  if ((v.spec?.volumeMode ?? 'Filesystem') !== (c.spec?.volumeMode ?? 'Filesystem')) return false;
  if (!(c.spec?.accessModes ?? []).every((m: string) => (v.spec?.accessModes ?? []).includes(m))) return false;
  if (!(bytes(v.spec?.capacity?.storage) >= bytes(c.spec?.resources?.requests?.storage))) return false;
  if (c.spec?.selector && !labelsMatch(c.spec.selector, v.metadata.labels)) return false;
  return true;
}
