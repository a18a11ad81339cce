/**
 * kube-sim object store and controllers: resourceVersion/generation, conflicts, validation,
 * selectors, every patch type, status subresource, pod graceful deletion, namespace deletion,
 * ownerReference garbage collection (Background, Orphan, Foreground), KubeletStore semantics.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { StatusError } from '../../src/sim/status.js';
import { Lifecycle } from '../../src/sim/store/lifecycle.js';
import { defOf } from '../../src/sim/store/resources.js';
import { parseFieldSelector, parseLabelSelector } from '../../src/sim/store/selectors.js';
import { Store, type StoreEvent } from '../../src/sim/store/store.js';
import type { KObject } from '../../src/sim/types.js';
import { pod, tick, until } from './client.js';

const NS = defOf({ group: '', resource: 'namespaces' });
const PODS = defOf({ group: '', resource: 'pods' });
const CM = defOf({ group: '', resource: 'configmaps' });
const SECRETS = defOf({ group: '', resource: 'secrets' });
const SA = defOf({ group: '', resource: 'serviceaccounts' });
const SVC = defOf({ group: '', resource: 'services' });

async function setup() {
  const store = new Store({ nodeName: 'n1' });
  const lc = new Lifecycle(store);
  store.create(NS, undefined, { metadata: { name: 'default' } });
  store.create(NS, undefined, { metadata: { name: 'ns1' } });
  await tick();
  return { store, lc };
}

function throwsStatus(fn: () => unknown, code: number, re?: RegExp): StatusError {
  try {
    fn();
  } catch (err) {
    assert.instance(err, StatusError);
    const se = err as StatusError;
    assert.is(se.code, code, se.message);
    if (re) assert.match(se.message, re);
    return se;
  }
  assert.unreachable(`expected a ${code} Status error`);
  throw new Error('unreachable');
}

const ownerRef = (o: KObject) => ({
  apiVersion: o.apiVersion,
  kind: o.kind,
  name: o.metadata.name!,
  uid: o.metadata.uid!,
});

test('~> one global resourceVersion counter; uid, creationTimestamp, generateName', async () => {
  const { store } = await setup();
  const a = store.create(CM, 'default', { metadata: { name: 'a' } });
  const b = store.create(SECRETS, 'default', { metadata: { name: 'b' } });
  assert.is(Number(b.metadata.resourceVersion), Number(a.metadata.resourceVersion) + 1);
  assert.match(a.metadata.uid!, /^[0-9a-f-]{36}$/);
  const g = store.create(CM, 'default', { metadata: { generateName: 'gen-' } });
  assert.match(g.metadata.name!, /^gen-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
  assert.is(g.metadata.generateName, 'gen-');
  assert.is(store.rv, Number(g.metadata.resourceVersion));
  assert.ok(Object.isFrozen(g) && Object.isFrozen(g.metadata), 'stored objects are immutable');
});

test('~> generation starts at 1 and bumps on spec changes only', async () => {
  const { store } = await setup();
  const p = store.create(PODS, 'default', pod('p'));
  assert.is(p.metadata.generation, 1);
  const l = store.patch(PODS, 'default', 'p', 'merge', { metadata: { labels: { a: 'b' } } });
  assert.is(l.metadata.generation, 1);
  const i = store.patch(PODS, 'default', 'p', 'strategic', {
    spec: { containers: [{ name: 'c', image: 'busybox:1.36' }] },
  });
  assert.is(i.metadata.generation, 2);
  assert.is((i as any).spec.containers[0].image, 'busybox:1.36');
  assert.equal(
    (i as any).spec.containers[0].command,
    ['sleep', '1000'],
    'strategic merge keeps the other container fields',
  );
  const c = store.create(CM, 'default', { metadata: { name: 'c' } });
  assert.is(c.metadata.generation, undefined, 'configmaps have no generation');
});

test('~> update with a stale resourceVersion is 409 Conflict; a no-op update keeps the RV', async () => {
  const { store } = await setup();
  const a = store.create(CM, 'default', { metadata: { name: 'a' }, data: { x: '1' } });
  const b = store.update(CM, 'default', 'a', { ...a, data: { x: '2' } });
  assert.ok(Number(b.metadata.resourceVersion) > Number(a.metadata.resourceVersion));
  const se = throwsStatus(() => store.update(CM, 'default', 'a', { ...a, data: { x: '3' } }), 409);
  assert.is(se.reason, 'Conflict');
  assert.is(
    se.message,
    'Operation cannot be fulfilled on configmaps "a": the object has been modified; please apply your changes to the latest version and try again',
  );
  const same = store.update(CM, 'default', 'a', b);
  assert.is(same.metadata.resourceVersion, b.metadata.resourceVersion);
  throwsStatus(() => store.create(CM, 'default', { metadata: { name: 'a' } }), 409, /already exists/);
  throwsStatus(() => store.update(CM, 'default', 'zz', { metadata: { name: 'zz' } }), 404);
  throwsStatus(
    () => store.update(CM, 'default', 'a', { metadata: { name: 'other' } }),
    400,
    /does not match the name on the URL/,
  );
});

test('~> namespace checks: missing 404, ServiceAccount admission 403', async () => {
  const { store } = await setup();
  throwsStatus(() => store.create(CM, 'nope', { metadata: { name: 'a' } }), 404, /namespaces "nope" not found/);
  store.create(NS, undefined, { metadata: { name: 'fresh' } });
  throwsStatus(() => store.create(PODS, 'fresh', pod('p')), 403, /error looking up service account fresh\/default/);
  await tick();
  assert.ok(store.get(SA, 'fresh', 'default'), 'the serviceaccounts controller made default');
  assert.ok(store.get(CM, 'fresh', 'kube-root-ca.crt'), 'the root CA publisher made kube-root-ca.crt');
  store.create(PODS, 'fresh', pod('p'));
});

test('~> pod validation: immutable spec fields, image and activeDeadlineSeconds rules', async () => {
  const { store } = await setup();
  store.create(PODS, 'default', pod('p'));
  const se = throwsStatus(
    () => store.patch(PODS, 'default', 'p', 'strategic', { spec: { containers: [{ name: 'c', command: ['true'] }] } }),
    422,
  );
  assert.is(se.reason, 'Invalid');
  assert.match(se.message, /^Pod "p" is invalid: spec: Forbidden: pod updates may not change fields other than/);
  store.patch(PODS, 'default', 'p', 'merge', { spec: { activeDeadlineSeconds: 100 } });
  store.patch(PODS, 'default', 'p', 'merge', { spec: { activeDeadlineSeconds: 50 } });
  throwsStatus(
    () => store.patch(PODS, 'default', 'p', 'merge', { spec: { activeDeadlineSeconds: 60 } }),
    422,
    /must be less than or equal to previous value/,
  );
  throwsStatus(
    () => store.create(PODS, 'default', { metadata: { name: 'x' }, spec: { containers: [{ name: 'c' }] } }),
    422,
    /spec.containers\[0\].image: Required value/,
  );
  throwsStatus(
    () =>
      store.create(PODS, 'default', { metadata: { name: 'UPPER' }, spec: { containers: [{ name: 'c', image: 'i' }] } }),
    422,
    /RFC 1123 subdomain/,
  );
});

test('~> status subresource: PUT on the object ignores status, /status ignores the rest', async () => {
  const { store } = await setup();
  const p = store.create(PODS, 'default', pod('p')) as any;
  const u = store.update(PODS, 'default', 'p', {
    ...p,
    metadata: { ...p.metadata, labels: { a: '1' } },
    status: { phase: 'Running' },
  }) as any;
  assert.is(u.status.phase, 'Pending');
  assert.equal(u.metadata.labels, { a: '1' });
  const s = store.update(
    PODS,
    'default',
    'p',
    { ...u, metadata: { ...u.metadata, labels: { a: '2' } }, status: { phase: 'Running' } },
    { subresource: 'status' },
  ) as any;
  assert.is(s.status.phase, 'Running');
  assert.equal(s.metadata.labels, { a: '1' });
});

test('~> label selectors: =, ==, !=, in, notin, exists, !key, gt/lt; syntax errors are 400', () => {
  const L = { app: 'web', tier: 'fe', n: '5' };
  const m = (s: string) => parseLabelSelector(s)!(L);
  assert.ok(m('app=web'));
  assert.ok(m('app==web,tier=fe'));
  assert.not.ok(m('app!=web'));
  assert.ok(m('app!=db'));
  assert.ok(m('missing!=x'), '!= matches objects without the key');
  assert.ok(m('tier in (fe, be)'));
  assert.not.ok(m('tier notin (fe,be)'));
  assert.ok(m('app'));
  assert.not.ok(m('!app'));
  assert.ok(m('!missing'));
  assert.ok(m('n gt 4'));
  assert.not.ok(m('n lt 5'));
  assert.throws(
    () => parseLabelSelector('app in (a'),
    (e: StatusError) => e.code === 400,
  );
  assert.throws(
    () => parseLabelSelector('app=('),
    (e: StatusError) => e.code === 400,
  );
});

test('~> field selectors: metadata.name/namespace, status.phase, pod fields; unknown is 400', () => {
  const o = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'a', namespace: 'ns' },
    spec: { nodeName: 'n1' },
    status: { phase: 'Running' },
  } as KObject;
  const f = (s: string) =>
    parseFieldSelector(s, [
      'metadata.name',
      'metadata.namespace',
      'status.phase',
      'spec.nodeName',
      'spec.hostNetwork',
    ])!.match(o);
  assert.ok(f('metadata.name=a'));
  assert.ok(f('metadata.name==a,metadata.namespace=ns'));
  assert.not.ok(f('status.phase!=Running'));
  assert.ok(f('spec.nodeName=n1'));
  assert.ok(f('spec.hostNetwork=false'));
  assert.throws(
    () => parseFieldSelector('spec.foo=1', ['metadata.name']),
    (e: StatusError) => e.code === 400 && e.message === 'field label not supported: spec.foo',
  );
});

test('~> merge patch (RFC 7386) and JSON patch (RFC 6902) incl. test failure 422', async () => {
  const { store } = await setup();
  store.create(CM, 'default', { metadata: { name: 'a', labels: { x: '1', y: '2' } }, data: { k: 'v' } });
  const m = store.patch(CM, 'default', 'a', 'merge', {
    metadata: { labels: { x: null, z: '3' } },
    data: { k2: 'v2' },
  }) as any;
  assert.equal(m.metadata.labels, { y: '2', z: '3' });
  assert.equal(m.data, { k: 'v', k2: 'v2' });
  const j = store.patch(CM, 'default', 'a', 'json', [
    { op: 'add', path: '/data/new', value: 'n' },
    { op: 'remove', path: '/data/k' },
    { op: 'replace', path: '/data/k2', value: 'r' },
    { op: 'copy', from: '/data/new', path: '/data/copy' },
    { op: 'move', from: '/data/copy', path: '/data/moved' },
    { op: 'add', path: '/metadata/labels/a~1b', value: 'slash' },
    { op: 'test', path: '/data/new', value: 'n' },
  ]) as any;
  assert.equal(j.data, { k2: 'r', new: 'n', moved: 'n' });
  assert.is(j.metadata.labels['a/b'], 'slash');
  throwsStatus(
    () => store.patch(CM, 'default', 'a', 'json', [{ op: 'test', path: '/data/new', value: 'other' }]),
    422,
    /test failed/,
  );
  throwsStatus(() => store.patch(CM, 'default', 'a', 'json', [{ op: 'remove', path: '/data/absent' }]), 422, /missing/);
  throwsStatus(
    () => store.patch(CM, 'default', 'a', 'merge', { metadata: { resourceVersion: '1' }, data: { q: 'q' } }),
    409,
  );
});

test('~> strategic merge patch: containers/env/ports by key, $patch delete/replace, $setElementOrder, $retainKeys, finalizers', async () => {
  const { strategicMerge, schemaForKind } = await import('../../src/sim/store/patch.js');
  const S = schemaForKind('Pod');
  const orig = {
    metadata: { labels: { a: '1', b: '2' }, finalizers: ['f1'] },
    spec: {
      containers: [
        {
          name: 'a',
          image: 'ia',
          env: [
            { name: 'X', value: '1' },
            { name: 'Y', value: '2' },
          ],
          ports: [{ containerPort: 80, name: 'http' }],
        },
        { name: 'b', image: 'ib' },
      ],
      volumes: [{ name: 'v', emptyDir: {} }],
      tolerations: [{ key: 't1' }],
    },
  };
  const r1 = strategicMerge(
    orig,
    {
      metadata: { labels: { b: null, c: '3' }, finalizers: ['f2'] },
      spec: {
        containers: [
          {
            name: 'a',
            env: [
              { name: 'Y', value: '22' },
              { name: 'Z', value: '3' },
            ],
            ports: [{ containerPort: 80, protocol: 'TCP' }],
          },
          { name: 'c', image: 'ic' },
        ],
        tolerations: [{ key: 't2' }],
      },
    },
    S,
  ) as any;
  assert.equal(r1.metadata.labels, { a: '1', c: '3' });
  assert.equal(r1.metadata.finalizers, ['f1', 'f2'], 'finalizers merge as a set');
  assert.equal(
    r1.spec.containers.map((c: any) => c.name),
    ['a', 'b', 'c'],
  );
  assert.is(r1.spec.containers[0].image, 'ia');
  assert.equal(r1.spec.containers[0].env, [
    { name: 'X', value: '1' },
    { name: 'Y', value: '22' },
    { name: 'Z', value: '3' },
  ]);
  assert.equal(r1.spec.containers[0].ports, [{ containerPort: 80, name: 'http', protocol: 'TCP' }]);
  assert.equal(r1.spec.tolerations, [{ key: 't2' }], 'lists without a merge key are replaced');
  const r2 = strategicMerge(orig, { spec: { containers: [{ name: 'b', $patch: 'delete' }] } }, S) as any;
  assert.equal(
    r2.spec.containers.map((c: any) => c.name),
    ['a'],
  );
  const r3 = strategicMerge(
    orig,
    { spec: { containers: [{ $patch: 'replace' }, { name: 'only', image: 'io' }] } },
    S,
  ) as any;
  assert.equal(r3.spec.containers, [{ name: 'only', image: 'io' }]);
  const r4 = strategicMerge(orig, { metadata: { labels: { $patch: 'replace', z: '9' } } }, S) as any;
  assert.equal(r4.metadata.labels, { z: '9' });
  const r5 = strategicMerge(
    orig,
    {
      spec: {
        $setElementOrder: undefined,
        '$setElementOrder/containers': [{ name: 'b' }, { name: 'a' }],
        containers: [{ name: 'a', image: 'ia2' }],
      },
    },
    S,
  ) as any;
  assert.equal(
    r5.spec.containers.map((c: any) => `${c.name}:${c.image}`),
    ['b:ib', 'a:ia2'],
  );
  const r6 = strategicMerge(
    orig,
    { spec: { volumes: [{ name: 'v', $retainKeys: ['name', 'configMap'], configMap: { name: 'cm' } }] } },
    S,
  ) as any;
  assert.equal(r6.spec.volumes, [{ name: 'v', configMap: { name: 'cm' } }]);
  const r7 = strategicMerge(orig, { metadata: { '$deleteFromPrimitiveList/finalizers': ['f1'] } }, S) as any;
  assert.equal(r7.metadata.finalizers, []);
});

test('~> pod graceful deletion: unscheduled pods go at once; scheduled ones get deletionTimestamp, the kubelet removes them', async () => {
  const { store, lc } = await setup();
  store.create(PODS, 'default', pod('unsched'));
  const r0 = lc.delete(PODS, 'default', 'unsched');
  assert.ok(r0.gone);
  store.create(PODS, 'default', pod('p', { spec: { terminationGracePeriodSeconds: 20 } }));
  store.mutate(PODS, 'default', 'p', (o: any) => (o.spec.nodeName = 'n1'));
  const events: StoreEvent[] = [];
  store.subscribe(PODS, (ev) => events.push(ev as StoreEvent));
  const before = Date.now();
  const r1 = lc.delete(PODS, 'default', 'p');
  assert.not.ok(r1.gone);
  assert.is(r1.object.metadata.deletionGracePeriodSeconds, 20);
  const ts = Date.parse(r1.object.metadata.deletionTimestamp!);
  assert.ok(ts >= Math.floor(before / 1000) * 1000 + 19_000, 'deletionTimestamp = now + grace');
  assert.equal(
    events.map((e) => e.type),
    ['MODIFIED'],
  );
  const r2 = lc.delete(PODS, 'default', 'p', { gracePeriodSeconds: 60 });
  assert.is(r2.object.metadata.deletionGracePeriodSeconds, 20, 'a longer grace period does not extend it');
  const r3 = lc.delete(PODS, 'default', 'p', { gracePeriodSeconds: 5 });
  assert.is(r3.object.metadata.deletionGracePeriodSeconds, 5, 'a shorter one shortens it');
  store.remove(PODS, 'default', 'p');
  assert.is(store.get(PODS, 'default', 'p'), undefined);
  assert.is(events.at(-1)!.type, 'DELETED');
  // Force (grace 0) and terminal pods go at once.
  store.create(PODS, 'default', pod('f'));
  store.mutate(PODS, 'default', 'f', (o: any) => (o.spec.nodeName = 'n1'));
  assert.ok(lc.delete(PODS, 'default', 'f', { gracePeriodSeconds: 0 }).gone);
  store.create(PODS, 'default', pod('t'));
  store.mutate(PODS, 'default', 't', (o: any) => {
    o.spec.nodeName = 'n1';
    o.status.phase = 'Succeeded';
  });
  assert.ok(lc.delete(PODS, 'default', 't').gone);
});

test('~> delete preconditions: uid and resourceVersion mismatches are 409', async () => {
  const { store, lc } = await setup();
  const a = store.create(CM, 'default', { metadata: { name: 'a' } });
  throwsStatus(
    () => lc.delete(CM, 'default', 'a', { preconditions: { uid: 'x' } }),
    409,
    /Precondition failed: UID in precondition: x/,
  );
  throwsStatus(
    () => lc.delete(CM, 'default', 'a', { preconditions: { resourceVersion: '1' } }),
    409,
    /ResourceVersion in precondition/,
  );
  assert.ok(lc.delete(CM, 'default', 'a', { preconditions: { uid: a.metadata.uid } }).gone);
});

test('~> namespace deletion: Terminating, new content forbidden, contents deleted, then the namespace goes', async () => {
  const { store, lc } = await setup();
  store.create(CM, 'ns1', { metadata: { name: 'a' } });
  store.create(PODS, 'ns1', pod('p'));
  store.mutate(PODS, 'ns1', 'p', (o: any) => (o.spec.nodeName = 'n1'));
  const r = lc.delete(NS, undefined, 'ns1');
  assert.is((r.object as any).status.phase, 'Terminating');
  assert.ok(r.object.metadata.deletionTimestamp);
  throwsStatus(
    () => store.create(CM, 'ns1', { metadata: { name: 'b' } }),
    403,
    /unable to create new content in namespace ns1 because it is being terminated/,
  );
  await until(() => !store.get(CM, 'ns1', 'a'), 2000, 'contents deleted');
  const p = store.get(PODS, 'ns1', 'p');
  assert.ok(p?.metadata.deletionTimestamp, 'the running pod is terminating, waiting for its kubelet');
  assert.ok(store.get(NS, undefined, 'ns1'), 'the namespace waits for the pod');
  store.remove(PODS, 'ns1', 'p');
  await until(() => !store.get(NS, undefined, 'ns1'), 2000, 'namespace gone');
  throwsStatus(() => lc.delete(NS, undefined, 'default'), 403, /this namespace may not be deleted/);
});

test('~> GC background: deleting an owner deletes its dependents (cascading); a second live owner keeps one', async () => {
  const { store, lc } = await setup();
  const owner = store.create(CM, 'default', { metadata: { name: 'owner' } });
  const other = store.create(CM, 'default', { metadata: { name: 'other' } });
  const d1 = store.create(SECRETS, 'default', { metadata: { name: 'd1', ownerReferences: [ownerRef(owner)] } });
  store.create(CM, 'default', { metadata: { name: 'd2', ownerReferences: [ownerRef(d1)] } });
  store.create(CM, 'default', { metadata: { name: 'shared', ownerReferences: [ownerRef(owner), ownerRef(other)] } });
  assert.ok(lc.delete(CM, 'default', 'owner').gone);
  await until(() => !store.get(SECRETS, 'default', 'd1') && !store.get(CM, 'default', 'd2'), 2000, 'cascade');
  const shared = await until(
    () => {
      const s = store.get(CM, 'default', 'shared');
      return s && s.metadata.ownerReferences?.length === 1 ? s : undefined;
    },
    2000,
    'dangling ref removed',
  );
  assert.is(shared!.metadata.ownerReferences![0]!.name, 'other');
});

test('~> GC Orphan: dependents stay, without the ownerReference', async () => {
  const { store, lc } = await setup();
  const owner = store.create(CM, 'default', { metadata: { name: 'owner' } });
  store.create(CM, 'default', { metadata: { name: 'dep', ownerReferences: [ownerRef(owner)] } });
  assert.ok(lc.delete(CM, 'default', 'owner', { propagationPolicy: 'Orphan' }).gone);
  await tick();
  await tick();
  const dep = store.get(CM, 'default', 'dep');
  assert.ok(dep);
  assert.is(dep!.metadata.ownerReferences, undefined);
});

test('~> GC Foreground: the owner waits (foregroundDeletion finalizer) until its dependents are gone', async () => {
  const { store, lc } = await setup();
  const owner = store.create(CM, 'default', { metadata: { name: 'owner' } });
  store.create(CM, 'default', { metadata: { name: 'dep', ownerReferences: [ownerRef(owner)] } });
  store.create(PODS, 'default', pod('pdep', { metadata: { ownerReferences: [ownerRef(owner)] } }));
  store.mutate(PODS, 'default', 'pdep', (o: any) => (o.spec.nodeName = 'n1'));
  const r = lc.delete(CM, 'default', 'owner', { propagationPolicy: 'Foreground' });
  assert.not.ok(r.gone);
  assert.equal(r.object.metadata.finalizers, ['foregroundDeletion']);
  await until(() => !store.get(CM, 'default', 'dep'), 2000, 'dependent deleted');
  assert.ok(store.get(PODS, 'default', 'pdep')?.metadata.deletionTimestamp, 'the pod dependent terminates gracefully');
  assert.ok(store.get(CM, 'default', 'owner'), 'owner still there while a dependent remains');
  store.remove(PODS, 'default', 'pdep');
  await until(() => !store.get(CM, 'default', 'owner'), 2000, 'owner gone');
});

test('~> GC: an object created with only dangling owners is collected', async () => {
  const { store } = await setup();
  store.create(CM, 'default', {
    metadata: {
      name: 'orphan',
      ownerReferences: [
        { apiVersion: 'v1', kind: 'ConfigMap', name: 'ghost', uid: '00000000-0000-0000-0000-000000000000' },
      ],
    },
  });
  store.create(CM, 'default', {
    metadata: {
      name: 'unknown-kind',
      ownerReferences: [
        { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'rs', uid: '11111111-0000-0000-0000-000000000000' },
      ],
    },
  });
  await until(() => !store.get(CM, 'default', 'orphan'), 2000, 'dangling dependent collected');
  assert.ok(store.get(CM, 'default', 'unknown-kind'), 'owners of kinds the server does not serve are left alone');
});

test('~> finalizers hold an object until removed', async () => {
  const { store, lc } = await setup();
  store.create(CM, 'default', { metadata: { name: 'f', finalizers: ['example.com/x'] } });
  const r = lc.delete(CM, 'default', 'f');
  assert.not.ok(r.gone);
  assert.ok(r.object.metadata.deletionTimestamp);
  store.patch(CM, 'default', 'f', 'merge', { metadata: { finalizers: null } });
  assert.is(store.get(CM, 'default', 'f'), undefined);
});

test('~> KubeletStore: mutate emits MODIFIED (none for no-ops), subscribers see events in order even when writing from a callback', async () => {
  const { store } = await setup();
  store.create(PODS, 'default', pod('p'));
  const seenA: string[] = [],
    seenB: string[] = [];
  store.subscribe(PODS, (ev) => {
    seenA.push(`${ev.type}:${(ev.object as any).status.phase}`);
    if ((ev.object as any).status.phase === 'Pending' && ev.type === 'MODIFIED')
      store.mutate(PODS, 'default', 'p', (o: any) => (o.status.phase = 'Running'));
  });
  store.subscribe(PODS, (ev) => seenB.push(`${ev.type}:${(ev.object as any).status.phase}`));
  store.mutate(PODS, 'default', 'p', (o: any) => (o.status.conditions = [{ type: 'PodScheduled', status: 'True' }]));
  const rv = store.rv;
  assert.is(
    store.mutate(PODS, 'default', 'p', () => {})!.metadata.resourceVersion,
    String(rv),
    'no-op mutate keeps the RV',
  );
  assert.equal(seenA, ['MODIFIED:Pending', 'MODIFIED:Running']);
  assert.equal(seenB, seenA);
  assert.is(
    store.mutate(PODS, 'default', 'gone', () => {}),
    undefined,
  );
});

test('~> recordEvent creates v1 Events and aggregates repeats into count', async () => {
  const { store } = await setup();
  const p = store.create(PODS, 'default', pod('p'));
  store.recordEvent(p, 'Normal', 'Pulled', 'Container image "busybox" already present on machine');
  store.recordEvent(p, 'Normal', 'Pulled', 'Container image "busybox" already present on machine');
  const evs = store.list(defOf({ group: '', resource: 'events' }), 'default') as any[];
  assert.is(evs.length, 1);
  assert.is(evs[0].count, 2);
  assert.equal(evs[0].involvedObject.name, 'p');
  assert.is(evs[0].source.component, 'kubelet');
});

test('~> endpoints controller: ready pods in addresses, others in notReadyAddresses, named ports, cleanup', async () => {
  const { store, lc } = await setup();
  const EP = defOf({ group: '', resource: 'endpoints' });
  store.create(SVC, 'default', {
    metadata: { name: 'web', labels: { tier: 'fe' } },
    spec: { selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 'http' }] },
  });
  const mk = (name: string, ip: string, ready: boolean) => {
    store.create(PODS, 'default', {
      metadata: { name, labels: { app: 'web' } },
      spec: { containers: [{ name: 'c', image: 'i', ports: [{ name: 'http', containerPort: 8080 }] }] },
    });
    store.mutate(PODS, 'default', name, (o: any) => {
      o.spec.nodeName = 'n1';
      o.status = {
        phase: 'Running',
        podIP: ip,
        podIPs: [{ ip }],
        conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }],
      };
    });
  };
  mk('a', '10.0.0.12', true);
  mk('b', '10.0.0.3', true);
  mk('c', '10.0.0.4', false);
  const ep = await until(
    () => {
      const e = store.get(EP, 'default', 'web') as any;
      return e?.subsets?.[0]?.addresses?.length === 2 && e.subsets[0].notReadyAddresses?.length === 1 ? e : undefined;
    },
    2000,
    'endpoints',
  );
  assert.equal(
    ep.subsets[0].addresses.map((a: any) => a.ip),
    ['10.0.0.3', '10.0.0.12'],
  );
  assert.equal(ep.subsets[0].addresses[0].targetRef, {
    kind: 'Pod',
    namespace: 'default',
    name: 'b',
    uid: store.get(PODS, 'default', 'b')!.metadata.uid,
  });
  assert.equal(ep.subsets[0].ports, [{ port: 8080, protocol: 'TCP', name: 'http' }]);
  assert.equal(ep.metadata.labels, { tier: 'fe' });
  lc.delete(PODS, 'default', 'a');
  await until(
    () => (store.get(EP, 'default', 'web') as any)?.subsets?.[0]?.addresses?.length === 1,
    2000,
    'terminating pod dropped',
  );
  lc.delete(SVC, 'default', 'web');
  await until(() => !store.get(EP, 'default', 'web'), 2000, 'endpoints deleted with the service');
  store.create(SVC, 'default', { metadata: { name: 'manual' }, spec: { ports: [{ port: 1 }] } });
  await tick();
  assert.is(store.get(EP, 'default', 'manual'), undefined, 'no selector: no managed endpoints');
});

test('~> services get a ClusterIP and defaults; NodePorts are allocated', async () => {
  const { store } = await setup();
  const s = store.create(SVC, 'default', {
    metadata: { name: 's' },
    spec: { ports: [{ port: 80 }], selector: { app: 'x' } },
  }) as any;
  assert.match(s.spec.clusterIP, /^10\.96\.\d+\.\d+$/);
  assert.equal(s.spec.ports[0], { port: 80, protocol: 'TCP', targetPort: 80 });
  assert.is(s.spec.type, 'ClusterIP');
  const n = store.create(SVC, 'default', {
    metadata: { name: 'n' },
    spec: { type: 'NodePort', ports: [{ port: 80 }] },
  }) as any;
  assert.ok(n.spec.ports[0].nodePort >= 30000 && n.spec.ports[0].nodePort <= 32767);
  throwsStatus(
    () => store.create(SVC, 'default', { metadata: { name: '1abc' }, spec: { ports: [{ port: 1 }] } }),
    422,
    /DNS-1035/,
  );
});

test.run();
