/**
 * @module sim/store/resources
 * The resources kube-sim serves, as data: what discovery advertises (verbs, shortNames,
 * categories, subresources) and what the store needs (namespaced, status subresource, generation,
 * field selectors, delete answer). Values follow the real registries (pkg/registry/<group>/<res>).
 */
import type { Gvr } from '../types.js';

export interface ResourceDef extends Gvr {
  singular: string;
  shortNames?: string[];
  categories?: string[];
  /** Subresources: name -> { kind, verbs }. Only what kube-sim serves in full is advertised (no proxy:
   * nodes/proxy answers only GET stats/summary, sim/apiserver/node-proxy.ts; no ephemeralcontainers). */
  subresources?: Record<string, { kind: string; verbs: string[]; group?: string; version?: string }>;
  /** `metadata.generation` is kept and bumped when anything but metadata/status changes. */
  generation?: boolean;
  /** PUT/PATCH on the main resource ignore status; /status changes only status. */
  hasStatus?: boolean;
  /** Field selector labels beyond metadata.name / metadata.namespace (ToSelectableFields). */
  fields?: string[];
  /** DELETE answers the deleted object (genericregistry.Store ReturnDeletedObject) rather than a Status. */
  returnDeleted?: boolean;
  /** DNS-1123 label (63 chars, no dots) rather than subdomain for the name. */
  nameIsLabel?: boolean;
  /** The verbs; defaults to the full CRUD set. */
  verbs?: string[];
  /** A create-only review resource that is answered, never stored (SelfSubjectAccessReview...). */
  review?: boolean;
}

const CRUD = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];

