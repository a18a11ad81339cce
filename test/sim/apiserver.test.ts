/**
 * kube-sim apiserver over HTTP: discovery shapes, auth, CRUD status codes and Status errors,
 * content negotiation, Table output, the admin endpoint and REST faults.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startSim, type SimHandle } from '../helpers/sim.js';
import { call, pod } from './client.js';

let sim: SimHandle;
test.before(async () => {
  sim = await startSim({ tls: false, token: 'secret-token' });
});
test.after(async () => {
  await sim.stop();
});

test('~> /version, /api, /apis and resource lists look like a 1.33 apiserver', async () => {
  const v = await call(sim, 'GET', '/version');
  assert.is(v.status, 200);
  assert.is(v.json.major, '1');
  assert.is(v.json.minor, '33');
  assert.match(v.json.gitVersion, /^v1\.33\./);
  const api = await call(sim, 'GET', '/api');
  assert.equal(api.json.versions, ['v1']);
  assert.is(api.json.kind, 'APIVersions');
  const apis = await call(sim, 'GET', '/apis');
  assert.is(apis.json.kind, 'APIGroupList');
  assert.equal(apis.json.groups.map((g: any) => g.name).sort(), [
    'apiextensions.k8s.io',
    'authentication.k8s.io',
    'authorization.k8s.io',
    'metrics.k8s.io',
    'networking.k8s.io',
    'rbac.authorization.k8s.io',
    'storage.k8s.io',
  ]);
  const v1 = await call(sim, 'GET', '/api/v1');
  assert.is(v1.json.kind, 'APIResourceList');
  const pods = v1.json.resources.find((r: any) => r.name === 'pods');
  assert.equal(pods.shortNames, ['po']);
  assert.equal(pods.categories, ['all']);
  assert.is(pods.namespaced, true);
  assert.ok(pods.verbs.includes('watch'));
  for (const sub of ['exec', 'attach', 'log', 'portforward', 'status', 'binding'])
    assert.ok(
      v1.json.resources.some((r: any) => r.name === `pods/${sub}`),
      sub,
    );
  assert.equal(v1.json.resources.find((r: any) => r.name === 'pods/exec').verbs, ['create', 'get']);
  const rbac = await call(sim, 'GET', '/apis/rbac.authorization.k8s.io/v1');
  assert.equal(
    rbac.json.resources.map((r: any) => r.name),
    ['clusterrolebindings', 'clusterroles', 'rolebindings', 'roles'],
  );
  const np = await call(sim, 'GET', '/apis/networking.k8s.io');
  assert.is(np.json.kind, 'APIGroup');
  assert.is(np.json.preferredVersion.groupVersion, 'networking.k8s.io/v1');
});

test('~> aggregated-discovery Accept gets plain application/json (legacy discovery)', async () => {
  const r = await call(sim, 'GET', '/api', undefined, {
    accept:
      'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json',
  });
  assert.is(r.status, 200);
  assert.is(r.headers['content-type'], 'application/json');
  assert.is(r.json.kind, 'APIVersions');
});

test('~> a wrong token is 401, no token is anonymous: /version allowed, resources 403', async () => {
  const bad = await call(sim, 'GET', '/api/v1/namespaces', undefined, { authorization: 'Bearer nope' });
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
  const anon = await call(sim, 'GET', '/api/v1/namespaces/default/pods', undefined, { authorization: '' });
  assert.is(anon.status, 403);
  assert.is(anon.json.reason, 'Forbidden');
  assert.is(
    anon.json.message,
    'pods is forbidden: User "system:anonymous" cannot list resource "pods" in API group "" in the namespace "default"',
  );
  const ver = await call(sim, 'GET', '/version', undefined, { authorization: '' });
  assert.is(ver.status, 200);
});

test('~> create 201, get, AlreadyExists 409, NotFound 404 with real Status shapes', async () => {
  const c = await call(sim, 'POST', '/api/v1/namespaces/default/pods', pod('p1'));
  assert.is(c.status, 201);
  assert.ok(c.json.metadata.uid);
  assert.match(c.json.metadata.resourceVersion, /^\d+$/);
  assert.match(c.json.metadata.creationTimestamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  assert.is(c.json.status.phase, 'Pending');
  assert.is(c.json.spec.restartPolicy, 'Always');
  assert.is(c.json.spec.containers[0].imagePullPolicy, 'Always');
  const again = await call(sim, 'POST', '/api/v1/namespaces/default/pods', pod('p1'));
  assert.is(again.status, 409);
  assert.equal(again.json, {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message: 'pods "p1" already exists',
    reason: 'AlreadyExists',
    details: { name: 'p1', kind: 'pods' },
    code: 409,
  });
  const nf = await call(sim, 'GET', '/api/v1/namespaces/default/pods/nope');
  assert.is(nf.status, 404);
  assert.equal(nf.json, {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message: 'pods "nope" not found',
    reason: 'NotFound',
    details: { name: 'nope', kind: 'pods' },
    code: 404,
  });
  const list = await call(sim, 'GET', '/api/v1/namespaces/default/pods');
  assert.is(list.json.kind, 'PodList');
  assert.is(list.json.items.length, 1);
  assert.is(list.json.items[0].kind, undefined, 'typed list items carry no kind');
  const del = await call(sim, 'DELETE', '/api/v1/namespaces/default/pods/p1');
  assert.is(del.status, 200);
  assert.is(del.json.kind, 'Pod');
  const gone = await call(sim, 'GET', '/api/v1/namespaces/default/pods/p1');
  assert.is(gone.status, 404);
});

test('~> 422 Invalid for a bad name and for a pod without containers', async () => {
  const bad = await call(sim, 'POST', '/api/v1/namespaces/default/configmaps', { metadata: { name: 'Bad_Name' } });
  assert.is(bad.status, 422);
  assert.is(bad.json.reason, 'Invalid');
  assert.match(
    bad.json.message,
    /^ConfigMap "Bad_Name" is invalid: metadata.name: Invalid value: "Bad_Name": a lowercase RFC 1123 subdomain/,
  );
  assert.is(bad.json.details.causes[0].field, 'metadata.name');
  const empty = await call(sim, 'POST', '/api/v1/namespaces/default/pods', {
    metadata: { name: 'e' },
    spec: { containers: [] },
  });
  assert.is(empty.status, 422);
  assert.is(empty.json.details.causes[0].field, 'spec.containers');
});

test('~> content negotiation: protobuf-only Accept is 406, unknown body type 415, yaml body accepted', async () => {
  const r = await call(sim, 'GET', '/api/v1/namespaces', undefined, { accept: 'application/vnd.kubernetes.protobuf' });
  assert.is(r.status, 406);
  assert.is(r.json.reason, 'NotAcceptable');
  const pj = await call(sim, 'GET', '/api/v1/namespaces', undefined, {
    accept: 'application/vnd.kubernetes.protobuf, application/json',
  });
  assert.is(pj.status, 200);
  assert.is(pj.json.kind, 'NamespaceList');
  const t = await call(sim, 'POST', '/api/v1/namespaces/default/configmaps', 'x', { 'content-type': 'text/plain' });
  assert.is(t.status, 415);
  const y = await call(
    sim,
    'POST',
    '/api/v1/namespaces/default/configmaps',
    'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: from-yaml\ndata:\n  a: b\n',
    { 'content-type': 'application/yaml' },
  );
  assert.is(y.status, 201);
  assert.equal(y.json.data, { a: 'b' });
  const yo = await call(sim, 'GET', '/api/v1/namespaces/default/configmaps/from-yaml', undefined, {
    accept: 'application/yaml',
  });
  assert.match(yo.text, /name: from-yaml/);
});

test('~> Table output for pods with the printer columns', async () => {
  await call(sim, 'POST', '/api/v1/namespaces/default/pods', pod('tp'));
  const r = await call(sim, 'GET', '/api/v1/namespaces/default/pods', undefined, {
    accept:
      'application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json',
  });
  assert.is(r.json.kind, 'Table');
  assert.is(r.json.apiVersion, 'meta.k8s.io/v1');
  assert.equal(
    r.json.columnDefinitions.map((c: any) => c.name),
    ['Name', 'Ready', 'Status', 'Restarts', 'Age', 'IP', 'Node', 'Nominated Node', 'Readiness Gates'],
  );
  assert.equal(
    r.json.columnDefinitions.map((c: any) => c.priority),
    [0, 0, 0, 0, 0, 1, 1, 1, 1],
  );
  const row = r.json.rows.find((x: any) => x.cells[0] === 'tp');
  assert.equal(row.cells.slice(0, 4), ['tp', '0/1', 'Pending', '0']);
  assert.is(row.object.kind, 'PartialObjectMetadata');
  assert.is(row.object.metadata.name, 'tp');
  const none = await call(sim, 'GET', '/api/v1/namespaces/default/pods/tp?includeObject=None', undefined, {
    accept: 'application/json;as=Table;v=v1;g=meta.k8s.io',
  });
  assert.is(none.json.rows[0].object, undefined);
  const cm = await call(sim, 'GET', '/api/v1/namespaces/default/configmaps', undefined, {
    accept: 'application/json;as=Table;v=v1;g=meta.k8s.io',
  });
  assert.equal(
    cm.json.columnDefinitions.map((c: any) => c.name),
    ['Name', 'Data', 'Age'],
  );
});

test('~> unknown fields: dropped with a Warning header (default), 400 with fieldValidation=Strict', async () => {
  const body = { metadata: { name: 'uf', bogus: 1 }, data: { a: 'b' }, extra: true };
  const w = await call(sim, 'POST', '/api/v1/namespaces/default/configmaps', body);
  assert.is(w.status, 201);
  assert.is(w.json.extra, undefined);
  assert.is(w.json.metadata.bogus, undefined);
  assert.is(w.headers.warning, '299 - "unknown field \\"extra\\"", 299 - "unknown field \\"metadata.bogus\\""');
  const st = await call(sim, 'POST', '/api/v1/namespaces/default/configmaps?fieldValidation=Strict', {
    ...body,
    metadata: { name: 'uf2' },
  });
  assert.is(st.status, 400);
  assert.is(
    st.json.message,
    'ConfigMap in version "v1" cannot be handled as a ConfigMap: strict decoding error: unknown field "extra"',
  );
  const ig = await call(sim, 'POST', '/api/v1/namespaces/default/configmaps?fieldValidation=Ignore', {
    ...body,
    metadata: { name: 'uf3' },
  });
  assert.is(ig.status, 201);
  assert.is(ig.headers.warning, undefined);
});

test('~> decoder type errors are 400 as the Go decoder reports them (numbers in labels/env, bad base64)', async () => {
  const l = await call(sim, 'POST', '/api/v1/namespaces/default/configmaps', {
    metadata: { name: 'n', labels: { port: 8080 } },
  });
  assert.is(l.status, 400);
  assert.is(
    l.json.message,
    'ConfigMap in version "v1" cannot be handled as a ConfigMap: json: cannot unmarshal number into Go struct field ObjectMeta.metadata.labels of type string',
  );
  const e = await call(sim, 'POST', '/api/v1/namespaces/default/pods', {
    metadata: { name: 'envnum' },
    spec: { containers: [{ name: 'c', image: 'i', env: [{ name: 'A', value: 1 }] }] },
  });
  assert.is(e.status, 400);
  assert.match(
    e.json.message,
    /cannot unmarshal number into Go struct field EnvVar\.spec\.containers\.env\.value of type string$/,
  );
  const b = await call(sim, 'POST', '/api/v1/namespaces/default/secrets', {
    metadata: { name: 'b64' },
    data: { a: 'not base64!' },
  });
  assert.is(b.status, 400);
  assert.match(
    b.json.message,
    /^Secret in version "v1" cannot be handled as a Secret: illegal base64 data at input byte 3$/,
  );
  const ok = await call(sim, 'POST', '/api/v1/namespaces/default/secrets', {
    metadata: { name: 'b64ok' },
    data: { a: 'aGk=' },
    stringData: { b: 'hi' },
  });
  assert.is(ok.status, 201);
  assert.equal(ok.json.data, { a: 'aGk=', b: 'aGk=' });
});

test('~> dryRun=All does not persist; deletecollection by label; PartialObjectMetadataList; pretty', async () => {
  const d = await call(sim, 'POST', '/api/v1/namespaces/default/configmaps?dryRun=All', { metadata: { name: 'dry' } });
  assert.is(d.status, 201);
  assert.is((await call(sim, 'GET', '/api/v1/namespaces/default/configmaps/dry')).status, 404);
  for (const n of ['dc1', 'dc2', 'keep'])
    await call(sim, 'POST', '/api/v1/namespaces/default/configmaps', {
      metadata: { name: n, labels: { g: n === 'keep' ? 'no' : 'yes' } },
    });
  const dc = await call(sim, 'DELETE', '/api/v1/namespaces/default/configmaps?labelSelector=g%3Dyes');
  assert.is(dc.status, 200);
  assert.is(dc.json.kind, 'ConfigMapList');
  assert.equal(
    dc.json.items.map((i: any) => i.metadata.name),
    ['dc1', 'dc2'],
  );
  assert.is((await call(sim, 'GET', '/api/v1/namespaces/default/configmaps/keep')).status, 200);
  const pm = await call(sim, 'GET', '/api/v1/namespaces/default/configmaps', undefined, {
    accept: 'application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1',
  });
  assert.is(pm.json.kind, 'PartialObjectMetadataList');
  assert.ok(pm.json.items.every((i: any) => i.metadata.name && i.data === undefined));
  const pretty = await call(sim, 'GET', '/api/v1/namespaces/default?pretty=true');
  assert.match(pretty.text, /^\{\n  "kind": "Namespace"/);
});

test('~> unknown paths are a 404 Status; wrong methods 405; single status 404 for a name', async () => {
  const r = await call(sim, 'GET', '/api/v1/widgets');
  assert.equal(
    [r.status, r.json.reason, r.json.message],
    [404, 'NotFound', 'the server could not find the requested resource'],
  );
  const g = await call(sim, 'GET', '/apis/apps/v1');
  assert.is(g.status, 404);
  const m = await call(sim, 'POST', '/api/v1/namespaces/default/configmaps/keep', {});
  assert.is(m.status, 405);
  assert.is(m.json.reason, 'MethodNotAllowed');
});

test('~> admin endpoint and REST faults: 429 with Retry-After for N requests, then normal', async () => {
  const st = await call(sim, 'GET', '/_sim/');
  assert.is(st.status, 200);
  assert.ok(st.json.objects.namespaces >= 4);
  const set = await call(sim, 'POST', '/_sim/faults', {
    failRequests: { status: 429, count: 2, pathContains: '/configmaps' },
  });
  assert.is(set.status, 200);
  const a = await call(sim, 'GET', '/api/v1/namespaces/default/configmaps');
  assert.is(a.status, 429);
  assert.is(a.headers['retry-after'], '1');
  assert.is(a.json.reason, 'TooManyRequests');
  assert.is(a.json.details.retryAfterSeconds, 1);
  const other = await call(sim, 'GET', '/api/v1/namespaces/default/pods');
  assert.is(other.status, 200, 'other paths are not affected');
  assert.is((await call(sim, 'GET', '/api/v1/namespaces/default/configmaps')).status, 429);
  assert.is((await call(sim, 'GET', '/api/v1/namespaces/default/configmaps')).status, 200);
  sim.setFaults({ failRequests: { status: 500, count: 1 } });
  const e = await call(sim, 'GET', '/api/v1/namespaces');
  assert.is(e.status, 500);
  assert.is(e.json.reason, 'InternalError');
  sim.setFaults({ delayMs: { ms: 150, pathContains: '/secrets' } });
  const t0 = Date.now();
  await call(sim, 'GET', '/api/v1/namespaces/default/secrets');
  assert.ok(Date.now() - t0 >= 140, 'delayed');
  const cl = await call(sim, 'DELETE', '/_sim/faults');
  assert.equal(cl.json, {});
});

test('~> metrics.k8s.io as metrics-server serves it: group, resource list, 404 for a pod without a reading, lists', async () => {
  const g = await call(sim, 'GET', '/apis/metrics.k8s.io');
  assert.equal(
    [g.status, g.json.kind, g.json.preferredVersion.groupVersion],
    [200, 'APIGroup', 'metrics.k8s.io/v1beta1'],
  );
  const l = await call(sim, 'GET', '/apis/metrics.k8s.io/v1beta1');
  assert.equal(
    l.json.resources.map((r: any) => [r.name, r.kind, r.namespaced]),
    [['pods', 'PodMetrics', true]],
  );
  const nf = await call(sim, 'GET', '/apis/metrics.k8s.io/v1beta1/namespaces/default/pods/nosuch');
  assert.equal(
    [nf.status, nf.json.reason, nf.json.message],
    [404, 'NotFound', 'podmetrics.metrics.k8s.io "nosuch" not found'],
  );
  const list = await call(sim, 'GET', '/apis/metrics.k8s.io/v1beta1/namespaces/default/pods');
  assert.equal([list.status, list.json.kind, list.json.items], [200, 'PodMetricsList', []]);
  const post = await call(sim, 'POST', '/apis/metrics.k8s.io/v1beta1/namespaces/default/pods', {});
  assert.is(post.status, 405);
});

test.run();
