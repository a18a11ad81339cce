/**
 * @module sim/admission/pod-security
 * The PodSecurity admission plugin (plugin/pkg/admission/security/podsecurity over
 * k8s.io/pod-security-admission/admission/admission.go): a pod is checked against its namespace's
 * `pod-security.kubernetes.io/*` labels — `enforce` refuses (403), `warn` answers Warning headers.
 * Namespaces are checked too: bad labels are refused (422), and tightening `enforce` warns about
 * the pods already there. The policy itself is src/kube/pod-security (pure, shared with kuber-api).
 * kube-sim serves no pod controllers (Deployments...), so only pods are evaluated; no exemptions.
 */
import {
  decidePod,
  existingPodWarnings,
  fullyPrivileged,
  policyFromLabels,
  type LabelError,
  type Policy,
} from '../../kube/pod-security/index.js';
import { StatusError } from '../status.js';
import { NAMESPACE_DEF, type Store } from '../store/store.js';
import { defOf } from '../store/resources.js';
import { forbidden, type AdmissionAttributes, type AdmissionPlugin } from './types.js';

type Obj = Record<string, any>;

const PODS = defOf({ group: '', resource: 'pods' });

/** Pod subresources PodSecurity never looks at (admission.go ignoredPodSubresources). */
const IGNORED_SUBRESOURCES = new Set([
  'exec',
  'attach',
  'binding',
  'eviction',
  'log',
  'portforward',
  'proxy',
  'status',
]);

export interface PodSecurityOptions {
  /** Existing pods checked when a namespace's enforce level tightens (upstream: 3000). */
  namespaceMaxPodsToCheck?: number;
}

export function podSecurityPlugin(store: Store, opts: PodSecurityOptions = {}): AdmissionPlugin {
  const maxPods = opts.namespaceMaxPodsToCheck ?? 3000;
  return {
    name: 'PodSecurity',
    validate(a) {
      if (a.def.resource === 'namespaces' && !a.def.group) return validateNamespace(store, a, maxPods);
      if (a.def.resource === 'pods' && !a.def.group) return validatePod(store, a);
    },
  };
}

function validatePod(store: Store, a: AdmissionAttributes): void {
  if (a.subresource && IGNORED_SUBRESOURCES.has(a.subresource)) return;
  const ns = store.get(NAMESPACE_DEF, undefined, a.namespace ?? '');
  if (!ns)
    throw new StatusError(
      500,
      'InternalError',
      `Internal error occurred: failed to lookup namespace ${JSON.stringify(a.namespace)}`,
    );
  const { policy, errors } = policyFromLabels(ns.metadata.labels);
  if (!errors.length && fullyPrivileged(policy)) return;
  // An update matters only when it changes what runs (isSignificantPodUpdate: images, containers).
  if (a.operation === 'UPDATE' && a.old && !significantUpdate(a.object, a.old as Obj)) return;
  const d = decidePod(policy, a.object.metadata ?? {}, a.object.spec ?? {}, true);
  a.warnings.push(...d.warnings);
  if (!d.allowed) throw forbidden(a, d.denial!);
}

function significantUpdate(pod: Obj, old: Obj): boolean {
  const list = (o: Obj, k: string): Obj[] => o.spec?.[k] ?? [];
  if (list(pod, 'containers').length !== list(old, 'containers').length) return true;
  if (list(pod, 'initContainers').length !== list(old, 'initContainers').length) return true;
  for (const k of ['containers', 'initContainers']) {
    for (const [i, c] of list(pod, k).entries()) if (c.image !== list(old, k)[i]?.image) return true;
  }
  for (const c of list(pod, 'ephemeralContainers')) {
    const o = list(old, 'ephemeralContainers').find((x) => x.name === c.name);
    if (!o || o.image !== c.image) return true;
  }
  return false;
}

/** field.Invalid on the labels, worded as errors.NewInvalid(Namespace, name, errs). */
function invalidLabels(name: string, errors: LabelError[]): StatusError {
  const causes = errors.map((e) => ({
    reason: 'FieldValueInvalid',
    message: `Invalid value: ${JSON.stringify(e.value)}: ${e.detail}`,
    field: `metadata.labels[${e.label}]`,
  }));
  const texts = [...new Set(causes.map((c) => `${c.field}: ${c.message}`))];
  const msg = texts.length === 1 ? texts[0] : `[${texts.join(', ')}]`;
  return new StatusError(422, 'Invalid', `Namespace ${JSON.stringify(name)} is invalid: ${msg}`, {
    name,
    kind: 'Namespace',
    causes,
  });
}

function validateNamespace(store: Store, a: AdmissionAttributes, maxPods: number): void {
  if (a.subresource) return;
  const labels = a.object.metadata?.labels as Record<string, string> | undefined;
  const next = policyFromLabels(labels);
  if (a.operation === 'CREATE') {
    if (next.errors.length) throw invalidLabels(a.name, next.errors);
    return;
  }
  const prev = policyFromLabels(a.old?.metadata.labels);
  if (next.errors.length && (!prev.errors.length || JSON.stringify(prev.errors) !== JSON.stringify(next.errors)))
    throw invalidLabels(a.name, next.errors);
  if (!tightened(next.policy, prev.policy)) return;
  const pods = store.list(PODS, a.name) as Array<{ metadata: Obj; spec?: Obj }>;
  a.warnings.push(...existingPodWarnings(a.name, next.policy.enforce, pods, maxPods));
}

/** The enforce level changed to something stricter, or to another version (ValidateNamespace). */
function tightened(next: Policy, prev: Policy): boolean {
  const n = next.enforce,
    p = prev.enforce;
  const sameVersion =
    n.version.latest === p.version.latest &&
    (n.version.latest || (!p.version.latest && n.version.minor === p.version.minor));
  if (n.level === p.level && sameVersion) return false;
  if (n.level === 'privileged') return false;
  const rank = (l: string) => ['privileged', 'baseline', 'restricted'].indexOf(l);
  if (sameVersion && rank(n.level) <= rank(p.level)) return false;
  return true;
}
