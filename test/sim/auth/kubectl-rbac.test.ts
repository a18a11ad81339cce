/**
 * Acceptance (issue 12, items 1, 2 and 6) with real kubectl 1.33 (and 1.27 for can-i): a
 * service-account kubeconfig made from `kubectl create token` is allowed exactly what its Role
 * grants and gets the apiserver's 403 text for the rest; `auth can-i --list` agrees; a bound
 * token's TokenReview names its pod and fails once the pod is gone; the escalation check refuses
 * until `escalate`/`bind` are granted; aggregated ClusterRoles follow their sources.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { KUBECTL, kubectl, startSim, type SimHandle } from '../../helpers/sim.js';
import { until } from '../client.js';

let sim: SimHandle;
let dir: string;
const have = KUBECTL('1.33') && (await import('node:fs')).existsSync(KUBECTL('1.33'));
const t = have ? test : test.skip;
if (!have) console.log('SKIP kubectl RBAC tests: kubectl 1.33 is not installed');

const SA_USER = 'system:serviceaccount:team:ci';
const run = (kubeconfig: string, args: string[], stdin?: string, version = '1.33') =>
  kubectl(version, args, { kubeconfig, cacheDir: join(dir, `cache-${version}`), stdin });
const admin = async (args: string[], stdin?: string) => {
  const r = await run(sim.kubeconfigPath, args, stdin);
  assert.is(r.code, 0, `kubectl ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
};
/** A kubeconfig like kube-sim's, with `token` instead of the admin's. */
function kubeconfigFor(name: string, token: string): string {
  const p = join(dir, `${name}.kubeconfig`);
  writeFileSync(p, sim.kubeconfig.replace(`token: ${sim.token}`, `token: ${token}`), { mode: 0o600 });
  return p;
}
const forbidden = (what: string) => `Error from server (Forbidden): ${what}`;

const POD = (name: string, sa = 'ci') => `apiVersion: v1
kind: Pod
metadata: {name: ${name}, namespace: team}
spec:
  serviceAccountName: ${sa}
  schedulerName: manual
  containers: [{name: c, image: busybox, command: [sleep, "1000"]}]
`;

let saKubeconfig: string;

test.before(async () => {
  if (!have) return;
  sim = await startSim();
  dir = mkdtempSync(join(tmpdir(), 'kubectl-rbac-'));
  await admin(['create', 'namespace', 'team']);
  await admin(['-n', 'team', 'create', 'serviceaccount', 'ci']);
  await admin(['-n', 'team', 'create', 'role', 'ci', '--verb=get,list,watch,create', '--resource=pods']);
  await admin(['-n', 'team', 'create', 'role', 'ci-logs', '--verb=get', '--resource=pods/log']);
  await admin([
    '-n',
    'team',
    'create',
    'role',
    'ci-cm',
    '--verb=get',
    '--resource=configmaps',
    '--resource-name=allowed',
  ]);
  for (const r of ['ci', 'ci-logs', 'ci-cm'])
    await admin(['-n', 'team', 'create', 'rolebinding', r, `--role=${r}`, '--serviceaccount=team:ci']);
  await admin(['-n', 'team', 'create', 'configmap', 'allowed', '--from-literal=a=1']);
  await admin(['-n', 'team', 'create', 'configmap', 'other', '--from-literal=a=1']);
  saKubeconfig = kubeconfigFor('ci', (await admin(['-n', 'team', 'create', 'token', 'ci'])).trim());
});
test.after(async () => {
  if (!have) return;
  await sim.stop();
  rmSync(dir, { recursive: true, force: true });
});

