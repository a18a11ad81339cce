/**
 * @module sim/store/prune
 * Unknown fields, as the apiserver's decoder treats them: the typed Go structs have no place for
 * them, so they are dropped, and `fieldValidation` says what the client hears
 * (apiserver/pkg/endpoints/handlers: Strict -> 400 "strict decoding error: unknown field", Warn
 * (the default) -> a `Warning: 299` header per field, Ignore -> nothing). kube-sim knows the fields
 * of the object roots, of ObjectMeta, and of PodSpec/Container (1.33); deeper structures pass.
 */
type Obj = Record<string, any>;

/** ObjectMeta's fields, in Go's field order (k8s.io/apimachinery/pkg/apis/meta/v1 ObjectMeta). */
export const OBJECT_META_FIELDS = [
  'name',
  'generateName',
  'namespace',
  'selfLink',
  'uid',
  'resourceVersion',
  'generation',
  'creationTimestamp',
  'deletionTimestamp',
  'deletionGracePeriodSeconds',
  'labels',
  'annotations',
  'ownerReferences',
  'finalizers',
  'managedFields',
] as const;
const META = new Set<string>(OBJECT_META_FIELDS);
const SPEC_STATUS = ['spec', 'status'];
const ROOT: Record<string, string[]> = {
  Pod: SPEC_STATUS,
  Namespace: SPEC_STATUS,
  Service: SPEC_STATUS,
  PersistentVolumeClaim: SPEC_STATUS,
  PersistentVolume: SPEC_STATUS,
  StorageClass: [
    'provisioner',
    'parameters',
    'reclaimPolicy',
    'mountOptions',
    'allowVolumeExpansion',
    'volumeBindingMode',
    'allowedTopologies',
  ],
  ResourceQuota: SPEC_STATUS,
  Node: SPEC_STATUS,
  LimitRange: ['spec'],
  NetworkPolicy: ['spec'],
  Endpoints: ['subsets'],
  ConfigMap: ['data', 'binaryData', 'immutable'],
  Secret: ['data', 'stringData', 'type', 'immutable'],
  ServiceAccount: ['secrets', 'imagePullSecrets', 'automountServiceAccountToken'],
  Event: [
    'involvedObject',
    'reason',
    'message',
    'source',
    'firstTimestamp',
    'lastTimestamp',
    'count',
    'type',
    'eventTime',
    'series',
    'action',
    'related',
    'reportingComponent',
    'reportingInstance',
  ],
  Role: ['rules'],
  RoleBinding: ['subjects', 'roleRef'],
  ClusterRole: ['rules', 'aggregationRule'],
  ClusterRoleBinding: ['subjects', 'roleRef'],
};
const POD_SPEC = new Set([
  'volumes',
  'initContainers',
  'containers',
  'ephemeralContainers',
  'restartPolicy',
  'terminationGracePeriodSeconds',
  'activeDeadlineSeconds',
  'dnsPolicy',
  'nodeSelector',
  'serviceAccountName',
  'serviceAccount',
  'automountServiceAccountToken',
  'nodeName',
  'hostNetwork',
  'hostPID',
  'hostIPC',
  'shareProcessNamespace',
  'securityContext',
  'imagePullSecrets',
  'hostname',
  'subdomain',
  'affinity',
  'schedulerName',
  'tolerations',
  'hostAliases',
  'priorityClassName',
  'priority',
  'dnsConfig',
  'readinessGates',
  'runtimeClassName',
  'enableServiceLinks',
  'preemptionPolicy',
  'overhead',
  'topologySpreadConstraints',
  'setHostnameAsFQDN',
  'os',
  'hostUsers',
  'schedulingGates',
  'resourceClaims',
  'resources',
]);
const CONTAINER = new Set([
  'name',
  'image',
  'command',
  'args',
  'workingDir',
  'ports',
  'envFrom',
  'env',
  'resources',
  'resizePolicy',
  'restartPolicy',
  'volumeMounts',
  'volumeDevices',
  'livenessProbe',
  'readinessProbe',
  'startupProbe',
  'lifecycle',
  'terminationMessagePath',
  'terminationMessagePolicy',
  'imagePullPolicy',
  'securityContext',
  'stdin',
  'stdinOnce',
  'tty',
  'targetContainerName',
]);

function pruneKeys(o: unknown, allowed: Set<string>, path: string, out: string[]): void {
  if (!o || typeof o !== 'object' || Array.isArray(o)) return;
  for (const k of Object.keys(o)) {
    if (!allowed.has(k)) {
      out.push(`${path}${k}`);
      delete (o as Obj)[k];
    }
  }
}

