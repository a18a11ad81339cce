/**
 * @kubernetes/client-node 1.x against kube-sim through TLS and a bearer token, from the kubeconfig
 * kube-sim writes (KubeConfig.loadFromFile): CoreV1Api CRUD and errors, every patch strategy,
 * Watch, an informer that relists after 410 Expired, and KubernetesObjectApi (which resolves
 * kinds through discovery).
 */
import * as k8s from '@kubernetes/client-node';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startSim, type SimHandle } from '../helpers/sim.js';
import { until } from './client.js';

let sim: SimHandle;
let kc: k8s.KubeConfig;
let core: k8s.CoreV1Api;
const requests: string[] = [];
test.before(async () => {
  sim = await startSim({ log: (l) => requests.push(l) });
  kc = new k8s.KubeConfig();
  kc.loadFromFile(sim.kubeconfigPath);
  core = kc.makeApiClient(k8s.CoreV1Api);
});
test.after(async () => {
  await sim.stop();
});

const NS = 'cn';
// schedulerName `manual`: the pods stay unscheduled whatever the simulated kubelet does.
const pod = (name: string): k8s.V1Pod => ({
  metadata: { name, labels: { app: name } },
  spec: { schedulerName: 'manual', containers: [{ name: 'c', image: 'busybox', command: ['sleep', '100'] }] },
});

test('~> loadFromFile: https with the CA and a bearer token', async () => {
  assert.match(kc.getCurrentCluster()!.server, /^https:\/\//);
  assert.ok(kc.getCurrentUser()!.token);
  const v = await kc.makeApiClient(k8s.VersionApi).getCode();
  assert.is(v.minor, '33');
  const bad = new k8s.KubeConfig();
  bad.loadFromOptions({ ...JSON.parse(JSON.stringify(kc)), users: [{ name: 'kube-sim', token: 'wrong' }] });
  const err = await bad
    .makeApiClient(k8s.CoreV1Api)
    .listNamespace()
    .catch((e) => e);
  assert.instance(err, k8s.ApiException);
  assert.is(err.code, 401);
});

test('~> CoreV1Api CRUD with real Status errors', async () => {
  await core.createNamespace({ body: { metadata: { name: NS } } });
  await until(
    async () => (await core.listNamespacedServiceAccount({ namespace: NS })).items.length > 0,
    5000,
    'default SA',
  );
  const created = await core.createNamespacedPod({ namespace: NS, body: pod('a') });
  assert.is(created.metadata!.name, 'a');
  assert.is(created.status!.phase, 'Pending');
  const read = await core.readNamespacedPod({ name: 'a', namespace: NS });
  assert.is(read.metadata!.uid, created.metadata!.uid);
  await core.createNamespacedPod({ namespace: NS, body: pod('b') });
  const sel = await core.listNamespacedPod({ namespace: NS, labelSelector: 'app in (b,c)' });
  assert.equal(
    sel.items.map((p) => p.metadata!.name),
    ['b'],
  );
  const dup = await core.createNamespacedPod({ namespace: NS, body: pod('a') }).catch((e) => e);
  assert.instance(dup, k8s.ApiException);
  assert.is(dup.code, 409);
  const body = JSON.parse(dup.body);
  assert.equal([body.kind, body.reason, body.message], ['Status', 'AlreadyExists', 'pods "a" already exists']);
  const nf = await core.readNamespacedPod({ name: 'zz', namespace: NS }).catch((e) => e);
  assert.is(nf.code, 404);
  const cm = await core.createNamespacedConfigMap({
    namespace: NS,
    body: { metadata: { name: 'cm' }, data: { a: '1' } },
  });
  const replaced = await core.replaceNamespacedConfigMap({
    name: 'cm',
    namespace: NS,
    body: { ...cm, data: { a: '2' } },
  });
  assert.equal(replaced.data, { a: '2' });
  const stale = await core
    .replaceNamespacedConfigMap({ name: 'cm', namespace: NS, body: { ...cm, data: { a: '3' } } })
    .catch((e) => e);
  assert.is(stale.code, 409);
  assert.match(JSON.parse(stale.body).message, /the object has been modified/);
  const del = await core.deleteNamespacedPod({ name: 'b', namespace: NS });
  assert.is((del as k8s.V1Pod).kind, 'Pod');
  const delCm = await core.deleteNamespacedConfigMap({ name: 'cm', namespace: NS });
  assert.is(delCm.status, 'Success');
});

test('~> patch: JSON patch (the client default), merge, strategic, server-side apply', async () => {
  const jp = await core.patchNamespacedPod({
    name: 'a',
    namespace: NS,
    body: [{ op: 'add', path: '/metadata/labels/j', value: '1' }],
  });
  assert.is(jp.metadata!.labels!.j, '1');
  const mp = await core.patchNamespacedPod(
    { name: 'a', namespace: NS, body: { metadata: { labels: { m: '1' } } } },
    k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
  );
  assert.is(mp.metadata!.labels!.m, '1');
  const sp = await core.patchNamespacedPod(
    { name: 'a', namespace: NS, body: { spec: { containers: [{ name: 'c', image: 'busybox:1.36' }] } } },
    k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.StrategicMergePatch),
  );
  assert.is(sp.spec!.containers[0]!.image, 'busybox:1.36');
  assert.equal(sp.spec!.containers[0]!.command, ['sleep', '100']);
  const ssa = await core.patchNamespacedConfigMap(
    {
      name: 'applied',
      namespace: NS,
      fieldManager: 'test',
      body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'applied' }, data: { x: 'y' } },
    },
    k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.ServerSideApply),
  );
  assert.equal(ssa.data, { x: 'y' });
});

