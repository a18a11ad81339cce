/**
 * kube-sim identities over the wire (src/sim/auth): TokenRequest validation and claims (audiences,
 * expiry, the kubelet-token extension, pod/node binding), the issuer discovery documents and a
 * signature check against the served JWKS, legacy token Secrets, the projected kube-api-access
 * volume (automountServiceAccountToken honoured) read from inside a running pod, static users,
 * impersonation headers, anonymous requests and the 401/403 bodies.
 */
import { createPublicKey, verify } from 'node:crypto';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startSim, type SimHandle } from '../../helpers/sim.js';
import { call, until } from '../client.js';

let sim: SimHandle;
type Obj = Record<string, any>;
const as = (token: string) => ({ ...sim, token });
const claimsOf = (jwt: string): Obj => JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString('utf8'));
const ok = async (p: Promise<{ status: number; json: any; text: string }>, status = 200) => {
  const r = await p;
  assert.is(r.status, status, r.text);
  return r.json;
};
const tokenFor = async (ns: string, sa: string, spec: Obj = {}) =>
  (await ok(call(sim, 'POST', `/api/v1/namespaces/${ns}/serviceaccounts/${sa}/token`, { spec }), 201)).status
    .token as string;
const whoami = async (token: string, headers: Record<string, string> = {}) =>
  (
    await ok(
      call(
        as(token),
        'POST',
        '/apis/authentication.k8s.io/v1/selfsubjectreviews',
        { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' },
        headers,
      ),
      201,
    )
  ).status.userInfo;
const tokenReview = async (token: string) =>
  (
    await ok(
      call(sim, 'POST', '/apis/authentication.k8s.io/v1/tokenreviews', {
        apiVersion: 'authentication.k8s.io/v1',
        kind: 'TokenReview',
        spec: { token },
      }),
      201,
    )
  ).status;
const pod = (name: string, extra: Obj = {}, spec: Obj = {}) => ({
  metadata: { name },
  spec: {
    serviceAccountName: 'ci',
    restartPolicy: 'Never',
    containers: [{ name: 'c', image: 'busybox', command: ['true'] }],
    ...spec,
  },
  ...extra,
});

test.before(async () => {
  sim = await startSim({ users: [{ token: 'alice-token', username: 'alice', groups: ['devs'] }] });
  await ok(call(sim, 'POST', '/api/v1/namespaces', { metadata: { name: 'team' } }), 201);
  await ok(call(sim, 'POST', '/api/v1/namespaces/team/serviceaccounts', { metadata: { name: 'ci' } }), 201);
});
test.after(async () => {
  await sim.stop();
});

test('TokenRequest: defaults, audiences, the 10-minute minimum, and a signature the served JWKS verifies', async () => {
  const tr = await ok(call(sim, 'POST', '/api/v1/namespaces/team/serviceaccounts/ci/token', { spec: {} }), 201);
  assert.equal(tr.spec.audiences, ['https://kubernetes.default.svc.cluster.local']);
  assert.is(tr.spec.expirationSeconds, 3600);
  const c = claimsOf(tr.status.token);
  assert.is(c.sub, 'system:serviceaccount:team:ci');
  assert.is(c.exp - c.iat, 3600);
  assert.is(c['kubernetes.io'].namespace, 'team');
  assert.is(c['kubernetes.io'].pod, undefined);
  assert.ok(Math.abs(Date.parse(tr.status.expirationTimestamp) / 1000 - c.exp) <= 1);
  const aud = claimsOf(await tokenFor('team', 'ci', { audiences: ['vault'] }));
  assert.equal(aud.aud, ['vault']);
  const short = await call(sim, 'POST', '/api/v1/namespaces/team/serviceaccounts/ci/token', {
    spec: { expirationSeconds: 599 },
  });
  assert.is(short.status, 422);
  assert.is(
    short.json.message,
    'TokenRequest.authentication.k8s.io "ci" is invalid: spec.expirationSeconds: Invalid value: 599: may not specify a duration less than 10 minutes',
  );
  assert.is(
    (await call(sim, 'POST', '/api/v1/namespaces/team/serviceaccounts/nobody/token', { spec: {} })).status,
    404,
  );
  // A token for another audience does not authenticate to the apiserver.
  assert.is((await call(as(await tokenFor('team', 'ci', { audiences: ['vault'] })), 'GET', '/version')).status, 401);

  const saTok = await tokenFor('team', 'ci');
  const conf = await ok(call(as(saTok), 'GET', '/.well-known/openid-configuration'));
  assert.is(conf.issuer, 'https://kubernetes.default.svc.cluster.local');
  const jwks = await ok(call(as(saTok), 'GET', '/openid/v1/jwks'));
  const [h, p, sig] = saTok.split('.');
  const header = JSON.parse(Buffer.from(h!, 'base64url').toString('utf8'));
  const jwk = jwks.keys.find((k: Obj) => k.kid === header.kid);
  assert.ok(jwk, 'the token names a served key');
  assert.ok(
    verify(
      'sha256',
      Buffer.from(`${h}.${p}`),
      createPublicKey({ key: jwk, format: 'jwk' }),
      Buffer.from(sig!, 'base64url'),
    ),
  );
  assert.is(
    (await call(sim, 'GET', '/.well-known/openid-configuration', undefined, { authorization: '' })).status,
    403,
    'anonymous may not read issuer discovery',
  );
});

test('pod-bound tokens: pod claims, the kubelet default 3607 s extended to a year, a mismatched service account refused', async () => {
  const p = await ok(
    call(sim, 'POST', '/api/v1/namespaces/team/pods', pod('claims', {}, { schedulerName: 'manual' })),
    201,
  );
  const tr = await ok(
    call(sim, 'POST', '/api/v1/namespaces/team/serviceaccounts/ci/token', {
      spec: { expirationSeconds: 3607, boundObjectRef: { kind: 'Pod', apiVersion: 'v1', name: 'claims' } },
    }),
    201,
  );
  assert.equal(tr.spec.boundObjectRef, { kind: 'Pod', apiVersion: 'v1', name: 'claims', uid: p.metadata.uid });
  const c = claimsOf(tr.status.token);
  assert.equal(c['kubernetes.io'].pod, { name: 'claims', uid: p.metadata.uid });
  assert.is(c.exp - c.iat, 365 * 24 * 3600, 'extended (--service-account-extend-token-expiration)');
  assert.is(c['kubernetes.io'].warnafter, c.iat + 3607);
  assert.ok(
    Math.abs(Date.parse(tr.status.expirationTimestamp) / 1000 - (c.iat + 3607)) <= 1,
    'the client is told 3607 s',
  );
  const plain = claimsOf(await tokenFor('team', 'ci', { expirationSeconds: 3607 }));
  assert.is(plain.exp - plain.iat, 3607, 'unbound tokens are not extended');
  await ok(call(sim, 'POST', '/api/v1/namespaces/team/serviceaccounts', { metadata: { name: 'other' } }), 201);
  const wrong = await call(sim, 'POST', '/api/v1/namespaces/team/serviceaccounts/other/token', {
    spec: { boundObjectRef: { kind: 'Pod', apiVersion: 'v1', name: 'claims' } },
  });
  assert.is(wrong.status, 400);
  assert.is(
    wrong.json.message,
    'cannot bind token for serviceaccount "other" to pod running with different serviceaccount name.',
  );
  const uid = await call(sim, 'POST', '/api/v1/namespaces/team/serviceaccounts/ci/token', {
    spec: { boundObjectRef: { kind: 'Pod', apiVersion: 'v1', name: 'claims', uid: 'nope' } },
  });
  assert.is(uid.status, 409);
});

test('legacy token Secrets are filled by the token controller and stop working when deleted', async () => {
  await ok(
    call(sim, 'POST', '/api/v1/namespaces/team/secrets', {
      metadata: { name: 'ci-token', annotations: { 'kubernetes.io/service-account.name': 'ci' } },
      type: 'kubernetes.io/service-account-token',
    }),
    201,
  );
  const s = await until(
    async () => {
      const r = await call(sim, 'GET', '/api/v1/namespaces/team/secrets/ci-token');
      return r.json.data?.token ? r.json : undefined;
    },
    5000,
    'the token controller',
  );
  const sa = await ok(call(sim, 'GET', '/api/v1/namespaces/team/serviceaccounts/ci'));
  assert.is(s.metadata.annotations['kubernetes.io/service-account.uid'], sa.metadata.uid);
  assert.is(Buffer.from(s.data.namespace, 'base64').toString(), 'team');
  assert.ok(Buffer.from(s.data['ca.crt'], 'base64').toString().includes('BEGIN CERTIFICATE'));
  const token = Buffer.from(s.data.token, 'base64').toString();
  assert.is(claimsOf(token).iss, 'kubernetes/serviceaccount');
  assert.is((await whoami(token)).username, 'system:serviceaccount:team:ci');
  await ok(call(sim, 'DELETE', '/api/v1/namespaces/team/secrets/ci-token'));
  assert.is((await call(as(token), 'GET', '/version')).status, 401);
  assert.equal(await tokenReview(token), { user: {}, error: 'service account token has been invalidated' });
  // Deleting the account deletes its token Secrets.
  await ok(call(sim, 'POST', '/api/v1/namespaces/team/serviceaccounts', { metadata: { name: 'doomed' } }), 201);
  await ok(
    call(sim, 'POST', '/api/v1/namespaces/team/secrets', {
      metadata: { name: 'doomed-token', annotations: { 'kubernetes.io/service-account.name': 'doomed' } },
      type: 'kubernetes.io/service-account-token',
    }),
    201,
  );
  await until(
    async () => (await call(sim, 'GET', '/api/v1/namespaces/team/secrets/doomed-token')).json.data?.token,
    5000,
    'the doomed token',
  );
  await ok(call(sim, 'DELETE', '/api/v1/namespaces/team/serviceaccounts/doomed'));
  await until(
    async () => (await call(sim, 'GET', '/api/v1/namespaces/team/secrets/doomed-token')).status === 404,
    5000,
    'the token Secret to go with its account',
  );
});

test('the projected kube-api-access volume: token, ca.crt and namespace inside the pod; automountServiceAccountToken honoured', async () => {
  const cmd =
    'cd /var/run/secrets/kubernetes.io/serviceaccount && cat namespace && echo && cat token && echo && grep -c "BEGIN CERTIFICATE" ca.crt';
  const created = await ok(
    call(
      sim,
      'POST',
      '/api/v1/namespaces/team/pods',
      pod('reader', {}, { containers: [{ name: 'c', image: 'busybox', command: ['sh', '-c', cmd] }] }),
    ),
    201,
  );
  const vol = created.spec.volumes.find((v: Obj) => v.name.startsWith('kube-api-access-'));
  assert.ok(vol, 'ServiceAccount admission adds the volume');
  assert.equal(vol.projected.sources[0], { serviceAccountToken: { expirationSeconds: 3607, path: 'token' } });
  assert.equal(created.spec.containers[0].volumeMounts, [
    { name: vol.name, readOnly: true, mountPath: '/var/run/secrets/kubernetes.io/serviceaccount' },
  ]);
  await until(
    async () =>
      ['Succeeded', 'Failed'].includes(
        (await call(sim, 'GET', '/api/v1/namespaces/team/pods/reader')).json.status.phase,
      ),
    30_000,
    'the reader pod to finish',
  );
  const log = (await call(sim, 'GET', '/api/v1/namespaces/team/pods/reader/log')).text.trim().split('\n');
  assert.is(log[0], 'team');
  assert.is(log[2], '1');
  const review = await tokenReview(log[1]!);
  assert.is(review.authenticated, true, JSON.stringify(review));
  assert.equal(review.user.extra['authentication.kubernetes.io/pod-name'], ['reader']);
  assert.equal(review.user.extra['authentication.kubernetes.io/pod-uid'], [created.metadata.uid]);
  assert.equal(review.user.extra['authentication.kubernetes.io/node-name'], [
    created.spec.nodeName ?? (await call(sim, 'GET', '/api/v1/namespaces/team/pods/reader')).json.spec.nodeName,
  ]);
  assert.ok(review.user.extra['authentication.kubernetes.io/node-uid']);

  const none = await ok(
    call(
      sim,
      'POST',
      '/api/v1/namespaces/team/pods',
      pod('no-token', {}, { schedulerName: 'manual', automountServiceAccountToken: false }),
    ),
    201,
  );
  assert.is(none.spec.volumes, undefined);
  await ok(
    call(sim, 'POST', '/api/v1/namespaces/team/serviceaccounts', {
      metadata: { name: 'quiet' },
      automountServiceAccountToken: false,
    }),
    201,
  );
  const quiet = await ok(
    call(
      sim,
      'POST',
      '/api/v1/namespaces/team/pods',
      pod('quiet', {}, { schedulerName: 'manual', serviceAccountName: 'quiet' }),
    ),
    201,
  );
  assert.is(quiet.spec.volumes, undefined, 'the service account opts out');
  const loud = await ok(
    call(
      sim,
      'POST',
      '/api/v1/namespaces/team/pods',
      pod('loud', {}, { schedulerName: 'manual', serviceAccountName: 'quiet', automountServiceAccountToken: true }),
    ),
    201,
  );
  assert.is(loud.spec.volumes.length, 1, 'the pod overrides its service account');
});

test('static users, impersonation headers, anonymous requests, 401 and RBAC resolution errors', async () => {
  assert.equal(await whoami('alice-token'), { username: 'alice', groups: ['devs', 'system:authenticated'] });
  const alicePods = await call(as('alice-token'), 'GET', '/api/v1/namespaces/team/pods');
  assert.is(alicePods.status, 403);
  assert.equal(alicePods.json, {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    reason: 'Forbidden',
    code: 403,
    details: { kind: 'pods' },
    message: 'pods is forbidden: User "alice" cannot list resource "pods" in API group "" in the namespace "team"',
  });
  // A binding to a role that does not exist: denied, and RBAC says why.
  await ok(
    call(sim, 'POST', '/apis/rbac.authorization.k8s.io/v1/namespaces/team/rolebindings', {
      metadata: { name: 'devs' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'ghost' },
      subjects: [{ kind: 'Group', name: 'devs' }],
    }),
    201,
  );
  const ghost = await call(as('alice-token'), 'GET', '/api/v1/namespaces/team/pods');
  assert.is(
    ghost.json.message,
    'pods is forbidden: User "alice" cannot list resource "pods" in API group "" in the namespace "team": RBAC: role.rbac.authorization.k8s.io "ghost" not found',
  );
  const rules = await ok(
    call(as('alice-token'), 'POST', '/apis/authorization.k8s.io/v1/selfsubjectrulesreviews', {
      spec: { namespace: 'team' },
    }),
    201,
  );
  assert.is(rules.status.evaluationError, 'role.rbac.authorization.k8s.io "ghost" not found');
  await ok(
    call(sim, 'POST', '/apis/rbac.authorization.k8s.io/v1/namespaces/team/roles', {
      metadata: { name: 'ghost' },
      rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['list'] }],
    }),
    201,
  );
  await ok(call(as('alice-token'), 'GET', '/api/v1/namespaces/team/pods'));

  const imp = await whoami(sim.token!, { 'Impersonate-User': 'system:serviceaccount:team:ci' });
  assert.equal(imp, {
    username: 'system:serviceaccount:team:ci',
    groups: ['system:serviceaccounts', 'system:serviceaccounts:team', 'system:authenticated'],
  });
  const imp2 = await whoami(sim.token!, {
    'Impersonate-User': 'bob',
    'Impersonate-Group': 'ops',
    'Impersonate-Extra-Scopes': 'read',
  });
  assert.equal(imp2, { username: 'bob', groups: ['ops', 'system:authenticated'], extra: { scopes: ['read'] } });
  const denied = await call(as('alice-token'), 'GET', '/api/v1/namespaces/team/pods', undefined, {
    'Impersonate-User': 'system:serviceaccount:team:ci',
  });
  assert.is(denied.status, 403);
  assert.is(
    denied.json.message,
    'serviceaccounts "ci" is forbidden: User "alice" cannot impersonate resource "serviceaccounts" in API group "" in the namespace "team"',
  );

  const bad = await call(as('not-a-token'), 'GET', '/api/v1/namespaces');
  assert.is(bad.status, 401);
  assert.equal(bad.json, {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message: 'Unauthorized',
    reason: 'Unauthorized',
    code: 401,
  });
  const anon = (path: string) => call(sim, 'GET', path, undefined, { authorization: '' });
  assert.is((await anon('/version')).status, 200);
  assert.is((await anon('/healthz')).status, 200);
  const api = await anon('/api');
  assert.is(api.status, 403);
  assert.is(api.json.message, 'forbidden: User "system:anonymous" cannot get path "/api"');
  assert.is(
    (await anon('/api/v1/namespaces/default/pods')).json.message,
    'pods is forbidden: User "system:anonymous" cannot list resource "pods" in API group "" in the namespace "default"',
  );
});

