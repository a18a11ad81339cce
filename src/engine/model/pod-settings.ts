/**
 * @module engine/model/pod-settings
 * Cluster settings a platform team needs on every container Pod, which Docker has no words for
 * (pure): default and maximum requests/limits (a namespace with a ResourceQuota refuses Pods
 * without them), nodeSelector, tolerations, affinity, imagePullSecrets, extra labels and
 * annotations (`sidecar.istio.io/inject: "false"`), serviceAccountName, runtimeClassName,
 * priorityClassName. From flags, and from an optional Pod template (YAML: a Pod, or a bare
 * PodSpec) merged under them; what kuber-api itself sets always wins (its labels, the
 * securityContext, the container's command).
 */
import { forbidden } from '../../errors.js';
import { cmpQuantity, parseQuantity } from '../../kube/quantity.js';
import type { V1Affinity, V1LocalObjectReference, V1Pod, V1Toleration } from '@kubernetes/client-node';

type Resources = Record<string, string>;

export interface PodSettings {
  /** Requests/limits a container gets when Docker sets none (per resource). */
  defaultRequests: Resources;
  defaultLimits: Resources;
  /** The largest limit (and request) a container may ask for: above is a 403 at create. */
  maxLimits: Resources;
  nodeSelector: Record<string, string>;
  tolerations: V1Toleration[];
  affinity?: V1Affinity;
  imagePullSecrets: string[];
  labels: Record<string, string>;
  annotations: Record<string, string>;
  serviceAccountName?: string;
  runtimeClassName?: string;
  priorityClassName?: string;
}

export const NO_POD_SETTINGS: PodSettings = Object.freeze({
  defaultRequests: {},
  defaultLimits: {},
  maxLimits: {},
  nodeSelector: {},
  tolerations: [],
  imagePullSecrets: [],
  labels: {},
  annotations: {},
});

/** `k=v` items (flags) -> a record; a bad item names itself. */
export function keyValues(items: readonly string[], what: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const it of items) {
    const eq = it.indexOf('=');
    if (eq <= 0) throw new Error(`${what} "${it}": expected key=value`);
    out[it.slice(0, eq)] = it.slice(eq + 1);
  }
  return out;
}

/** kubectl taint syntax: `key[=value]:Effect`, or `key:Exists` style `key:Effect` (operator Exists when no value). */
export function parseToleration(s: string): V1Toleration {
  const m = /^([^=:]+)(?:=([^:]*))?(?::(NoSchedule|PreferNoSchedule|NoExecute))?$/.exec(s);
  if (!m) throw new Error(`toleration "${s}": expected key[=value][:NoSchedule|PreferNoSchedule|NoExecute]`);
  return {
    key: m[1]!,
    operator: m[2] === undefined ? 'Exists' : 'Equal',
    ...(m[2] !== undefined ? { value: m[2] } : {}),
    ...(m[3] ? { effect: m[3] } : {}),
  };
}

/** The settings of a Pod template (a Pod or a PodSpec) — what flags can say, taken from YAML. */
export function settingsFromTemplate(doc: unknown): Partial<PodSettings> {
  if (!doc || typeof doc !== 'object') throw new Error('the pod template must be a YAML Pod or PodSpec');
  const pod = ('spec' in doc ? doc : { spec: doc }) as V1Pod;
  const spec = pod.spec ?? ({} as NonNullable<V1Pod['spec']>);
  const res = spec.containers?.[0]?.resources;
  const pick = <T>(v: T | undefined, k: string) => (v === undefined ? {} : { [k]: v });
  return {
    ...pick(res?.requests as Resources | undefined, 'defaultRequests'),
    ...pick(res?.limits as Resources | undefined, 'defaultLimits'),
    ...pick(spec.nodeSelector, 'nodeSelector'),
    ...pick(spec.tolerations, 'tolerations'),
    ...pick(spec.affinity, 'affinity'),
    ...pick(spec.imagePullSecrets?.map((s: V1LocalObjectReference) => s.name!).filter(Boolean), 'imagePullSecrets'),
    ...pick(pod.metadata?.labels, 'labels'),
    ...pick(pod.metadata?.annotations, 'annotations'),
    ...pick(spec.serviceAccountName, 'serviceAccountName'),
    ...pick(spec.runtimeClassName, 'runtimeClassName'),
    ...pick(spec.priorityClassName, 'priorityClassName'),
  };
}

