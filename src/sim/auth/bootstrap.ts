/**
 * @module sim/auth/bootstrap
 * The default RBAC policy every cluster starts with (plugin/pkg/auth/authorizer/rbac/bootstrappolicy/
 * policy.go): cluster-admin, admin/edit/view with their aggregation rules and the
 * system:aggregate-to-* roles that feed them, the discovery/basic-user/public-info-viewer roles and
 * their bindings, plus the ClusterRole aggregation controller (pkg/controller/clusterroleaggregation):
 * a ClusterRole with an aggregationRule holds the union of the rules of the ClusterRoles its
 * selectors match, kept current as those change. Only the API groups kube-sim serves are listed.
 */
import type { KObject } from '../types.js';
import { matchLabelSelectorObject } from '../store/selectors.js';
import type { Store, StoreEvent } from '../store/store.js';
import type { ResourceDef } from '../store/resources.js';
import { CLUSTER_ROLE_BINDINGS, CLUSTER_ROLES, type PolicyRule } from './rbac.js';

type Obj = Record<string, any>;

const READ = ['get', 'list', 'watch'];
const WRITE = ['create', 'delete', 'deletecollection', 'patch', 'update'];
const RW = [...WRITE, ...READ];
const rule = (verbs: string[], apiGroups: string[], resources: string[]): PolicyRule => ({
  verbs,
  apiGroups,
  resources,
});
const urls = (verbs: string[], nonResourceURLs: string[]): PolicyRule => ({ verbs, nonResourceURLs });
const BOOT = { 'kubernetes.io/bootstrapping': 'rbac-defaults' };
const AUTOUPDATE = { 'rbac.authorization.kubernetes.io/autoupdate': 'true' };
const agg = (to: string) => ({ [`rbac.authorization.k8s.io/aggregate-to-${to}`]: 'true' });

function clusterRole(
  name: string,
  rules: PolicyRule[] | undefined,
  labels: Record<string, string> = {},
  aggregateFrom?: string,
): Obj {
  const o: Obj = { metadata: { name, labels: { ...BOOT, ...labels }, annotations: AUTOUPDATE }, rules: rules ?? [] };
  if (aggregateFrom) o.aggregationRule = { clusterRoleSelectors: [{ matchLabels: agg(aggregateFrom) }] };
  return o;
}

const VIEW_RULES: PolicyRule[] = [
  rule(
    READ,
    [''],
    [
      'pods',
      'replicationcontrollers',
      'replicationcontrollers/scale',
      'serviceaccounts',
      'services',
      'services/status',
      'endpoints',
      'persistentvolumeclaims',
      'persistentvolumeclaims/status',
      'configmaps',
    ],
  ),
  rule(
    READ,
    [''],
    [
      'limitranges',
      'resourcequotas',
      'bindings',
      'events',
      'pods/status',
      'resourcequotas/status',
      'namespaces/status',
      'replicationcontrollers/status',
      'pods/log',
    ],
  ),
  rule(READ, [''], ['namespaces']),
  rule(READ, ['discovery.k8s.io'], ['endpointslices']),
  rule(
    READ,
    ['apps'],
    [
      'controllerrevisions',
      'statefulsets',
      'statefulsets/scale',
      'statefulsets/status',
      'daemonsets',
      'daemonsets/status',
      'deployments',
      'deployments/scale',
      'deployments/status',
      'replicasets',
      'replicasets/scale',
      'replicasets/status',
    ],
  ),
  rule(READ, ['autoscaling'], ['horizontalpodautoscalers', 'horizontalpodautoscalers/status']),
  rule(READ, ['batch'], ['jobs', 'cronjobs', 'cronjobs/status', 'jobs/status']),
  rule(READ, ['policy'], ['poddisruptionbudgets', 'poddisruptionbudgets/status']),
  rule(READ, ['networking.k8s.io'], ['networkpolicies', 'ingresses', 'ingresses/status']),
];

const EDIT_RULES: PolicyRule[] = [
  rule(['impersonate'], [''], ['serviceaccounts']),
  rule(WRITE, [''], ['pods', 'pods/attach', 'pods/proxy', 'pods/exec', 'pods/portforward']),
  rule(['create'], [''], ['pods/eviction']),
  rule(
    WRITE,
    [''],
    [
      'replicationcontrollers',
      'replicationcontrollers/scale',
      'serviceaccounts',
      'services',
      'services/proxy',
      'persistentvolumeclaims',
      'configmaps',
      'secrets',
      'events',
    ],
  ),
  rule(['create'], [''], ['serviceaccounts/token']),
  rule(
    WRITE,
    ['apps'],
    [
      'statefulsets',
      'statefulsets/scale',
      'daemonsets',
      'deployments',
      'deployments/scale',
      'deployments/rollback',
      'replicasets',
      'replicasets/scale',
    ],
  ),
  rule(WRITE, ['autoscaling'], ['horizontalpodautoscalers']),
  rule(WRITE, ['batch'], ['jobs', 'cronjobs']),
  rule(WRITE, ['policy'], ['poddisruptionbudgets']),
  rule(WRITE, ['networking.k8s.io'], ['networkpolicies', 'ingresses']),
  rule(WRITE, ['coordination.k8s.io'], ['leases']),
  rule(READ, ['coordination.k8s.io'], ['leases']),
  rule(READ, [''], ['secrets', 'pods/attach', 'pods/exec', 'pods/portforward', 'pods/proxy', 'services/proxy']),
];

