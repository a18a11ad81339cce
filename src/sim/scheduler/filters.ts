/**
 * @module sim/scheduler/filters
 * The default scheduler's PreFilter and Filter plugins that decide where a Pod may run, in the
 * order of the default profile (pkg/scheduler/apis/config/v1/default_plugins.go): NodeUnschedulable,
 * TaintToleration, NodeAffinity, VolumeRestrictions, VolumeBinding, InterPodAffinity. Each answers
 * a status with the plugin's own reason text (pkg/scheduler/framework/plugins/<plugin>); a node is
 * rejected by the first plugin that fails, as the framework's RunFilterPlugins does.
 * Resources (NodeResourcesFit) and host ports are not accounted: simulated nodes share one host.
 */
import { claimsOfPod, nodeMatchesVolume, nodeSelectorTermsMatch, SELECTED_NODE } from '../storage/common.js';
import { interPodAffinity } from './affinity.js';
import type { ClusterView, Status } from './types.js';

type Obj = Record<string, any>;

/** A PreFilter's answer: a status for the whole Pod, or an error (the scheduling attempt fails). */
export type PreFilterResult = { status?: Status; error?: string; rwopConflicts: number };

const unresolvable = (reason: string): Status => ({ code: 'UnschedulableAndUnresolvable', reason });
const unschedulable = (reason: string): Status => ({ code: 'Unschedulable', reason });

/** v1helper.TolerationsTolerateTaint / Toleration.ToleratesTaint */
export function tolerates(tolerations: Obj[] | undefined, taint: Obj): boolean {
  return (tolerations ?? []).some((t) => {
    if (t.effect && t.effect !== taint.effect) return false;
    if (t.key && t.key !== taint.key) return false;
    if (t.operator === 'Exists') return true;
    if (!t.operator || t.operator === 'Equal') return (t.value ?? '') === (taint.value ?? '');
    return false;
  });
}

/** PreFilter of VolumeRestrictions and VolumeBinding: claims that must exist, and be bound unless delayed. */
export function preFilter(pod: Obj, snap: ClusterView): PreFilterResult {
  const ns = pod.metadata.namespace;
  let rwopConflicts = 0;
  const unboundImmediate: string[] = [];
  for (const name of claimsOfPod(pod)) {
    const c = snap.claim(ns, name);
    if (!c) return { status: unresolvable(`persistentvolumeclaim "${name}" not found`), rwopConflicts };
    if ((c.spec?.accessModes ?? []).includes('ReadWriteOncePod') && snap.claimUsers(ns, name, pod.metadata.uid) > 0)
      rwopConflicts++;
  }
  for (const name of claimsOfPod(pod)) {
    const c = snap.claim(ns, name)!;
    if (c.metadata.deletionTimestamp)
      return { status: unresolvable(`persistentvolumeclaim "${name}" is being deleted`), rwopConflicts };
    if (c.spec?.volumeName) continue;
    const cls = c.spec?.storageClassName ?? '';
    const sc = cls ? snap.storageClass(cls) : undefined;
    if (cls && !sc)
      return {
        error: `running PreFilter plugin "VolumeBinding": storageclass.storage.k8s.io "${cls}" not found`,
        rwopConflicts,
      };
    if (sc?.volumeBindingMode !== 'WaitForFirstConsumer') unboundImmediate.push(name);
  }
  if (unboundImmediate.length)
    return { status: unresolvable('pod has unbound immediate PersistentVolumeClaims'), rwopConflicts };
  return { rwopConflicts };
}

function nodeAffinityFits(pod: Obj, node: Obj): boolean {
  const labels: Record<string, string> = node.metadata.labels ?? {};
  for (const [k, v] of Object.entries((pod.spec?.nodeSelector ?? {}) as Record<string, string>))
    if (labels[k] !== v) return false;
  const req = pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution;
  return !req || nodeSelectorTermsMatch(req.nodeSelectorTerms, node);
}

/** VolumeBinding Filter: bound volumes reachable from the node; delayed claims need a volume or a provisioner. */
function volumeBinding(pod: Obj, node: Obj, snap: ClusterView): Status | undefined {
  const ns = pod.metadata.namespace;
  for (const name of claimsOfPod(pod)) {
    const c = snap.claim(ns, name)!;
    if (c.spec?.volumeName) {
      const pv = snap.volume(c.spec.volumeName);
      if (!pv || !nodeMatchesVolume(node, pv)) return unresolvable('node(s) had volume node affinity conflict');
      continue;
    }
    const selected = c.metadata.annotations?.[SELECTED_NODE];
    if (selected && selected !== node.metadata.name) return unresolvable('node(s) had volume node affinity conflict');
    const sc = snap.storageClass(c.spec?.storageClassName ?? '');
    if (snap.staticVolumeFor(c, node)) continue;
    if (sc?.provisioner && sc.provisioner !== 'kubernetes.io/no-provisioner' && topologyAllows(sc, node)) continue;
    return unresolvable("node(s) didn't find available persistent volumes to bind");
  }
  return undefined;
}

/** StorageClass allowedTopologies (matchLabelExpressions ORed by term). */
function topologyAllows(sc: Obj, node: Obj): boolean {
  const terms: Obj[] | undefined = sc.allowedTopologies;
  if (!terms?.length) return true;
  const labels: Record<string, string> = node.metadata.labels ?? {};
  return terms.some((t) => (t.matchLabelExpressions ?? []).every((e: Obj) => (e.values ?? []).includes(labels[e.key])));
}

/** The Filter plugins, in order; the first that rejects the node answers. */
export function filterNode(pod: Obj, node: Obj, snap: ClusterView, pre: PreFilterResult): Status | undefined {
  const tol: Obj[] = pod.spec?.tolerations ?? [];
  if (node.spec?.unschedulable && !tolerates(tol, { key: 'node.kubernetes.io/unschedulable', effect: 'NoSchedule' }))
    return unresolvable('node(s) were unschedulable');
  for (const taint of node.spec?.taints ?? []) {
    if (taint.effect !== 'NoSchedule' && taint.effect !== 'NoExecute') continue;
    if (!tolerates(tol, taint))
      return unresolvable(`node(s) had untolerated taint {${taint.key}: ${taint.value ?? ''}}`);
  }
  if (!nodeAffinityFits(pod, node)) return unresolvable("node(s) didn't match Pod's node affinity/selector");
  if (pre.rwopConflicts > 0)
    return unschedulable(
      'node has pod using PersistentVolumeClaim with the same name and ReadWriteOncePod access mode',
    );
  const vb = volumeBinding(pod, node, snap);
  if (vb) return vb;
  return interPodAffinity(pod, node, snap);
}

/** Preferences (the Score plugins, much simplified): preferred node and pod affinity weights. */
export function preferenceScore(pod: Obj, node: Obj, snap: ClusterView): number {
  let score = 0;
  for (const p of pod.spec?.affinity?.nodeAffinity?.preferredDuringSchedulingIgnoredDuringExecution ?? []) {
    if (p?.preference && nodeSelectorTermsMatch([p.preference], node)) score += p.weight ?? 0;
  }
  for (const [kind, sign] of [
    ['podAffinity', 1],
    ['podAntiAffinity', -1],
  ] as const) {
    for (const w of pod.spec?.affinity?.[kind]?.preferredDuringSchedulingIgnoredDuringExecution ?? []) {
      if (w?.podAffinityTerm && snap.termSatisfiedOn(pod, w.podAffinityTerm, node)) score += sign * (w.weight ?? 0);
    }
  }
  return score;
}
