/**
 * @module sim/admission/quota-usage
 * What an object costs in ResourceQuota terms: the quota evaluators of pods, services and
 * persistentvolumeclaims (pkg/quota/v1/evaluator/core) and the generic object-count evaluator
 * (k8s.io/apiserver/pkg/quota/v1/generic: `count/<resource>[.<group>]`, plus the legacy names
 * `configmaps`, `secrets`, `resourcequotas`, `replicationcontrollers`). Pure functions of objects.
 */
import { quantityOf, type Quantity } from '../../kube/quantity.js';
import { podLimits, podRequests, resourceList, type ResourceList } from '../../kube/pod-resources.js';
import type { ResourceDef } from '../store/resources.js';

type Obj = Record<string, any>;

export interface QuotaEvaluator {
  /** MatchingResources: which of a quota's resource names this evaluator accounts. */
  matching(names: string[]): string[];
  /** A pure function of the object: the controller adds and subtracts it as objects change. */
  usage(obj: Obj): ResourceList;
  /** Handles: which operations can change usage. */
  handles(operation: 'CREATE' | 'UPDATE', subresource: string | undefined): boolean;
  /** Whether the object falls under a quota scope (scoped quotas match pods only). */
  matchesScope(scope: Obj, obj: Obj): boolean;
  /** Constraints: why the object may not be admitted under a quota that limits `required`. */
  constraints?(required: string[], obj: Obj): string | undefined;
}

const ONE = quantityOf(1);
const countName = (def: ResourceDef) => `count/${def.resource}${def.group ? `.${def.group}` : ''}`;
const LEGACY_COUNT: Record<string, string> = {
  configmaps: 'configmaps',
  secrets: 'secrets',
  resourcequotas: 'resourcequotas',
  replicationcontrollers: 'replicationcontrollers',
};
const noScope = () => false;

// ------------------------------------------------------------------ pods

const POD_RESOURCES = [
  'count/pods',
  'cpu',
  'memory',
  'ephemeral-storage',
  'requests.cpu',
  'requests.memory',
  'requests.ephemeral-storage',
  'limits.cpu',
  'limits.memory',
  'limits.ephemeral-storage',
  'pods',
];
/** "It was a mistake, but" a quota on these requires every container to set them (pods.go validationSet). */
const VALIDATION_SET = new Set(['cpu', 'memory', 'requests.cpu', 'requests.memory', 'limits.cpu', 'limits.memory']);
const isNative = (n: string) => !n.includes('/') || n.includes('kubernetes.io/');
const isExtendedForQuota = (n: string) => !isNative(n) && n.startsWith('requests.');

/** podComputeUsageHelper. */
function computeUsage(requests: ResourceList, limits: ResourceList): ResourceList {
  const out: ResourceList = new Map([['pods', ONE]]);
  for (const r of ['cpu', 'memory', 'ephemeral-storage']) {
    const q = requests.get(r);
    if (q) out.set(r, q).set(`requests.${r}`, q);
    const l = limits.get(r);
    if (l) out.set(`limits.${r}`, l);
  }
  for (const [r, q] of requests) {
    if (r.startsWith('hugepages-')) out.set(r, q).set(`requests.${r}`, q);
    else if (!isNative(r)) out.set(`requests.${r}`, q);
  }
  return out;
}

/**
 * QuotaV1Pod: terminal pods no longer use compute quota. (Upstream also stops charging a pod
 * stuck terminating past its grace period, a lost node's; kube-sim's kubelet removes deleted pods
 * itself, and usage has to depend on the object alone to be counted incrementally.)
 */
function chargeable(pod: Obj): boolean {
  const phase = pod.status?.phase;
  return phase !== 'Succeeded' && phase !== 'Failed';
}

function qosBestEffort(spec: Obj): boolean {
  for (const c of [...(spec.containers ?? []), ...(spec.initContainers ?? [])]) {
    for (const k of ['requests', 'limits'])
      for (const r of ['cpu', 'memory'])
        if (c.resources?.[k]?.[r] !== undefined && c.resources[k][r] !== '0') return false;
  }
  return true;
}

function podScope(scope: Obj, pod: Obj): boolean {
  const spec = pod.spec ?? {};
  const terminating = typeof spec.activeDeadlineSeconds === 'number' && spec.activeDeadlineSeconds >= 0;
  switch (scope.scopeName) {
    case 'Terminating':
      return terminating;
    case 'NotTerminating':
      return !terminating;
    case 'BestEffort':
      return qosBestEffort(spec);
    case 'NotBestEffort':
      return !qosBestEffort(spec);
    case 'PriorityClass': {
      const pc: string = spec.priorityClassName ?? '';
      const values: string[] = scope.values ?? [];
      switch (scope.operator) {
        case 'Exists':
          return pc !== '';
        case 'DoesNotExist':
          return pc === '';
        case 'In':
          return pc !== '' && values.includes(pc);
        case 'NotIn':
          return pc === '' || !values.includes(pc);
      }
      return false;
    }
    case 'CrossNamespacePodAffinity': {
      const terms = (a: Obj | undefined) => [
        ...(a?.requiredDuringSchedulingIgnoredDuringExecution ?? []),
        ...(a?.preferredDuringSchedulingIgnoredDuringExecution ?? []).map((w: Obj) => w.podAffinityTerm ?? {}),
      ];
      return [...terms(spec.affinity?.podAffinity), ...terms(spec.affinity?.podAntiAffinity)].some(
        (t: Obj) => (t.namespaces ?? []).length > 0 || t.namespaceSelector != null,
      );
    }
  }
  return false;
}