t(
  "~> the service account is allowed what its Role grants and refused the rest with the apiserver's 403 text",
  async () => {
    const sa = (args: string[], stdin?: string) => run(saKubeconfig, args, stdin);
    let r = await sa(['-n', 'team', 'apply', '-f', '-'], POD('web'));
    assert.is(r.code, 0, r.stderr);
    r = await sa(['-n', 'team', 'get', 'pods']);
    assert.is(r.code, 0, r.stderr);
    assert.match(r.stdout, /^web\s+0\/1\s+Pending/m);
    r = await sa(['-n', 'team', 'get', 'configmap', 'allowed', '-o', 'name']);
    assert.is(r.stdout.trim(), 'configmap/allowed', r.stderr);

    const denied: Array<[string[], string]> = [
      [
        ['-n', 'team', 'get', 'secrets'],
        `secrets is forbidden: User "${SA_USER}" cannot list resource "secrets" in API group "" in the namespace "team"`,
      ],
      [
        ['-n', 'default', 'get', 'pods'],
        `pods is forbidden: User "${SA_USER}" cannot list resource "pods" in API group "" in the namespace "default"`,
      ],
      [
        ['-n', 'team', 'get', 'configmap', 'other'],
        `configmaps "other" is forbidden: User "${SA_USER}" cannot get resource "configmaps" in API group "" in the namespace "team"`,
      ],
      [
        ['-n', 'team', 'delete', 'pod', 'web'],
        `pods "web" is forbidden: User "${SA_USER}" cannot delete resource "pods" in API group "" in the namespace "team"`,
      ],
      [
        ['get', 'namespaces'],
        `namespaces is forbidden: User "${SA_USER}" cannot list resource "namespaces" in API group "" at the cluster scope`,
      ],
      [
        ['-n', 'team', 'get', 'roles'],
        `roles.rbac.authorization.k8s.io is forbidden: User "${SA_USER}" cannot list resource "roles" in API group "rbac.authorization.k8s.io" in the namespace "team"`,
      ],
      [
        ['-n', 'team', 'label', 'pod', 'web', 'x=y'],
        `pods "web" is forbidden: User "${SA_USER}" cannot patch resource "pods" in API group "" in the namespace "team"`,
      ],
    ];
    for (const [args, text] of denied) {
      r = await sa(args);
      assert.is(r.code, 1, `${args.join(' ')} should be refused`);
      assert.is(r.stderr.trim(), forbidden(text), args.join(' '));
    }
    // pods/exec is its own resource: the Role's pods rule does not grant it.
    r = await sa(['-n', 'team', 'exec', 'web', '--', 'true']);
    assert.is(r.code, 1);
    assert.match(
      r.stderr,
      /pods "web" is forbidden: User "system:serviceaccount:team:ci" cannot (get|create) resource "pods\/exec" in API group "" in the namespace "team"/,
    );
    // A service account may not impersonate.
    r = await sa(['-n', 'team', 'get', 'pods', '--as=someone']);
    assert.is(r.code, 1);
    assert.is(
      r.stderr.trim(),
      forbidden(
        `users "someone" is forbidden: User "${SA_USER}" cannot impersonate resource "users" in API group "" at the cluster scope`,
      ),
    );
    // whoami: the service account's identity with its credential id.
    r = await sa(['auth', 'whoami', '-o', 'json']);
    const who = JSON.parse(r.stdout).status.userInfo;
    assert.is(who.username, SA_USER);
    assert.equal(who.groups, ['system:serviceaccounts', 'system:serviceaccounts:team', 'system:authenticated']);
    assert.match(who.extra['authentication.kubernetes.io/credential-id'][0], /^JTI=[0-9a-f-]{36}$/);
  },
);

/** `auth can-i --list` rows as [resources, nonResourceURLs, resourceNames, verbs]. */
function canIRows(out: string): string[] {
  const rows: string[] = [];
  for (const line of out.split('\n').slice(1)) {
    const m = /^(\S*)\s+(\[[^\]]*\])\s+(\[[^\]]*\])\s+(\[[^\]]*\])\s*$/.exec(line);
    if (m) rows.push(`${m[1]} ${m[2]} ${m[3]} ${m[4]}`);
    else assert.is(line.trim(), '', `unparsed can-i row: ${line}`);
  }
  return rows.sort();
}

