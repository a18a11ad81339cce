/**
 * src/sim/auth/rbac and bootstrap, without a server: rule matching as rbac.go RuleAllows does it
 * (verbs, groups, resources, "*\/sub", resourceNames, non-resource URL prefixes), binding
 * resolution (ServiceAccount subjects default to the binding's namespace), the privileged group,
 * escalation's "covers" with BreakdownRule/CompactRules/CompactString, and ClusterRole aggregation.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { aggregateAll, installBootstrapPolicy } from '../../../src/sim/auth/bootstrap.js';
import {
  CLUSTER_ROLES,
  compact,
  compactString,
  missingRights,
  Rbac,
  ROLE_BINDINGS,
  ROLES,
  ruleAllows,
  type Attributes,
} from '../../../src/sim/auth/rbac.js';
import { Store } from '../../../src/sim/store/store.js';
import { defOf } from '../../../src/sim/store/resources.js';

const alice = { username: 'alice', groups: ['system:authenticated'] };
const res = (verb: string, resource: string, extra: Partial<Attributes> = {}): Attributes => ({
  user: alice,
  verb,
  resourceRequest: true,
  apiGroup: '',
  resource,
  namespace: 'ns',
  ...extra,
});

test('ruleAllows: verbs, groups, resources, subresources, names and URLs', () => {
  const r = { verbs: ['get', 'list'], apiGroups: [''], resources: ['pods', 'pods/log', '*/scale'], resourceNames: [] };
  assert.ok(ruleAllows(res('get', 'pods'), r));
  assert.not.ok(ruleAllows(res('delete', 'pods'), r));
  assert.not.ok(ruleAllows(res('get', 'pods', { apiGroup: 'apps' }), r));
  assert.ok(ruleAllows(res('get', 'pods', { subresource: 'log' }), r));
  assert.not.ok(ruleAllows(res('get', 'pods', { subresource: 'exec' }), r), 'pods does not grant pods/exec');
  assert.ok(ruleAllows(res('get', 'deployments', { subresource: 'scale' }), r));
  const named = { verbs: ['get'], apiGroups: [''], resources: ['configmaps'], resourceNames: ['a'] };
  assert.ok(ruleAllows(res('get', 'configmaps', { name: 'a' }), named));
  assert.not.ok(ruleAllows(res('get', 'configmaps', { name: 'b' }), named));
  assert.not.ok(
    ruleAllows(res('list', 'configmaps'), { ...named, verbs: ['list'] }),
    'a named rule does not grant an unnamed list',
  );
  const star = { verbs: ['*'], apiGroups: ['*'], resources: ['*'] };
  assert.ok(ruleAllows(res('escalate', 'roles', { apiGroup: 'rbac.authorization.k8s.io' }), star));
  const urls = { verbs: ['get'], nonResourceURLs: ['/healthz', '/apis/*'] };
  const path = (p: string): Attributes => ({ user: alice, verb: 'get', resourceRequest: false, path: p });
  assert.ok(ruleAllows(path('/healthz'), urls));
  assert.not.ok(ruleAllows(path('/healthz/ping'), urls));
  assert.ok(ruleAllows(path('/apis/apps/v1'), urls));
  assert.not.ok(ruleAllows(res('get', 'pods'), urls), 'URL rules never grant resources');
});