export const RESOURCES: ResourceDef[] = [
  {
    group: '',
    version: 'v1',
    resource: 'pods',
    kind: 'Pod',
    singular: 'pod',
    namespaced: true,
    shortNames: ['po'],
    categories: ['all'],
    generation: true,
    hasStatus: true,
    returnDeleted: true,
    fields: [
      'spec.nodeName',
      'spec.restartPolicy',
      'spec.schedulerName',
      'spec.serviceAccountName',
      'spec.hostNetwork',
      'status.phase',
      'status.podIP',
      'status.nominatedNodeName',
    ],
    subresources: {
      attach: { kind: 'PodAttachOptions', verbs: ['create', 'get'] },
      binding: { kind: 'Binding', verbs: ['create'] },
      eviction: { kind: 'Eviction', verbs: ['create'], group: 'policy', version: 'v1' },
      exec: { kind: 'PodExecOptions', verbs: ['create', 'get'] },
      log: { kind: 'Pod', verbs: ['get'] },
      portforward: { kind: 'PodPortForwardOptions', verbs: ['create', 'get'] },
      status: { kind: 'Pod', verbs: ['get', 'patch', 'update'] },
    },
  },
  {
    group: '',
    version: 'v1',
    resource: 'namespaces',
    kind: 'Namespace',
    singular: 'namespace',
    namespaced: false,
    shortNames: ['ns'],
    hasStatus: true,
    nameIsLabel: true,
    fields: ['status.phase'],
    verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'],
    subresources: {
      finalize: { kind: 'Namespace', verbs: ['update'] },
      status: { kind: 'Namespace', verbs: ['get', 'patch', 'update'] },
    },
  },
  {
    group: '',
    version: 'v1',
    resource: 'services',
    kind: 'Service',
    singular: 'service',
    namespaced: true,
    shortNames: ['svc'],
    categories: ['all'],
    hasStatus: true,
    returnDeleted: true,
    nameIsLabel: true,
    verbs: ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'],
    subresources: { status: { kind: 'Service', verbs: ['get', 'patch', 'update'] } },
  },
  {
    group: '',
    version: 'v1',
    resource: 'endpoints',
    kind: 'Endpoints',
    singular: 'endpoints',
    namespaced: true,
    shortNames: ['ep'],
  },
  {
    group: '',
    version: 'v1',
    resource: 'configmaps',
    kind: 'ConfigMap',
    singular: 'configmap',
    namespaced: true,
    shortNames: ['cm'],
  },
  {
    group: '',
    version: 'v1',
    resource: 'secrets',
    kind: 'Secret',
    singular: 'secret',
    namespaced: true,
    fields: ['type'],
  },
  {
    group: '',
    version: 'v1',
    resource: 'serviceaccounts',
    kind: 'ServiceAccount',
    singular: 'serviceaccount',
    namespaced: true,
    shortNames: ['sa'],
    returnDeleted: true,
    subresources: { token: { kind: 'TokenRequest', verbs: ['create'], group: 'authentication.k8s.io', version: 'v1' } },
  },
  // -- storage (src/sim/storage): pkg/registry/core/persistentvolume{,claim}, pkg/registry/storage/storageclass
  {
    group: '',
    version: 'v1',
    resource: 'persistentvolumeclaims',
    kind: 'PersistentVolumeClaim',
    singular: 'persistentvolumeclaim',
    namespaced: true,
    shortNames: ['pvc'],
    hasStatus: true,
    subresources: { status: { kind: 'PersistentVolumeClaim', verbs: ['get', 'patch', 'update'] } },
  },
  {
    group: '',
    version: 'v1',
    resource: 'persistentvolumes',
    kind: 'PersistentVolume',
    singular: 'persistentvolume',
    namespaced: false,
    shortNames: ['pv'],
    hasStatus: true,
    subresources: { status: { kind: 'PersistentVolume', verbs: ['get', 'patch', 'update'] } },
  },
  // -- end storage
  {
    group: '',
    version: 'v1',
    resource: 'events',
    kind: 'Event',
    singular: 'event',
    namespaced: true,
    shortNames: ['ev'],
    fields: [
      'involvedObject.kind',
      'involvedObject.namespace',
      'involvedObject.name',
      'involvedObject.uid',
      'involvedObject.apiVersion',
      'involvedObject.resourceVersion',
      'involvedObject.fieldPath',
      'reason',
      'reportingComponent',
      'source',
      'type',
    ],
  },
  {
    group: '',
    version: 'v1',
    resource: 'resourcequotas',
    kind: 'ResourceQuota',
    singular: 'resourcequota',
    namespaced: true,
    shortNames: ['quota'],
    hasStatus: true,
    subresources: { status: { kind: 'ResourceQuota', verbs: ['get', 'patch', 'update'] } },
  },
  {
    group: '',
    version: 'v1',
    resource: 'limitranges',
    kind: 'LimitRange',
    singular: 'limitrange',
    namespaced: true,
    shortNames: ['limits'],
  },
  {
    group: '',
    version: 'v1',
    resource: 'nodes',
    kind: 'Node',
    singular: 'node',
    namespaced: false,
    shortNames: ['no'],
    hasStatus: true,
    returnDeleted: true,
    fields: ['spec.unschedulable'],
    subresources: { status: { kind: 'Node', verbs: ['get', 'patch', 'update'] } },
  },
  {
    group: 'rbac.authorization.k8s.io',
    version: 'v1',
    resource: 'roles',
    kind: 'Role',
    singular: 'role',
    namespaced: true,
  },
  {
    group: 'rbac.authorization.k8s.io',
    version: 'v1',
    resource: 'rolebindings',
    kind: 'RoleBinding',
    singular: 'rolebinding',
    namespaced: true,
  },
  {
    group: 'authorization.k8s.io',
    version: 'v1',
    resource: 'selfsubjectaccessreviews',
    kind: 'SelfSubjectAccessReview',
    singular: 'selfsubjectaccessreview',
    namespaced: false,
    verbs: ['create'],
    review: true,
  },
  {
    group: 'authorization.k8s.io',
    version: 'v1',
    resource: 'selfsubjectrulesreviews',
    kind: 'SelfSubjectRulesReview',
    singular: 'selfsubjectrulesreview',
    namespaced: false,
    verbs: ['create'],
    review: true,
  },
  {
    group: 'authentication.k8s.io',
    version: 'v1',
    resource: 'selfsubjectreviews',
    kind: 'SelfSubjectReview',
    singular: 'selfsubjectreview',
    namespaced: false,
    verbs: ['create'],
    review: true,
  },
  {
    group: 'networking.k8s.io',
    version: 'v1',
    resource: 'networkpolicies',
    kind: 'NetworkPolicy',
    singular: 'networkpolicy',
    namespaced: true,
    shortNames: ['netpol'],
    generation: true,
  },
  // --- identities and RBAC (src/sim/auth)
  {
    group: 'rbac.authorization.k8s.io',
    version: 'v1',
    resource: 'clusterroles',
    kind: 'ClusterRole',
    singular: 'clusterrole',
    namespaced: false,
  },
  {
    group: 'rbac.authorization.k8s.io',
    version: 'v1',
    resource: 'clusterrolebindings',
    kind: 'ClusterRoleBinding',
    singular: 'clusterrolebinding',
    namespaced: false,
  },
  {
    group: 'authentication.k8s.io',
    version: 'v1',
    resource: 'tokenreviews',
    kind: 'TokenReview',
    singular: 'tokenreview',
    namespaced: false,
    verbs: ['create'],
    review: true,
  },
  {
    group: 'authorization.k8s.io',
    version: 'v1',
    resource: 'subjectaccessreviews',
    kind: 'SubjectAccessReview',
    singular: 'subjectaccessreview',
    namespaced: false,
    verbs: ['create'],
    review: true,
  },
  {
    group: 'authorization.k8s.io',
    version: 'v1',
    resource: 'localsubjectaccessreviews',
    kind: 'LocalSubjectAccessReview',
    singular: 'localsubjectaccessreview',
    namespaced: true,
    verbs: ['create'],
    review: true,
  },
  // apiextensions.k8s.io is served (empty unless CRDs are created; they are stored, not served as
  // new resources) so that kubectl's client-side validation can list CRDs.
  {
    group: 'apiextensions.k8s.io',
    version: 'v1',
    resource: 'customresourcedefinitions',
    kind: 'CustomResourceDefinition',
    singular: 'customresourcedefinition',
    namespaced: false,
    shortNames: ['crd', 'crds'],
    categories: ['api-extensions'],
    hasStatus: true,
    subresources: { status: { kind: 'CustomResourceDefinition', verbs: ['get', 'patch', 'update'] } },
  },
  // storage (src/sim/storage)
  {
    group: 'storage.k8s.io',
    version: 'v1',
    resource: 'storageclasses',
    kind: 'StorageClass',
    singular: 'storageclass',
    namespaced: false,
    shortNames: ['sc'],
  },
];