t("~> auth can-i --list shows the Role's rules plus the default policy, and can-i agrees verb by verb", async () => {
  const expected = [
    'pods [] [] [get list watch create]',
    'pods/log [] [] [get]',
    'configmaps [] [allowed] [get]',
    'selfsubjectreviews.authentication.k8s.io [] [] [create]',
    'selfsubjectaccessreviews.authorization.k8s.io [] [] [create]',
    'selfsubjectrulesreviews.authorization.k8s.io [] [] [create]',
    // system:discovery, system:public-info-viewer (the duplicates are real: two roles grant them) and
    // system:service-account-issuer-discovery.
    ...['/api', '/api/*', '/apis', '/apis/*', '/openapi', '/openapi/*'].map((u) => ` [${u}] [] [get]`),
    ...['/healthz', '/livez', '/readyz', '/version', '/version/'].flatMap((u) => [
      ` [${u}] [] [get]`,
      ` [${u}] [] [get]`,
    ]),
    ...[
      '/.well-known/openid-configuration',
      '/.well-known/openid-configuration/',
      '/openid/v1/jwks',
      '/openid/v1/jwks/',
    ].map((u) => ` [${u}] [] [get]`),
  ].sort();
  for (const version of ['1.33', '1.27']) {
    const r = await run(saKubeconfig, ['-n', 'team', 'auth', 'can-i', '--list'], undefined, version);
    assert.is(r.code, 0, r.stderr);
    assert.equal(canIRows(r.stdout), expected, `kubectl ${version}`);
  }
  const canI = async (kc: string, args: string[]) => {
    const r = await run(kc, ['auth', 'can-i', ...args]);
    return r.stdout.trim();
  };
  for (const v of ['get', 'list', 'watch', 'create'])
    assert.is(await canI(saKubeconfig, [v, 'pods', '-n', 'team']), 'yes', v);
  for (const v of ['delete', 'update', 'patch'])
    assert.is(await canI(saKubeconfig, [v, 'pods', '-n', 'team']), 'no', v);
  assert.is(await canI(saKubeconfig, ['get', 'pods', '--subresource=log', '-n', 'team']), 'yes');
  assert.is(await canI(saKubeconfig, ['create', 'pods', '--subresource=exec', '-n', 'team']), 'no');
  assert.is(await canI(saKubeconfig, ['get', 'configmap/allowed', '-n', 'team']), 'yes');
  assert.is(await canI(saKubeconfig, ['get', 'configmap/other', '-n', 'team']), 'no');
  assert.is(await canI(saKubeconfig, ['list', 'pods', '-n', 'default']), 'no');
  assert.is(await canI(saKubeconfig, ['get', '/version']), 'yes');
  assert.is(await canI(saKubeconfig, ['get', '/metrics']), 'no');
  // The admin asks on the service account's behalf (Impersonate-User), as `--as` does.
  const as = `--as=${SA_USER}`;
  assert.is(await canI(sim.kubeconfigPath, ['create', 'pods', '-n', 'team', as]), 'yes');
  assert.is(await canI(sim.kubeconfigPath, ['list', 'secrets', '-n', 'team', as]), 'no');
  assert.is(await canI(sim.kubeconfigPath, ['list', 'secrets', '-n', 'team']), 'yes');
  const r = await run(sim.kubeconfigPath, ['-n', 'team', 'get', 'secrets', as]);
  assert.is(
    r.stderr.trim(),
    forbidden(
      `secrets is forbidden: User "${SA_USER}" cannot list resource "secrets" in API group "" in the namespace "team"`,
    ),
  );
});