test('authorize: bindings, service-account subjects, missing roles, system:masters', () => {
  const store = new Store();
  const ns = defOf({ group: '', resource: 'namespaces' });
  store.create(ns, undefined, { metadata: { name: 'ns' } });
  store.create(ROLES, 'ns', {
    metadata: { name: 'r' },
    rules: [{ verbs: ['get'], apiGroups: [''], resources: ['pods'] }],
  });
  store.create(ROLE_BINDINGS, 'ns', {
    metadata: { name: 'b' },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'r' },
    subjects: [{ kind: 'ServiceAccount', name: 'sa' }],
  });
  const rbac = new Rbac(store);
  const sa = {
    username: 'system:serviceaccount:ns:sa',
    groups: ['system:serviceaccounts', 'system:serviceaccounts:ns', 'system:authenticated'],
  };
  assert.equal(rbac.authorize({ ...res('get', 'pods'), user: sa }), {
    allowed: true,
    reason: 'RBAC: allowed by RoleBinding "b/ns" of Role "r" to ServiceAccount "sa/ns"',
    rule: { role: 'Role/ns/r', index: 0 },
  });
  assert.equal(
    rbac.authorize({ ...res('get', 'pods'), user: { ...sa, username: 'system:serviceaccount:other:sa' } }).allowed,
    false,
  );
  assert.equal(rbac.authorize(res('get', 'pods')), { allowed: false, reason: '' });
  store.create(ROLE_BINDINGS, 'ns', {
    metadata: { name: 'g' },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'gone' },
    subjects: [{ kind: 'User', name: 'alice' }],
  });
  assert.equal(rbac.authorize(res('get', 'pods')), {
    allowed: false,
    reason: 'RBAC: clusterrole.rbac.authorization.k8s.io "gone" not found',
  });
  assert.ok(
    rbac.authorize(
      res('delete', 'nodes', { user: { username: 'root', groups: ['system:masters'] }, namespace: undefined }),
    ).allowed,
  );
});

test('escalation helpers: missing rights broken down, compacted and printed like rbacv1helpers.CompactString', () => {
  const owner = [
    { verbs: ['get', 'list'], apiGroups: [''], resources: ['pods'] },
    { verbs: ['get'], apiGroups: [''], resources: ['configmaps'], resourceNames: ['a'] },
  ];
  assert.equal(missingRights(owner, [{ verbs: ['get'], apiGroups: [''], resources: ['pods'] }]), []);
  const missing = missingRights(owner, [{ verbs: ['get', 'delete'], apiGroups: [''], resources: ['pods', 'secrets'] }]);
  assert.equal(compact(missing).map(compactString), [
    '{APIGroups:[""], Resources:["pods"], Verbs:["delete"]}',
    '{APIGroups:[""], Resources:["secrets"], Verbs:["get" "delete"]}',
  ]);
  assert.equal(
    missingRights(owner, [{ verbs: ['get'], apiGroups: [''], resources: ['configmaps'], resourceNames: ['a'] }]),
    [],
    'a named right is covered by the same name',
  );
  assert.is(
    missingRights(owner, [{ verbs: ['get'], apiGroups: [''], resources: ['configmaps'] }]).length,
    1,
    'but not all names',
  );
  assert.equal(
    missingRights(
      [{ verbs: ['*'], apiGroups: ['*'], resources: ['*'] }],
      [{ verbs: ['get'], nonResourceURLs: ['/metrics'] }],
    ).map(compactString),
    ['{NonResourceURLs:["/metrics"], Verbs:["get"]}'],
  );
});

test('bootstrap policy and aggregation: admin ⊇ edit ⊇ view, sources added and removed', () => {
  const store = new Store();
  installBootstrapPolicy(store);
  const rules = (n: string) =>
    (store.get(CLUSTER_ROLES, undefined, n) as any).rules as Array<{ verbs: string[]; resources?: string[] }>;
  const grants = (n: string, resource: string, verb: string) =>
    rules(n).some((r) => r.resources?.includes(resource) && r.verbs.includes(verb));
  assert.ok(grants('view', 'pods', 'list') && grants('edit', 'pods', 'list') && grants('admin', 'pods', 'list'));
  assert.ok(!grants('view', 'secrets', 'get') && grants('edit', 'secrets', 'get') && grants('admin', 'secrets', 'get'));
  assert.ok(!grants('edit', 'roles', 'create') && grants('admin', 'roles', 'create'));
  store.create(CLUSTER_ROLES, undefined, {
    metadata: { name: 'w', labels: { 'rbac.authorization.k8s.io/aggregate-to-edit': 'true' } },
    rules: [{ verbs: ['get'], apiGroups: ['x.io'], resources: ['widgets'] }],
  });
  aggregateAll(store);
  assert.ok(!grants('view', 'widgets', 'get') && grants('edit', 'widgets', 'get') && grants('admin', 'widgets', 'get'));
  store.remove(CLUSTER_ROLES, undefined, 'w');
  aggregateAll(store);
  assert.ok(!grants('admin', 'widgets', 'get'));
});

test.run();