const podEvaluator: QuotaEvaluator = {
  matching: (names) =>
    names.filter(
      (n) =>
        POD_RESOURCES.includes(n) ||
        n.startsWith('hugepages-') ||
        n.startsWith('requests.hugepages-') ||
        isExtendedForQuota(n),
    ),
  usage(pod) {
    const out: ResourceList = new Map([['count/pods', ONE]]);
    if (!chargeable(pod)) return out;
    for (const [k, v] of computeUsage(podRequests(pod.spec ?? {}), podLimits(pod.spec ?? {}))) out.set(k, v);
    return out;
  },
  handles: (op, sub) => op === 'CREATE' && !sub,
  matchesScope: podScope,
  constraints(required, pod) {
    const need = required.filter((r) => VALIDATION_SET.has(r));
    const missing = new Map<string, Set<string>>();
    const spec = pod.spec ?? {};
    for (const c of [...(spec.containers ?? []), ...(spec.initContainers ?? [])]) {
      const has = computeUsage(resourceMap(c.resources?.requests), resourceMap(c.resources?.limits));
      for (const r of need) if (!has.has(r)) (missing.get(r) ?? missing.set(r, new Set()).get(r)!).add(c.name);
    }
    if (!missing.size) return undefined;
    const parts = [...missing.keys()].sort().map((r) => `${r} for: ${[...missing.get(r)!].sort().join(',')}`);
    return `must specify ${parts.join('; ')}`;
  },
};

/** Presence is what constraints look at; the value does not matter. */
function resourceMap(json: unknown): ResourceList {
  const out: ResourceList = new Map();
  if (json && typeof json === 'object') for (const k of Object.keys(json)) out.set(k, ONE);
  return out;
}

// ------------------------------------------------------------------ services, claims, counts

const SERVICE_RESOURCES = ['count/services', 'services', 'services.loadbalancers', 'services.nodeports'];
const serviceEvaluator: QuotaEvaluator = {
  matching: (names) => names.filter((n) => SERVICE_RESOURCES.includes(n)),
  usage(svc) {
    const out: ResourceList = new Map([
      ['services', ONE],
      ['count/services', ONE],
    ]);
    const type = svc.spec?.type ?? 'ClusterIP';
    const ports = (svc.spec?.ports ?? []).length;
    if (type === 'NodePort') out.set('services.nodeports', quantityOf(ports));
    if (type === 'LoadBalancer') {
      out.set('services.loadbalancers', ONE);
      // Without allocated node ports only the explicitly asked ones count.
      const explicit = (svc.spec?.ports ?? []).filter((p: Obj) => p.nodePort).length;
      out.set('services.nodeports', quantityOf(svc.spec?.allocateLoadBalancerNodePorts === false ? explicit : ports));
    }
    return out;
  },
  handles: (op, sub) => !sub && (op === 'CREATE' || op === 'UPDATE'),
  matchesScope: noScope,
};

const STORAGE_CLASS = '.storageclass.storage.k8s.io/';
const claimEvaluator: QuotaEvaluator = {
  matching: (names) =>
    names.filter(
      (n) =>
        ['count/persistentvolumeclaims', 'persistentvolumeclaims', 'requests.storage'].includes(n) ||
        n.endsWith(`${STORAGE_CLASS}persistentvolumeclaims`) ||
        n.endsWith(`${STORAGE_CLASS}requests.storage`),
    ),
  usage(pvc) {
    const out: ResourceList = new Map([
      ['persistentvolumeclaims', ONE],
      ['count/persistentvolumeclaims', ONE],
    ]);
    const sc: string =
      pvc.metadata?.annotations?.['volume.beta.kubernetes.io/storage-class'] ?? pvc.spec?.storageClassName ?? '';
    if (sc) out.set(`${sc}${STORAGE_CLASS}persistentvolumeclaims`, ONE);
    const storage = resourceList(pvc.spec?.resources?.requests).get('storage');
    if (storage) {
      out.set('requests.storage', storage);
      if (sc) out.set(`${sc}${STORAGE_CLASS}requests.storage`, storage);
    }
    return out;
  },
  handles: (op, sub) => !sub && (op === 'CREATE' || op === 'UPDATE'),
  matchesScope: noScope,
};

function countEvaluator(def: ResourceDef): QuotaEvaluator {
  const names = [countName(def), ...(!def.group && LEGACY_COUNT[def.resource] ? [LEGACY_COUNT[def.resource]!] : [])];
  return {
    matching: (input) => input.filter((n) => names.includes(n)),
    usage: () => new Map(names.map((n) => [n, ONE] as [string, Quantity])),
    handles: (op, sub) => op === 'CREATE' && !sub,
    matchesScope: noScope,
  };
}

/** Never quota-ed (pkg/quota/v1/install/registry.go ignoredResources): events, and what is not stored. */
export const quotaIgnored = (def: ResourceDef) =>
  !!def.review || (def.resource === 'events' && (!def.group || def.group === 'events.k8s.io'));

const cache = new Map<ResourceDef, QuotaEvaluator>();
export function evaluatorFor(def: ResourceDef): QuotaEvaluator {
  let e = cache.get(def);
  if (e) return e;
  if (!def.group && def.resource === 'pods') e = podEvaluator;
  else if (!def.group && def.resource === 'services') e = serviceEvaluator;
  else if (!def.group && def.resource === 'persistentvolumeclaims') e = claimEvaluator;
  else e = countEvaluator(def);
  cache.set(def, e);
  return e;
}