t(
  '~> TokenReview (kubectl create -f) of a pod-bound token names the pod; once the pod is deleted the token is rejected',
  async () => {
    await admin(['apply', '-f', '-'], POD('bound'));
    const uid = (await admin(['-n', 'team', 'get', 'pod', 'bound', '-o', 'jsonpath={.metadata.uid}'])).trim();
    const token = (
      await admin(['-n', 'team', 'create', 'token', 'ci', '--bound-object-kind=Pod', '--bound-object-name=bound'])
    ).trim();
    const review = `apiVersion: authentication.k8s.io/v1\nkind: TokenReview\nspec:\n  token: ${token}\n`;
    const ok = JSON.parse(await admin(['create', '-f', '-', '-o', 'json'], review));
    assert.is(ok.status.authenticated, true);
    assert.is(ok.status.user.username, SA_USER);
    assert.equal(ok.status.user.extra['authentication.kubernetes.io/pod-name'], ['bound']);
    assert.equal(ok.status.user.extra['authentication.kubernetes.io/pod-uid'], [uid]);
    assert.equal(ok.status.audiences, ['https://kubernetes.default.svc.cluster.local']);
    const boundKc = kubeconfigFor('bound', token);
    let r = await run(boundKc, ['-n', 'team', 'get', 'pod', 'bound', '-o', 'name']);
    assert.is(r.stdout.trim(), 'pod/bound', r.stderr);

    await admin(['-n', 'team', 'delete', 'pod', 'bound']);
    const gone = JSON.parse(await admin(['create', '-f', '-', '-o', 'json'], review));
    assert.is(gone.status.authenticated, undefined);
    assert.equal(gone.status.user, {});
    assert.is(gone.status.error, 'service account token has been invalidated');
    r = await run(boundKc, ['-n', 'team', 'get', 'pods']);
    assert.is(r.code, 1);
    assert.match(r.stderr, /error: You must be logged in to the server \(Unauthorized\)/);
    // A SubjectAccessReview through kubectl create -f as well (validation lists CRDs: apiextensions is served).
    const sar = `apiVersion: authorization.k8s.io/v1\nkind: SubjectAccessReview\nspec:\n  user: ${SA_USER}\n  groups: [system:serviceaccounts]\n  resourceAttributes: {namespace: team, verb: list, resource: pods}\n`;
    const s = JSON.parse(await admin(['create', '-f', '-', '-o', 'json'], sar));
    assert.is(s.status.allowed, true);
    assert.is(s.status.reason, 'RBAC: allowed by RoleBinding "ci/team" of Role "ci" to ServiceAccount "ci/team"');
  },
);