/** Template settings under flag settings: maps merge key by key, lists concatenate, scalars: the flag. */
export function mergeSettings(template: Partial<PodSettings>, flags: PodSettings): PodSettings {
  return {
    defaultRequests: { ...template.defaultRequests, ...flags.defaultRequests },
    defaultLimits: { ...template.defaultLimits, ...flags.defaultLimits },
    maxLimits: { ...template.maxLimits, ...flags.maxLimits },
    nodeSelector: { ...template.nodeSelector, ...flags.nodeSelector },
    tolerations: [...(template.tolerations ?? []), ...flags.tolerations],
    ...((flags.affinity ?? template.affinity) ? { affinity: flags.affinity ?? template.affinity } : {}),
    imagePullSecrets: [...new Set([...(template.imagePullSecrets ?? []), ...flags.imagePullSecrets])],
    labels: { ...template.labels, ...flags.labels },
    annotations: { ...template.annotations, ...flags.annotations },
    ...((flags.serviceAccountName ?? template.serviceAccountName)
      ? { serviceAccountName: flags.serviceAccountName ?? template.serviceAccountName }
      : {}),
    ...((flags.runtimeClassName ?? template.runtimeClassName)
      ? { runtimeClassName: flags.runtimeClassName ?? template.runtimeClassName }
      : {}),
    ...((flags.priorityClassName ?? template.priorityClassName)
      ? { priorityClassName: flags.priorityClassName ?? template.priorityClassName }
      : {}),
  };
}

interface PodLike {
  metadata: { labels: Record<string, string>; annotations: Record<string, string> };
  spec: NonNullable<V1Pod['spec']>;
}

/**
 * Lay the settings into a built Pod. Our labels and annotations win over extra ones (the
 * selectors kuber-api relies on cannot be taken over); Docker's own requests/limits win over the
 * defaults; a default request above the container's limit is lowered to it (the apiserver
 * refuses request > limit).
 */
export function applyPodSettings<P extends PodLike>(pod: P, s: PodSettings): P {
  pod.metadata.labels = { ...s.labels, ...pod.metadata.labels };
  pod.metadata.annotations = { ...s.annotations, ...pod.metadata.annotations };
  const spec = pod.spec;
  if (Object.keys(s.nodeSelector).length) spec.nodeSelector = { ...s.nodeSelector, ...spec.nodeSelector };
  if (s.tolerations.length) spec.tolerations = [...s.tolerations, ...(spec.tolerations ?? [])];
  if (s.affinity && !spec.affinity) spec.affinity = s.affinity;
  if (s.imagePullSecrets.length) {
    const have = new Set((spec.imagePullSecrets ?? []).map((x) => x.name));
    spec.imagePullSecrets = [
      ...(spec.imagePullSecrets ?? []),
      ...s.imagePullSecrets.filter((n) => !have.has(n)).map((name) => ({ name })),
    ];
  }
  if (s.serviceAccountName) spec.serviceAccountName = s.serviceAccountName;
  if (s.runtimeClassName) spec.runtimeClassName = s.runtimeClassName;
  if (s.priorityClassName) spec.priorityClassName = s.priorityClassName;
  const c = spec.containers[0];
  if (c && (Object.keys(s.defaultRequests).length || Object.keys(s.defaultLimits).length)) {
    const limits = { ...s.defaultLimits, ...(c.resources?.limits as Resources | undefined) };
    const requests: Resources = { ...s.defaultRequests, ...(c.resources?.requests as Resources | undefined) };
    for (const [k, v] of Object.entries(requests))
      if (limits[k] !== undefined && cmpQuantity(parseQuantity(v), parseQuantity(limits[k])) > 0)
        requests[k] = limits[k]!;
    c.resources = {
      ...(Object.keys(limits).length ? { limits } : {}),
      ...(Object.keys(requests).length ? { requests } : {}),
    };
  }
  return pod;
}

/** `docker create`: a limit or request above --pod-max-limits is a 403 naming the flag. */
export function checkMaxResources(
  resources: { limits?: Resources; requests?: Resources } | undefined,
  s: PodSettings,
): void {
  for (const kind of ['limits', 'requests'] as const) {
    for (const [k, v] of Object.entries(resources?.[kind] ?? {})) {
      const max = s.maxLimits[k];
      if (max !== undefined && cmpQuantity(parseQuantity(v), parseQuantity(max)) > 0)
        throw forbidden(
          `the container asks for ${k} ${kind === 'limits' ? 'limit' : 'request'} ${v}, above kuber-api's maximum ${max} (--pod-max-limits ${k}=${max})`,
        );
    }
  }
}
