/**
 * kube-sim's scheduler and storage controllers on a bare object store (no apiserver, no kubelet):
 * the FitError text, toleration and node selector operators, namespace selectors in pod affinity,
 * preferred affinities, and the delayed-binding handshake between the scheduler and the PV
 * controller.
 */
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Scheduler } from '../../../src/sim/scheduler/index.js';
import { fitError } from '../../../src/sim/scheduler/fit-error.js';
import { tolerates } from '../../../src/sim/scheduler/filters.js';
import { nodeSelectorTermsMatch } from '../../../src/sim/storage/common.js';
import { defaultStorageClass } from '../../../src/sim/storage/provisioner.js';
import { StorageController } from '../../../src/sim/storage/pv-controller.js';
import { Lifecycle } from '../../../src/sim/store/lifecycle.js';
import { defOf } from '../../../src/sim/store/resources.js';
import { Store } from '../../../src/sim/store/store.js';
import { until } from '../client.js';

type Obj = Record<string, any>;
const NS = defOf({ group: '', resource: 'namespaces' });
const NODES = defOf({ group: '', resource: 'nodes' });
const PODS = defOf({ group: '', resource: 'pods' });
const SA = defOf({ group: '', resource: 'serviceaccounts' });
const PVC = defOf({ group: '', resource: 'persistentvolumeclaims' });
const PV = defOf({ group: '', resource: 'persistentvolumes' });
const SC = defOf({ group: 'storage.k8s.io', resource: 'storageclasses' });

function cluster(nodes: Array<{ name: string; labels?: Record<string, string>; taints?: Obj[] }>) {
  const store = new Store();
  const lifecycle = new Lifecycle(store);
  for (const ns of ['default', 'team-a', 'team-b']) {
    store.create(NS, undefined, { metadata: { name: ns, labels: { team: ns } } });
    store.create(SA, ns, { metadata: { name: 'default' } });
  }
  for (const n of nodes)
    store.create(NODES, undefined, {
      metadata: { name: n.name, labels: { 'kubernetes.io/hostname': n.name, ...(n.labels ?? {}) } },
      spec: { taints: n.taints },
    });
  const scheduler = new Scheduler(store);
  scheduler.start();
  return { store, lifecycle, scheduler };
}
const podSpec = (spec: Obj = {}) => ({ containers: [{ name: 'c', image: 'busybox' }], ...spec });
const nodeOf = (store: Store, ns: string, name: string) =>
  until(() => (store.get(PODS, ns, name) as Obj).spec.nodeName as string, 2000, `${name} bound`);
const lastEvent = (store: Store, name: string, reason: string) =>
  until(
    () =>
      (store.list(defOf({ group: '', resource: 'events' }), undefined) as Obj[])
        .filter((e) => e.involvedObject.name === name && e.reason === reason)
        .at(-1)?.message as string,
    2000,
    `${reason} of ${name}`,
  );

test('FitError: reasons counted and sorted as strings, then the preemption part', () => {
  const u = (reason: string) => ({ code: 'UnschedulableAndUnresolvable' as const, reason });
  const s = (reason: string) => ({ code: 'Unschedulable' as const, reason });
  assert.is(
    fitError(3, [
      u("node(s) didn't match Pod's node affinity/selector"),
      s("node(s) didn't match pod anti-affinity rules"),
      u("node(s) didn't match Pod's node affinity/selector"),
    ]),
    "0/3 nodes are available: 1 node(s) didn't match pod anti-affinity rules, 2 node(s) didn't match Pod's node affinity/selector. preemption: 0/3 nodes are available: 1 No preemption victims found for incoming pod, 2 Preemption is not helpful for scheduling.",
  );
  assert.is(
    fitError(
      1,
      [u('pod has unbound immediate PersistentVolumeClaims')],
      'pod has unbound immediate PersistentVolumeClaims',
    ),
    '0/1 nodes are available: pod has unbound immediate PersistentVolumeClaims. preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling.',
  );
});

test('tolerations: Equal compares values, Exists ignores them, an empty key with Exists tolerates everything, effects must agree', () => {
  const taint = { key: 'k', value: 'v', effect: 'NoSchedule' };
  assert.ok(tolerates([{ key: 'k', operator: 'Equal', value: 'v' }], taint));
  assert.not.ok(tolerates([{ key: 'k', operator: 'Equal', value: 'w' }], taint));
  assert.ok(tolerates([{ key: 'k', value: 'v' }], taint), 'the operator defaults to Equal');
  assert.ok(tolerates([{ key: 'k', operator: 'Exists' }], taint));
  assert.ok(tolerates([{ operator: 'Exists' }], taint));
  assert.not.ok(tolerates([{ key: 'k', operator: 'Exists', effect: 'NoExecute' }], taint));
  assert.not.ok(tolerates([], taint));
});