t('~> the escalation check: no granting what one does not hold, until escalate / bind are granted', async () => {
  await admin(['-n', 'team', 'create', 'serviceaccount', 'lead']);
  await admin([
    '-n',
    'team',
    'create',
    'role',
    'rbac-writer',
    '--verb=create,get,list',
    '--resource=roles,rolebindings,pods',
  ]);
  await admin(['-n', 'team', 'create', 'rolebinding', 'lead', '--role=rbac-writer', '--serviceaccount=team:lead']);
  const lead = kubeconfigFor('lead', (await admin(['-n', 'team', 'create', 'token', 'lead'])).trim());
  const user = 'system:serviceaccount:team:lead';
  const groups = '["system:serviceaccounts" "system:serviceaccounts:team" "system:authenticated"]';

  let r = await run(lead, ['-n', 'team', 'create', 'role', 'reader', '--verb=get,list', '--resource=pods']);
  assert.is(r.code, 0, `a role within what lead holds: ${r.stderr}`);
  r = await run(lead, ['-n', 'team', 'create', 'role', 'secrets', '--verb=get', '--resource=secrets']);
  assert.is(r.code, 1);
  assert.is(
    r.stderr.trim(),
    forbidden(
      `roles.rbac.authorization.k8s.io "secrets" is forbidden: user "${user}" (groups=${groups}) is attempting to grant RBAC permissions not currently held:\n{APIGroups:[""], Resources:["secrets"], Verbs:["get"]}`,
    ),
  );
  r = await run(lead, [
    '-n',
    'team',
    'create',
    'rolebinding',
    'adm',
    '--clusterrole=admin',
    '--serviceaccount=team:lead',
  ]);
  assert.is(r.code, 1);
  const lines = r.stderr.trim().split('\n');
  assert.is(
    lines[0],
    `error: failed to create rolebinding: rolebindings.rbac.authorization.k8s.io "adm" is forbidden: user "${user}" (groups=${groups}) is attempting to grant RBAC permissions not currently held:`,
  );
  assert.ok(
    lines.includes(
      '{APIGroups:[""], Resources:["secrets"], Verbs:["create" "delete" "deletecollection" "patch" "update" "get" "list" "watch"]}',
    ),
    r.stderr,
  );
  assert.ok(
    lines.includes(
      '{APIGroups:["rbac.authorization.k8s.io"], Resources:["rolebindings"], Verbs:["delete" "deletecollection" "patch" "update" "watch"]}',
    ),
    r.stderr,
  );
  assert.not.ok(lines.some((l) => l.includes('Resources:["pods"], Verbs:["get"'), 'rights lead holds are not listed'));
  r = await run(lead, ['-n', 'team', 'create', 'rolebinding', 'readers', '--role=reader', '--serviceaccount=team:ci']);
  assert.is(r.code, 0, `binding a role whose rules lead holds: ${r.stderr}`);

  await admin(['-n', 'team', 'create', 'role', 'escalator', '--verb=escalate', '--resource=roles']);
  await admin([
    '-n',
    'team',
    'create',
    'rolebinding',
    'lead-escalate',
    '--role=escalator',
    '--serviceaccount=team:lead',
  ]);
  r = await run(lead, ['-n', 'team', 'create', 'role', 'secrets', '--verb=get', '--resource=secrets']);
  assert.is(r.code, 0, `with escalate: ${r.stderr}`);
  await admin([
    '-n',
    'team',
    'create',
    'role',
    'binder',
    '--verb=bind',
    '--resource=clusterroles',
    '--resource-name=admin',
  ]);
  await admin(['-n', 'team', 'create', 'rolebinding', 'lead-bind', '--role=binder', '--serviceaccount=team:lead']);
  r = await run(lead, [
    '-n',
    'team',
    'create',
    'rolebinding',
    'adm',
    '--clusterrole=admin',
    '--serviceaccount=team:lead',
  ]);
  assert.is(r.code, 0, `with bind on clusterroles/admin: ${r.stderr}`);
  r = await run(lead, ['-n', 'team', 'create', 'rolebinding', 'ed', '--clusterrole=edit', '--serviceaccount=team:ci']);
  assert.is(r.code, 0, `now lead holds admin, which covers edit: ${r.stderr}`);
});

t('~> aggregated ClusterRoles: view/edit/admin gather their aggregate-to-* sources and follow changes', async () => {
  const rules = async (name: string) =>
    JSON.parse(await admin(['get', 'clusterrole', name, '-o', 'json'])).rules as Array<Record<string, string[]>>;
  const grants = (rs: Array<Record<string, string[]>>, group: string, res: string, verb: string) =>
    rs.some((r) => (r.apiGroups ?? []).includes(group) && (r.resources ?? []).includes(res) && r.verbs!.includes(verb));
  const view = await rules('view'),
    edit = await rules('edit'),
    adm = await rules('admin');
  assert.ok(grants(view, '', 'pods', 'list') && !grants(view, '', 'secrets', 'get'), 'view reads, but not secrets');
  assert.ok(
    grants(edit, '', 'pods', 'list') &&
      grants(edit, '', 'secrets', 'create') &&
      !grants(edit, 'rbac.authorization.k8s.io', 'roles', 'create'),
    'edit = view + writes',
  );
  assert.ok(
    grants(adm, '', 'pods', 'list') &&
      grants(adm, '', 'secrets', 'create') &&
      grants(adm, 'rbac.authorization.k8s.io', 'roles', 'create'),
    'admin = edit + RBAC',
  );

  await admin(
    ['apply', '-f', '-'],
    `apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: widgets-view
  labels: {rbac.authorization.k8s.io/aggregate-to-view: "true"}
rules:
- apiGroups: [example.com]
  resources: [widgets]
  verbs: [get, list]
`,
  );
  for (const name of ['view', 'edit', 'admin'])
    await until(
      async () => grants(await rules(name), 'example.com', 'widgets', 'list'),
      10_000,
      `${name} to aggregate widgets-view`,
    );
  await admin(['-n', 'team', 'create', 'rolebinding', 'viewer', '--clusterrole=view', '--serviceaccount=team:viewer']);
  await admin(['-n', 'team', 'create', 'serviceaccount', 'viewer']);
  // kubectl can-i cannot name a group the server does not serve, so ask with a SubjectAccessReview.
  const allowed = async (verb: string, group: string, resource: string) => {
    const sar = `apiVersion: authorization.k8s.io/v1\nkind: SubjectAccessReview\nspec:\n  user: system:serviceaccount:team:viewer\n  groups: [system:serviceaccounts]\n  resourceAttributes: {namespace: team, verb: ${verb}, group: "${group}", resource: ${resource}}\n`;
    return JSON.parse(await admin(['create', '-f', '-', '-o', 'json'], sar)).status.allowed as boolean;
  };
  assert.is(await allowed('list', 'example.com', 'widgets'), true);
  assert.is(await allowed('list', '', 'pods'), true);
  assert.is(await allowed('delete', '', 'pods'), false);
  await admin(['delete', 'clusterrole', 'widgets-view']);
  for (const name of ['view', 'edit', 'admin'])
    await until(
      async () => !grants(await rules(name), 'example.com', 'widgets', 'list'),
      10_000,
      `${name} to drop widgets-view`,
    );
  assert.is(await allowed('list', 'example.com', 'widgets'), false);
});

