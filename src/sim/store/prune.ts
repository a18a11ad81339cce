/**
 * @module sim/store/prune
 * Unknown fields, as the apiserver's decoder treats them: the typed Go structs have no place for
 * them, so they are dropped, and `fieldValidation` says what the client hears
 * (apiserver/pkg/endpoints/handlers: Strict -> 400 "strict decoding error: unknown field", Warn
 * (the default) -> a `Warning: 299` header per field, Ignore -> nothing). kube-sim knows the fields
 * of the object roots, of ObjectMeta, and of PodSpec/Container (1.33); deeper structures pass.
 */
type Obj = Record<string, any>;

const META = new Set(['name', 'generateName', 'namespace', 'selfLink', 'uid', 'resourceVersion', 'generation', 'creationTimestamp', 'deletionTimestamp', 'deletionGracePeriodSeconds', 'labels', 'annotations', 'ownerReferences', 'finalizers', 'managedFields']);
const SPEC_STATUS = ['spec', 'status'];
const ROOT: Record<string, string[]> = {
  Pod: SPEC_STATUS,
  Namespace: SPEC_STATUS,
  Service: SPEC_STATUS,
  PersistentVolumeClaim: SPEC_STATUS,
  ResourceQuota: SPEC_STATUS,
  Node: SPEC_STATUS,
  LimitRange: ['spec'],
  NetworkPolicy: ['spec'],
  Endpoints: ['subsets'],
  ConfigMap: ['data', 'binaryData', 'immutable'],
  Secret: ['data', 'stringData', 'type', 'immutable'],
  ServiceAccount: ['secrets', 'imagePullSecrets', 'automountServiceAccountToken'],
  Event: ['involvedObject', 'reason', 'message', 'source', 'firstTimestamp', 'lastTimestamp', 'count', 'type', 'eventTime', 'series', 'action', 'related', 'reportingComponent', 'reportingInstance'],
  Role: ['rules'],
  RoleBinding: ['subjects', 'roleRef'],
};
const POD_SPEC = new Set([
  'volumes', 'initContainers', 'containers', 'ephemeralContainers', 'restartPolicy', 'terminationGracePeriodSeconds', 'activeDeadlineSeconds', 'dnsPolicy', 'nodeSelector',
  'serviceAccountName', 'serviceAccount', 'automountServiceAccountToken', 'nodeName', 'hostNetwork', 'hostPID', 'hostIPC', 'shareProcessNamespace', 'securityContext',
  'imagePullSecrets', 'hostname', 'subdomain', 'affinity', 'schedulerName', 'tolerations', 'hostAliases', 'priorityClassName', 'priority', 'dnsConfig', 'readinessGates',
  'runtimeClassName', 'enableServiceLinks', 'preemptionPolicy', 'overhead', 'topologySpreadConstraints', 'setHostnameAsFQDN', 'os', 'hostUsers', 'schedulingGates',
  'resourceClaims', 'resources',
]);
const CONTAINER = new Set([
  'name', 'image', 'command', 'args', 'workingDir', 'ports', 'envFrom', 'env', 'resources', 'resizePolicy', 'restartPolicy', 'volumeMounts', 'volumeDevices',
  'livenessProbe', 'readinessProbe', 'startupProbe', 'lifecycle', 'terminationMessagePath', 'terminationMessagePolicy', 'imagePullPolicy', 'securityContext',
  'stdin', 'stdinOnce', 'tty', 'targetContainerName',
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