test('node selector terms: ORed terms, ANDed requirements, Gt/Lt, matchFields on metadata.name; an empty term matches nothing', () => {
  const node = { metadata: { name: 'n1', labels: { gen: '5', zone: 'a' } } };
  assert.ok(
    nodeSelectorTermsMatch(
      [
        {
          matchExpressions: [
            { key: 'gen', operator: 'Gt', values: ['4'] },
            { key: 'zone', operator: 'In', values: ['a', 'b'] },
          ],
        },
      ],
      node,
    ),
  );
  assert.not.ok(nodeSelectorTermsMatch([{ matchExpressions: [{ key: 'gen', operator: 'Lt', values: ['4'] }] }], node));
  assert.ok(
    nodeSelectorTermsMatch(
      [
        { matchExpressions: [{ key: 'gen', operator: 'Lt', values: ['4'] }] },
        { matchFields: [{ key: 'metadata.name', operator: 'In', values: ['n1'] }] },
      ],
      node,
    ),
  );
  assert.ok(
    nodeSelectorTermsMatch(
      [
        {
          matchExpressions: [
            { key: 'gpu', operator: 'DoesNotExist' },
            { key: 'zone', operator: 'NotIn', values: ['b'] },
          ],
        },
      ],
      node,
    ),
  );
  assert.not.ok(nodeSelectorTermsMatch([{}], node));
});

test('pod affinity with a namespaceSelector finds Pods of other namespaces; preferred node affinity wins over spreading', async () => {
  const { store, scheduler } = cluster([
    { name: 'n1', labels: { zone: 'a' } },
    { name: 'n2', labels: { zone: 'b' } },
    { name: 'n3', labels: { zone: 'b' } },
  ]);
  try {
    store.create(PODS, 'team-a', {
      metadata: { name: 'api', labels: { app: 'api' } },
      spec: podSpec({ nodeName: 'n3' }),
    });
    store.create(PODS, 'team-b', {
      metadata: { name: 'sidecar' },
      spec: podSpec({
        affinity: {
          podAffinity: {
            requiredDuringSchedulingIgnoredDuringExecution: [
              {
                labelSelector: { matchLabels: { app: 'api' } },
                namespaceSelector: { matchLabels: { team: 'team-a' } },
                topologyKey: 'zone',
              },
            ],
          },
        },
      }),
    });
    assert.ok(['n2', 'n3'].includes(await nodeOf(store, 'team-b', 'sidecar')), 'the zone of the api Pod');
    store.create(PODS, 'team-b', {
      metadata: { name: 'same-ns-only' },
      spec: podSpec({
        affinity: {
          podAffinity: {
            requiredDuringSchedulingIgnoredDuringExecution: [
              { labelSelector: { matchLabels: { app: 'api' } }, topologyKey: 'zone' },
            ],
          },
        },
      }),
    });
    assert.is(
      await lastEvent(store, 'same-ns-only', 'FailedScheduling'),
      "0/3 nodes are available: 3 node(s) didn't match pod affinity rules. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.",
    );
    // n1 has the fewest Pods, but the preference sends the Pod to zone b.
    store.create(PODS, 'default', {
      metadata: { name: 'pref' },
      spec: podSpec({
        affinity: {
          nodeAffinity: {
            preferredDuringSchedulingIgnoredDuringExecution: [
              { weight: 10, preference: { matchExpressions: [{ key: 'zone', operator: 'In', values: ['b'] }] } },
            ],
          },
        },
      }),
    });
    assert.ok(['n2', 'n3'].includes(await nodeOf(store, 'default', 'pref')));
    // Without preferences, the node with the fewest Pods.
    store.create(PODS, 'default', { metadata: { name: 'plain' }, spec: podSpec() });
    assert.is(await nodeOf(store, 'default', 'plain'), 'n1');
    // Another scheduler's Pods and gated Pods are left alone.
    store.create(PODS, 'default', { metadata: { name: 'other' }, spec: podSpec({ schedulerName: 'other' }) });
    store.create(PODS, 'default', {
      metadata: { name: 'gated' },
      spec: podSpec({ schedulingGates: [{ name: 'wait' }] }),
    });
    await new Promise((r) => setTimeout(r, 50));
    assert.is((store.get(PODS, 'default', 'other') as Obj).spec.nodeName, undefined);
    assert.is((store.get(PODS, 'default', 'gated') as Obj).spec.nodeName, undefined);
  } finally {
    scheduler.stop();
  }
});