test('SubjectAccessReview and LocalSubjectAccessReview: validation and answers', async () => {
  const sar = (spec: Obj) =>
    call(sim, 'POST', '/apis/authorization.k8s.io/v1/subjectaccessreviews', {
      apiVersion: 'authorization.k8s.io/v1',
      kind: 'SubjectAccessReview',
      spec,
    });
  const noSubject = await sar({ resourceAttributes: { verb: 'get', resource: 'pods' } });
  assert.is(noSubject.status, 422);
  assert.match(
    noSubject.json.message,
    /spec\.user: Invalid value: "": at least one of user or group must be specified/,
  );
  const masters = await ok(
    sar({ groups: ['system:masters'], nonResourceAttributes: { verb: 'get', path: '/metrics' } }),
    201,
  );
  assert.equal(masters.status, { allowed: true });
  const lsar = (ns: string, spec: Obj) =>
    call(sim, 'POST', `/apis/authorization.k8s.io/v1/namespaces/${ns}/localsubjectaccessreviews`, {
      apiVersion: 'authorization.k8s.io/v1',
      kind: 'LocalSubjectAccessReview',
      spec,
    });
  const mismatch = await lsar('team', {
    user: 'alice',
    resourceAttributes: { namespace: 'default', verb: 'list', resource: 'pods' },
  });
  assert.is(mismatch.status, 400);
  assert.is(mismatch.json.message, 'spec.resourceAttributes.namespace must match namespace: team');
  const l = await ok(
    lsar('team', {
      user: 'alice',
      groups: ['devs'],
      resourceAttributes: { namespace: 'team', verb: 'list', resource: 'pods' },
    }),
    201,
  );
  assert.equal(l.status, {
    allowed: true,
    reason: 'RBAC: allowed by RoleBinding "devs/team" of Role "ghost" to Group "devs"',
  });
});

test('with authentication off every request is the admin', async () => {
  const open = await startSim({ tls: false, token: false });
  try {
    const r = await call(open, 'POST', '/apis/authentication.k8s.io/v1/selfsubjectreviews', {
      kind: 'SelfSubjectReview',
      apiVersion: 'authentication.k8s.io/v1',
    });
    assert.is(r.json.status.userInfo.username, 'kube-sim-admin');
    assert.is((await call(open, 'GET', '/api/v1/namespaces')).status, 200);
  } finally {
    await open.stop();
  }
});

test.run();