test('~> Watch: events in order with full objects', async () => {
  const events: string[] = [];
  const watch = new k8s.Watch(kc);
  let done: unknown = 'running';
  const ctl = await watch.watch(
    `/api/v1/namespaces/${NS}/pods`,
    {},
    (type, obj) => events.push(`${type}:${obj.metadata.name}`),
    (err) => (done = err),
  );
  await until(() => events.length >= 1, 5000, 'initial ADDED');
  await core.createNamespacedPod({ namespace: NS, body: pod('w') });
  await core.deleteNamespacedPod({ name: 'w', namespace: NS });
  await until(() => events.includes('DELETED:w'), 5000, 'DELETED');
  assert.equal(
    events.filter((e) => e.endsWith(':w')),
    ['ADDED:w', 'DELETED:w'],
  );
  assert.is(done, 'running', 'the watch is still open');
  ctl.abort();
});

test('~> informer (ListWatch): a 410 Expired on resume makes it relist, and it keeps working', async () => {
  const path = `/api/v1/namespaces/${NS}/configmaps`;
  const inf = k8s.makeInformer(kc, path, () => core.listNamespacedConfigMap({ namespace: NS }));
  const seen: string[] = [];
  inf.on('add', (o) => seen.push(`add:${o.metadata!.name}`));
  inf.on('error', () => seen.push('error'));
  await inf.start();
  await core.createNamespacedConfigMap({ namespace: NS, body: { metadata: { name: 'i1' } } });
  await until(() => seen.includes('add:i1'), 5000, 'add i1');
  const lists = () =>
    requests.filter((r) => r.startsWith(`GET ${path} `) || (r.startsWith(`GET ${path}?`) && !r.includes('watch=true')))
      .length;
  const before = lists();
  // A write the informer does not see (another resource) moves the revision on; then compact.
  await core.createNamespacedSecret({ namespace: NS, body: { metadata: { name: 'bump' } } });
  sim.setFaults({ expireWatchesBefore: 'now' });
  await until(() => lists() > before, 10_000, 'relist after 410');
  sim.clearFaults();
  await core.createNamespacedConfigMap({ namespace: NS, body: { metadata: { name: 'i2' } } });
  await until(() => seen.includes('add:i2'), 10_000, 'add i2 after the relist');
  assert.ok(inf.list(NS).some((o) => o.metadata!.name === 'i2'));
  await inf.stop();
});

test('~> KubernetesObjectApi resolves kinds through discovery (core and rbac groups)', async () => {
  const api = k8s.KubernetesObjectApi.makeApiClient(kc);
  const role = await api.create({
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'Role',
    metadata: { name: 'r', namespace: NS },
    rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['get'] }],
  } as k8s.KubernetesObject);
  assert.is(role.metadata!.name, 'r');
  const read = await api.read({
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'Role',
    metadata: { name: 'r', namespace: NS },
  });
  assert.is((read as any).rules[0].verbs[0], 'get');
  await api.create({
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'obj', namespace: NS },
    data: { a: 'b' },
  } as k8s.KubernetesObject);
  const patched = await api.patch(
    {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'obj', namespace: NS },
      data: { c: 'd' },
    } as k8s.KubernetesObject,
    undefined,
    undefined,
    undefined,
    undefined,
    k8s.PatchStrategy.MergePatch,
  );
  assert.equal((patched as any).data, { a: 'b', c: 'd' });
  const list = await api.list('v1', 'ConfigMap', NS);
  assert.ok(list.items.some((o) => o.metadata!.name === 'obj'));
  const ns = await api.read({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } });
  assert.is((ns as any).status.phase, 'Active');
  await api.delete({
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'Role',
    metadata: { name: 'r', namespace: NS },
  });
  const gone = await api
    .read({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name: 'r', namespace: NS } })
    .catch((e) => e);
  assert.is(gone.code, 404);
});

test.run();