/** Remove unknown fields from `obj` (mutated); returns their paths, e.g. `spec.containers[0].foo`. */
export function pruneUnknown(obj: Obj): string[] {
  const out: string[] = [];
  const root = ROOT[obj.kind];
  if (!root) return out;
  pruneKeys(obj, new Set(['apiVersion', 'kind', 'metadata', ...root]), '', out);
  pruneKeys(obj.metadata, META, 'metadata.', out);
  if (obj.kind === 'Pod' && obj.spec && typeof obj.spec === 'object') {
    pruneKeys(obj.spec, POD_SPEC, 'spec.', out);
    for (const key of ['containers', 'initContainers', 'ephemeralContainers']) {
      const list = obj.spec[key];
      if (Array.isArray(list)) list.forEach((c, i) => pruneKeys(c, CONTAINER, `spec.${key}[${i}].`, out));
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Type errors the Go JSON decoder reports (encoding/json UnmarshalTypeError), for the fields
// clients most often get wrong: string maps (labels, annotations, ConfigMap/Secret data), env
// values, command/args, ports; and Secret/binaryData values that are not base64.

const jsType = (v: unknown) =>
  v === null
    ? 'null'
    : Array.isArray(v)
      ? 'array'
      : typeof v === 'object'
        ? 'object'
        : typeof v === 'boolean'
          ? 'bool'
          : typeof v;
const B64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Returns the decoder's message for the first type error, or undefined. */
export function typeError(obj: Obj): string | undefined {
  const bad = (v: unknown, struct: string, path: string, goType: string) =>
    `json: cannot unmarshal ${jsType(v)} into Go struct field ${struct}.${path} of type ${goType}`;
  const strMap = (m: unknown, struct: string, path: string): string | undefined => {
    if (m === undefined || m === null) return undefined;
    if (typeof m !== 'object' || Array.isArray(m)) return bad(m, struct, path, 'map[string]string');
    for (const v of Object.values(m)) if (typeof v !== 'string') return bad(v, struct, path, 'string');
    return undefined;
  };
  const meta = obj.metadata;
  if (meta && typeof meta === 'object') {
    if (meta.name !== undefined && typeof meta.name !== 'string')
      return bad(meta.name, 'ObjectMeta', 'metadata.name', 'string');
    const e =
      strMap(meta.labels, 'ObjectMeta', 'metadata.labels') ??
      strMap(meta.annotations, 'ObjectMeta', 'metadata.annotations');
    if (e) return e;
  }
  if (obj.kind === 'ConfigMap') {
    const e = strMap(obj.data, 'ConfigMap', 'data');
    if (e) return e;
  }
  if (obj.kind === 'Secret') {
    const e = strMap(obj.stringData, 'Secret', 'stringData');
    if (e) return e;
  }
  for (const [kind, field] of [
    ['Secret', 'data'],
    ['ConfigMap', 'binaryData'],
  ] as const) {
    if (obj.kind !== kind || obj[field] === undefined || obj[field] === null) continue;
    if (typeof obj[field] !== 'object' || Array.isArray(obj[field]))
      return bad(obj[field], kind, field, 'map[string][]uint8');
    for (const v of Object.values(obj[field] as Obj)) {
      if (typeof v !== 'string') return bad(v, kind, field, '[]uint8');
      if (!B64.test(v)) return `illegal base64 data at input byte ${firstBadB64(v)}`;
    }
  }
  if (obj.kind === 'Pod' && obj.spec && typeof obj.spec === 'object') {
    for (const key of ['containers', 'initContainers']) {
      const list = obj.spec[key];
      if (list === undefined || list === null) continue;
      if (!Array.isArray(list)) return bad(list, 'PodSpec', `spec.${key}`, '[]v1.Container');
      for (const c of list) {
        if (!c || typeof c !== 'object') return bad(c, 'PodSpec', `spec.${key}`, 'v1.Container');
        for (const f of ['command', 'args']) {
          if (c[f] === undefined || c[f] === null) continue;
          if (!Array.isArray(c[f])) return bad(c[f], 'Container', `spec.${key}.${f}`, '[]string');
          for (const a of c[f]) if (typeof a !== 'string') return bad(a, 'Container', `spec.${key}.${f}`, 'string');
        }
        for (const e of Array.isArray(c.env) ? c.env : []) {
          if (e && e.value !== undefined && e.value !== null && typeof e.value !== 'string')
            return bad(e.value, 'EnvVar', `spec.${key}.env.value`, 'string');
        }
        for (const p of Array.isArray(c.ports) ? c.ports : []) {
          if (p && p.containerPort !== undefined && !Number.isInteger(p.containerPort))
            return bad(p.containerPort, 'ContainerPort', `spec.${key}.ports.containerPort`, 'int32');
        }
      }
    }
  }
  return undefined;
}

function firstBadB64(v: string): number {
  for (let i = 0; i < v.length; i++) if (!/[A-Za-z0-9+/=]/.test(v[i]!)) return i;
  return Math.max(0, v.length - (v.length % 4 || 4));
}