const ADMIN_RULES: PolicyRule[] = [
  rule(['create'], ['authorization.k8s.io'], ['localsubjectaccessreviews']),
  rule(RW, ['rbac.authorization.k8s.io'], ['rolebindings', 'roles']),
];

export function bootstrapClusterRoles(): Obj[] {
  return [
    clusterRole('cluster-admin', [rule(['*'], ['*'], ['*']), urls(['*'], ['*'])]),
    clusterRole('admin', undefined, {}, 'admin'),
    clusterRole('edit', undefined, agg('admin'), 'edit'),
    clusterRole('view', undefined, agg('edit'), 'view'),
    clusterRole('system:aggregate-to-admin', ADMIN_RULES, agg('admin')),
    clusterRole('system:aggregate-to-edit', EDIT_RULES, agg('edit')),
    clusterRole('system:aggregate-to-view', VIEW_RULES, agg('view')),
    clusterRole('system:discovery', [
      urls(
        ['get'],
        [
          '/api',
          '/api/*',
          '/apis',
          '/apis/*',
          '/healthz',
          '/livez',
          '/openapi',
          '/openapi/*',
          '/readyz',
          '/version',
          '/version/',
        ],
      ),
    ]),
    clusterRole('system:public-info-viewer', [
      urls(['get'], ['/healthz', '/livez', '/readyz', '/version', '/version/']),
    ]),
    clusterRole('system:basic-user', [
      rule(['create'], ['authentication.k8s.io'], ['selfsubjectreviews']),
      rule(['create'], ['authorization.k8s.io'], ['selfsubjectaccessreviews', 'selfsubjectrulesreviews']),
    ]),
    clusterRole('system:service-account-issuer-discovery', [
      urls(
        ['get'],
        [
          '/.well-known/openid-configuration',
          '/.well-known/openid-configuration/',
          '/openid/v1/jwks',
          '/openid/v1/jwks/',
        ],
      ),
    ]),
    clusterRole('system:auth-delegator', [
      rule(['create'], ['authentication.k8s.io'], ['tokenreviews']),
      rule(['create'], ['authorization.k8s.io'], ['subjectaccessreviews']),
    ]),
  ];
}

const groupSubjects = (...names: string[]) =>
  names.map((name) => ({ kind: 'Group', apiGroup: 'rbac.authorization.k8s.io', name }));
const binding = (name: string, subjects: Obj[]): Obj => ({
  metadata: { name, labels: BOOT, annotations: AUTOUPDATE },
  roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name },
  subjects,
});

export function bootstrapClusterRoleBindings(): Obj[] {
  return [
    binding('cluster-admin', groupSubjects('system:masters')),
    binding('system:discovery', groupSubjects('system:authenticated')),
    binding('system:basic-user', groupSubjects('system:authenticated')),
    binding('system:public-info-viewer', groupSubjects('system:authenticated', 'system:unauthenticated')),
    binding('system:service-account-issuer-discovery', groupSubjects('system:serviceaccounts')),
  ];
}

/** Create the default policy, then keep aggregated ClusterRoles current. */
export function installBootstrapPolicy(store: Store): void {
  for (const r of bootstrapClusterRoles()) store.create(CLUSTER_ROLES, undefined, r);
  for (const b of bootstrapClusterRoleBindings()) store.create(CLUSTER_ROLE_BINDINGS, undefined, b);
  aggregateAll(store);
  let pending = false;
  store.afterWrite.push((def: ResourceDef, _ev: StoreEvent) => {
    if (def !== CLUSTER_ROLES || pending) return;
    pending = true;
    setImmediate(() => {
      pending = false;
      aggregateAll(store);
    });
  });
}

const ruleKey = (r: PolicyRule) =>
  JSON.stringify([r.verbs, r.apiGroups ?? [], r.resources ?? [], r.resourceNames ?? [], r.nonResourceURLs ?? []]);

/** The aggregation controller's sync, repeated until nothing changes (aggregated roles feed others). */
export function aggregateAll(store: Store): void {
  for (let pass = 0; pass < 8; pass++) {
    let changed = false;
    const all = store.list(CLUSTER_ROLES, undefined) as Obj[];
    for (const cr of all) {
      const sels: Obj[] | undefined = cr.aggregationRule?.clusterRoleSelectors;
      if (!sels) continue;
      const rules: PolicyRule[] = [];
      const seen = new Set<string>();
      const sources = all
        .filter(
          (o) =>
            o.metadata.name !== cr.metadata.name && sels.some((s) => matchLabelSelectorObject(s, o.metadata.labels)),
        )
        .sort((a, b) => (a.metadata.name < b.metadata.name ? -1 : 1));
      for (const src of sources)
        for (const r of (src.rules ?? []) as PolicyRule[]) {
          const k = ruleKey(r);
          if (!seen.has(k)) (seen.add(k), rules.push(r));
        }
      if (JSON.stringify(rules) === JSON.stringify(cr.rules ?? [])) continue;
      store.mutate(CLUSTER_ROLES, undefined, cr.metadata.name, (o: KObject) => {
        (o as Obj).rules = structuredClone(rules);
      });
      changed = true;
    }
    if (!changed) return;
  }
}