test('no node at all: the scheduler says so; a node added later takes the Pod', async () => {
  const { store, scheduler } = cluster([]);
  try {
    store.create(PODS, 'default', { metadata: { name: 'early' }, spec: podSpec() });
    assert.is(await lastEvent(store, 'early', 'FailedScheduling'), 'no nodes available to schedule pods');
    store.create(NODES, undefined, { metadata: { name: 'late', labels: { 'kubernetes.io/hostname': 'late' } } });
    assert.is(await nodeOf(store, 'default', 'early'), 'late');
  } finally {
    scheduler.stop();
  }
});

test('delayed binding: the scheduler selects the node, the provisioner makes the volume there, then the Pod is bound; a second user follows the volume', async () => {
  const { store, lifecycle, scheduler } = cluster([{ name: 'n1' }, { name: 'n2' }]);
  const dir = mkdtempSync(join(tmpdir(), 'kube-sim-sched-'));
  const storage = new StorageController(store, lifecycle, dir);
  storage.start();
  try {
    store.create(SC, undefined, defaultStorageClass());
    store.create(PVC, 'default', {
      metadata: { name: 'c' },
      spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } },
    });
    const vol = { volumes: [{ name: 'v', persistentVolumeClaim: { claimName: 'c' } }] };
    store.create(PODS, 'default', {
      metadata: { name: 'p1' },
      spec: podSpec({ ...vol, nodeSelector: { 'kubernetes.io/hostname': 'n2' } }),
    });
    assert.is(await nodeOf(store, 'default', 'p1'), 'n2');
    const c = store.get(PVC, 'default', 'c') as Obj;
    assert.is(c.metadata.annotations['volume.kubernetes.io/selected-node'], 'n2');
    assert.is(c.status.phase, 'Bound', 'bound before the Pod was');
    const pv = store.get(PV, undefined, c.spec.volumeName) as Obj;
    assert.ok(existsSync(pv.spec.hostPath.path));
    store.create(PODS, 'default', { metadata: { name: 'p2' }, spec: podSpec(vol) });
    assert.is(await nodeOf(store, 'default', 'p2'), 'n2', 'n1 has fewer Pods, but the volume is on n2');
    // The claim is protected while its Pods exist; with them gone, Delete reclaims volume and directory.
    lifecycle.delete(PVC, 'default', 'c', {});
    await new Promise((r) => setTimeout(r, 50));
    assert.ok(store.get(PVC, 'default', 'c')?.metadata.deletionTimestamp);
    store.erase(PODS, store.get(PODS, 'default', 'p1')!);
    store.erase(PODS, store.get(PODS, 'default', 'p2')!);
    await until(() => !store.get(PV, undefined, pv.metadata.name), 3000, 'volume deleted');
    assert.not.ok(store.get(PVC, 'default', 'c'));
    assert.not.ok(existsSync(pv.spec.hostPath.path));
  } finally {
    scheduler.stop();
    storage.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('retroactive default class: a claim made while no class was default gets the one created later, and is provisioned', async () => {
  const { store, lifecycle, scheduler } = cluster([{ name: 'n1' }]);
  const dir = mkdtempSync(join(tmpdir(), 'kube-sim-sched-'));
  const storage = new StorageController(store, lifecycle, dir);
  storage.start();
  try {
    store.create(PVC, 'default', {
      metadata: { name: 'early' },
      spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } },
    });
    await new Promise((r) => setTimeout(r, 20));
    assert.is((store.get(PVC, 'default', 'early') as Obj).spec.storageClassName, undefined);
    store.create(SC, undefined, { ...defaultStorageClass(), volumeBindingMode: 'Immediate' });
    await until(() => (store.get(PVC, 'default', 'early') as Obj).status.phase === 'Bound', 2000, 'bound');
    assert.is((store.get(PVC, 'default', 'early') as Obj).spec.storageClassName, 'standard');
  } finally {
    scheduler.stop();
    storage.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