t('~> tables: role, rolebinding, clusterrole, clusterrolebinding; CRDs list (empty)', async () => {
  const out = await admin(['-n', 'team', 'get', 'role,rolebinding', '-o', 'wide']);
  assert.match(out, /^NAME\s+CREATED AT$/m);
  assert.match(out, /^role\.rbac\.authorization\.k8s\.io\/ci\s+\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/m);
  assert.match(out, /^NAME\s+ROLE\s+AGE\s+USERS\s+GROUPS\s+SERVICEACCOUNTS$/m);
  assert.match(out, /^rolebinding\.rbac\.authorization\.k8s\.io\/ci\s+Role\/ci\s+\S+\s+team\/ci$/m);
  const crb = await admin(['get', 'clusterrolebinding', 'cluster-admin', 'system:public-info-viewer', '-o', 'wide']);
  assert.match(crb, /^cluster-admin\s+ClusterRole\/cluster-admin\s+\S+\s+system:masters\s*$/m);
  assert.match(
    crb,
    /^system:public-info-viewer\s+ClusterRole\/system:public-info-viewer\s+\S+\s+system:authenticated, system:unauthenticated\s*$/m,
  );
  assert.match(await admin(['get', 'clusterroles']), /^cluster-admin\s+\d{4}-/m);
  // kubectl 1.33's create generators send these as protobuf.
  await admin(['create', 'clusterrole', 'pod-reader', '--verb=get,list', '--resource=pods', '--resource-name=x']);
  await admin(['create', 'clusterrole', 'gathered', '--aggregation-rule=team=reader']);
  await admin([
    'create',
    'clusterrolebinding',
    'pod-reader',
    '--clusterrole=pod-reader',
    '--user=bob',
    '--group=ops',
    '--serviceaccount=team:ci',
  ]);
  const cr = JSON.parse(await admin(['get', 'clusterrole', 'pod-reader', 'gathered', '-o', 'json'])).items;
  assert.equal(cr[0].rules, [{ apiGroups: [''], resources: ['pods'], resourceNames: ['x'], verbs: ['get', 'list'] }]);
  assert.equal(cr[1].aggregationRule, { clusterRoleSelectors: [{ matchLabels: { team: 'reader' } }] });
  assert.match(
    await admin(['get', 'clusterrolebinding', 'pod-reader', '-o', 'wide']),
    /^pod-reader\s+ClusterRole\/pod-reader\s+\S+\s+bob\s+ops\s+team\/ci\s*$/m,
  );
  const crd = await run(sim.kubeconfigPath, ['get', 'crd']);
  assert.is(crd.code, 0, crd.stderr);
  assert.match(crd.stderr, /No resources found/);
});

test.run();