for (const r of RESOURCES) r.verbs ??= CRUD;

/** 'pods' or 'rbac.authorization.k8s.io/roles' */
export const resourceKey = (g: { group: string; resource: string }) =>
  g.group ? `${g.group}/${g.resource}` : g.resource;

const byKey = new Map(RESOURCES.map((r) => [resourceKey(r), r]));
const byGvr = new Map(RESOURCES.map((r) => [`${r.group}/${r.version}/${r.resource}`, r]));
const byKind = new Map(RESOURCES.map((r) => [`${r.group}/${r.kind}`, r]));

export const findResource = (group: string, version: string, resource: string) =>
  byGvr.get(`${group}/${version}/${resource}`);
export const defOf = (g: { group: string; resource: string }): ResourceDef => {
  const d = byKey.get(resourceKey(g));
  if (!d) throw new Error(`kube-sim: unknown resource ${resourceKey(g)}`);
  return d;
};
/** Resource of an apiVersion/kind pair (used by the GC to resolve ownerReferences). */
export const defOfKind = (apiVersion: string, kind: string): ResourceDef | undefined => {
  const group = apiVersion.includes('/') ? apiVersion.split('/')[0]! : '';
  return byKind.get(`${group}/${kind}`);
};
export const apiVersionOf = (d: { group: string; version: string }) =>
  d.group ? `${d.group}/${d.version}` : d.version;
/** Groups in discovery order (core first). */
export const GROUPS = [...new Set(RESOURCES.filter((r) => r.group).map((r) => r.group))].map((g) => ({
  group: g,
  version: 'v1',
}));
export const PODS_DEF = defOf({ group: '', resource: 'pods' });
