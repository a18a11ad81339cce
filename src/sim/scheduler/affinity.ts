/**
 * @module sim/scheduler/affinity
 * The InterPodAffinity filter (pkg/scheduler/framework/plugins/interpodaffinity/filtering.go), in
 * its order: the Pod's required affinity (with the rule that lets the first Pod of a group that has
 * affinity to itself start), its required anti-affinity, then existing Pods' required anti-affinity.
 */
import { matchLabelSelectorObject } from '../store/selectors.js';
import type { ClusterView, Status } from './types.js';

type Obj = Record<string, any>;

/** AffinityTerm.Matches: `pod` is in the term's namespaces (relative to `owner`) and matches its selector. */
export function termMatches(term: Obj, owner: Obj, pod: Obj, snap: Pick<ClusterView, 'nsLabels'>): boolean {
  const namespaces: string[] = term.namespaces ?? [];
  const nsSel = term.namespaceSelector;
  let inNs = namespaces.includes(pod.metadata.namespace);
  if (!namespaces.length && !nsSel) inNs = pod.metadata.namespace === owner.metadata.namespace;
  if (!inNs && nsSel) inNs = isEmpty(nsSel) || matchLabelSelectorObject(nsSel, snap.nsLabels(pod.metadata.namespace));
  if (!inNs || !term.labelSelector) return false;
  return isEmpty(term.labelSelector) || matchLabelSelectorObject(term.labelSelector, pod.metadata.labels);
}
const isEmpty = (sel: Obj) => !Object.keys(sel.matchLabels ?? {}).length && !(sel.matchExpressions ?? []).length;

const required = (pod: Obj, kind: 'podAffinity' | 'podAntiAffinity'): Obj[] =>
  pod.spec?.affinity?.[kind]?.requiredDuringSchedulingIgnoredDuringExecution ?? [];

export function interPodAffinity(pod: Obj, node: Obj, snap: ClusterView): Status | undefined {
  const labels: Record<string, string> = node.metadata.labels ?? {};
  const others = snap.assigned.filter((p) => p.metadata.uid !== pod.metadata.uid);
  const sameDomain = (p: Obj, key: string) =>
    labels[key] !== undefined && snap.node(p.spec.nodeName)?.metadata.labels?.[key] === labels[key];
  if (!podAffinityFits(pod, labels, others, snap, sameDomain))
    return { code: 'UnschedulableAndUnresolvable', reason: "node(s) didn't match pod affinity rules" };
  for (const term of required(pod, 'podAntiAffinity')) {
    if (others.some((p) => termMatches(term, pod, p, snap) && sameDomain(p, term.topologyKey)))
      return { code: 'Unschedulable', reason: "node(s) didn't match pod anti-affinity rules" };
  }
  // Existing Pods whose required anti-affinity matches this Pod, in this node's domain.
  for (const e of others) {
    for (const term of required(e, 'podAntiAffinity')) {
      if (termMatches(term, e, pod, snap) && sameDomain(e, term.topologyKey))
        return { code: 'Unschedulable', reason: "node(s) didn't satisfy existing pods anti-affinity rules" };
    }
  }
  return undefined;
}

/** satisfyPodAffinity: every term has a matching Pod in this node's domain, or this is the first Pod of its group. */
function podAffinityFits(
  pod: Obj,
  labels: Record<string, string>,
  others: Obj[],
  snap: ClusterView,
  sameDomain: (p: Obj, key: string) => boolean,
): boolean {
  const terms = required(pod, 'podAffinity');
  if (!terms.length) return true;
  if (terms.some((t) => labels[t.topologyKey] === undefined)) return false;
  // affinityCounts: Pods that match all the terms, by topology domain.
  const matching = others.filter((p) => terms.every((t) => termMatches(t, pod, p, snap)));
  if (terms.every((t) => matching.some((p) => sameDomain(p, t.topologyKey)))) return true;
  const anyDomain = matching.some((p) =>
    terms.some((t) => snap.node(p.spec.nodeName)?.metadata.labels?.[t.topologyKey] !== undefined),
  );
  return !anyDomain && terms.every((t) => termMatches(t, pod, pod, snap));
}
