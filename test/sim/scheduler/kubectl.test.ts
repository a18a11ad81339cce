/**
 * kube-sim's default-scheduler on three simulated nodes, with real kubectl 1.33: nodeSelector and
 * node affinity, taints and tolerations, cordon, pod affinity and anti-affinity by hostname,
 * ReadWriteOnce volumes that keep their users on their node, and unschedulable Pods that stay
 * Pending with the real `0/3 nodes are available: ...` FailedScheduling text until the cluster
 * changes.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { KUBECTL, kubectl, startSim, type SimHandle } from '../../helpers/sim.js';
import { until } from '../client.js';

type Obj = Record<string, any>;
let sim: SimHandle;
let cache: string;
const k = (args: string[], stdin?: string) =>
  kubectl('1.33', args, { kubeconfig: sim.kubeconfigPath, cacheDir: cache, stdin });
const ok = async (args: string[], stdin?: string) => {
  const r = await k(args, stdin);
  assert.is(r.code, 0, `kubectl ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
};
const json = async (args: string[]) => JSON.parse(await ok([...args, '-o', 'json']));
const NODES = ['kube-sim', 'kube-sim-worker', 'kube-sim-worker2'];

/** A sleeping busybox Pod with extra spec fields. */
const pod = (name: string, labels: Record<string, string>, spec: Obj = {}) =>
  JSON.stringify({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, labels },
    spec: {
      terminationGracePeriodSeconds: 1,
      containers: [{ name: 'c', image: 'busybox', command: ['sleep', '1000'] }],
      ...spec,
    },
  });
const create = (...pods: string[]) => Promise.all(pods.map((p) => ok(['create', '-f', '-'], p)));
const nodeOf = (name: string): Promise<string> =>
  until(async () => (await json(['get', 'pod', name])).spec.nodeName as string, 10_000, `pod ${name} scheduled`);
const failed = (name: string) =>
  until(
    async (): Promise<string> =>
      (
        await json(['get', 'events', '--field-selector', `involvedObject.name=${name},reason=FailedScheduling`])
      ).items.at(-1)?.message,
    10_000,
    `FailedScheduling of ${name}`,
  );
const running = (name: string) =>
  until(async () => (await json(['get', 'pod', name])).status.phase === 'Running', 30_000, `pod ${name} Running`);
const clean = async () => {
  await ok(['delete', 'pods', '--all', '--grace-period=1']);
  await until(async () => !(await json(['get', 'pods'])).items.length, 30_000, 'no pods left');
};
const antiAffinity = (app: string) => ({
  podAntiAffinity: {
    requiredDuringSchedulingIgnoredDuringExecution: [
      { labelSelector: { matchLabels: { app } }, topologyKey: 'kubernetes.io/hostname' },
    ],
  },
});

const have = existsSync(KUBECTL('1.33'));
test.before(async () => {
  if (!have) return;
  sim = await startSim({ nodes: 3 });
  cache = mkdtempSync(join(tmpdir(), 'kubectl-sched-'));
});
test.after(async () => {
  if (!have) return;
  await sim.stop();
  rmSync(cache, { recursive: true, force: true });
});
if (!have) console.log('SKIP scheduler kubectl tests: kubectl 1.33 is not installed');
const t = have ? test : test.skip;

t("~> --nodes 3: three Ready nodes; a Pod's spec.nodeName and status.hostIP name its node honestly", async () => {
  const out = await ok(['get', 'nodes']);
  assert.match(out, /^kube-sim\s+Ready\s+control-plane\s+/m);
  assert.match(out, /^kube-sim-worker\s+Ready\s+<none>\s+/m);
  assert.match(out, /^kube-sim-worker2\s+Ready\s+<none>\s+/m);
  await create(pod('one', { app: 'one' }));
  await running('one');
  const p = await json(['get', 'pod', 'one']);
  assert.ok(NODES.includes(p.spec.nodeName));
  const node = await json(['get', 'node', p.spec.nodeName]);
  assert.is(p.status.hostIP, node.status.addresses.find((a: Obj) => a.type === 'InternalIP').address);
  const ev = (await json(['get', 'events', '--field-selector', 'involvedObject.name=one,reason=Scheduled'])).items[0];
  assert.is(ev.message, `Successfully assigned default/one to ${p.spec.nodeName}`);
  assert.is(ev.source.component, 'default-scheduler');
  await clean();
});

t(
  '~> required anti-affinity by hostname spreads three Pods over three nodes; a fourth stays Pending with the real message',
  async () => {
    await create(...[1, 2, 3].map((i) => pod(`web-${i}`, { app: 'web' }, { affinity: antiAffinity('web') })));
    const nodes = await Promise.all([1, 2, 3].map((i) => nodeOf(`web-${i}`)));
    assert.equal([...nodes].sort(), NODES);
    await create(pod('web-4', { app: 'web' }, { affinity: antiAffinity('web') }));
    assert.is(
      await failed('web-4'),
      "0/3 nodes are available: 3 node(s) didn't match pod anti-affinity rules. preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod.",
    );
    const p = await json(['get', 'pod', 'web-4']);
    assert.is(p.status.phase, 'Pending');
    assert.is(p.status.conditions.find((c: Obj) => c.type === 'PodScheduled').reason, 'Unschedulable');
    // A Pod without the rule is kept off by the others' anti-affinity only if it matches their selector.
    await create(pod('intruder', { app: 'web' }));
    assert.is(
      await failed('intruder'),
      "0/3 nodes are available: 3 node(s) didn't satisfy existing pods anti-affinity rules. preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod.",
    );
    // Freeing a node lets the waiting Pods try again; one of them gets it.
    await ok(['delete', 'pod', 'web-1', '--grace-period=1']);
    await until(
      async () => (await json(['get', 'pods'])).items.filter((x: Obj) => x.spec.nodeName).length === 3,
      30_000,
      'a waiting Pod took the freed node',
    );
    await clean();
  },
);

t('~> pod affinity: a Pod joins the node of the Pod it has affinity to; none to join is Unresolvable', async () => {
  await create(pod('db', { app: 'db' }, { nodeSelector: { 'kubernetes.io/hostname': 'kube-sim-worker2' } }));
  assert.is(await nodeOf('db'), 'kube-sim-worker2');
  const affinity = (app: string) => ({
    podAffinity: {
      requiredDuringSchedulingIgnoredDuringExecution: [
        { labelSelector: { matchLabels: { app } }, topologyKey: 'kubernetes.io/hostname' },
      ],
    },
  });
  await create(
    pod('cache', { app: 'cache' }, { affinity: affinity('db') }),
    pod('lonely', { app: 'lonely' }, { affinity: affinity('nobody') }),
  );
  assert.is(await nodeOf('cache'), 'kube-sim-worker2');
  assert.is(
    await failed('lonely'),
    "0/3 nodes are available: 3 node(s) didn't match pod affinity rules. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.",
  );
  // The first Pod of a group with affinity to itself may start anywhere.
  await create(pod('self', { app: 'self' }, { affinity: affinity('self') }));
  assert.ok(NODES.includes(await nodeOf('self')));
  await clean();
});

t('~> nodeSelector, node affinity, taints, tolerations and cordon', async () => {
  await ok(['taint', 'node', 'kube-sim-worker2', 'dedicated=db:NoSchedule']);
  await ok(['label', 'node', 'kube-sim-worker', 'disk=ssd']);
  await create(
    pod('ssd', { app: 'ssd' }, { nodeSelector: { disk: 'ssd' } }),
    pod(
      'tolerant',
      { app: 'tolerant' },
      {
        tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'db', effect: 'NoSchedule' }],
        affinity: {
          nodeAffinity: {
            requiredDuringSchedulingIgnoredDuringExecution: {
              nodeSelectorTerms: [
                { matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: ['kube-sim-worker2'] }] },
              ],
            },
          },
        },
      },
    ),
    pod('intolerant', { app: 'intolerant' }, { nodeSelector: { 'kubernetes.io/hostname': 'kube-sim-worker2' } }),
    pod('nvme', { app: 'nvme' }, { nodeSelector: { disk: 'nvme' } }),
  );
  assert.is(await nodeOf('ssd'), 'kube-sim-worker');
  assert.is(await nodeOf('tolerant'), 'kube-sim-worker2');
  assert.is(
    await failed('intolerant'),
    "0/3 nodes are available: 1 node(s) had untolerated taint {dedicated: db}, 2 node(s) didn't match Pod's node affinity/selector. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.",
  );
  assert.is(
    await failed('nvme'),
    "0/3 nodes are available: 1 node(s) had untolerated taint {dedicated: db}, 2 node(s) didn't match Pod's node affinity/selector. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.",
  );
  // A Node change is a cluster event: the waiting Pod is tried again.
  await ok(['label', 'node', 'kube-sim', 'disk=nvme']);
  assert.is(await nodeOf('nvme'), 'kube-sim');
  await ok(['cordon', 'kube-sim']);
  await create(pod('cordoned', { app: 'c' }, { nodeSelector: { disk: 'nvme' } }));
  assert.is(
    await failed('cordoned'),
    "0/3 nodes are available: 1 node(s) didn't match Pod's node affinity/selector, 1 node(s) had untolerated taint {dedicated: db}, 1 node(s) were unschedulable. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.",
  );
  await ok(['uncordon', 'kube-sim']);
  assert.is(await nodeOf('cordoned'), 'kube-sim');
  await ok(['taint', 'node', 'kube-sim-worker2', 'dedicated-']);
  await ok(['label', 'node', 'kube-sim-worker', 'disk-']);
  await ok(['label', 'node', 'kube-sim', 'disk-']);
  await clean();
});

t(
  '~> a ReadWriteOnce volume keeps its users on its node; a Pod forced elsewhere gets the volume node affinity conflict',
  async () => {
    const claim = JSON.stringify({
      apiVersion: 'v1',
      kind: 'PersistentVolumeClaim',
      metadata: { name: 'shared' },
      spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } },
    });
    const vol = { volumes: [{ name: 'd', persistentVolumeClaim: { claimName: 'shared' } }] };
    const mount = (p: string) => {
      const o = JSON.parse(p);
      o.spec.containers[0].volumeMounts = [{ name: 'd', mountPath: '/data' }];
      return JSON.stringify(o);
    };
    await ok(['create', '-f', '-'], claim);
    await create(
      mount(pod('first', { app: 'vol' }, { ...vol, nodeSelector: { 'kubernetes.io/hostname': 'kube-sim-worker' } })),
    );
    assert.is(await nodeOf('first'), 'kube-sim-worker');
    // Two more users, one of them with anti-affinity to the first: the volume wins over spreading.
    await create(
      mount(pod('second', { app: 'vol2' }, vol)),
      mount(pod('third', { app: 'vol3' }, { ...vol, nodeSelector: { 'kubernetes.io/hostname': 'kube-sim-worker2' } })),
    );
    assert.is(await nodeOf('second'), 'kube-sim-worker');
    assert.is(
      await failed('third'),
      "0/3 nodes are available: 1 node(s) had volume node affinity conflict, 2 node(s) didn't match Pod's node affinity/selector. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.",
    );
    await running('first');
    await running('second');
    await ok(['exec', 'first', '--', 'sh', '-c', 'echo shared > /data/f']);
    assert.is(await ok(['exec', 'second', '--', 'cat', '/data/f']), 'shared\n');
    await clean();
    await ok(['delete', 'pvc', 'shared']);
  },
);

t(
  '~> a claim that does not exist, and an unbound Immediate claim, keep the Pod Pending with the PreFilter message',
  async () => {
    await create(
      JSON.stringify({
        ...JSON.parse(pod('orphan', { app: 'o' })),
        spec: {
          ...JSON.parse(pod('orphan', {})).spec,
          volumes: [{ name: 'd', persistentVolumeClaim: { claimName: 'missing' } }],
        },
      }),
    );
    assert.is(
      await failed('orphan'),
      '0/3 nodes are available: persistentvolumeclaim "missing" not found. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.',
    );
    await ok(
      ['apply', '-f', '-'],
      JSON.stringify({
        apiVersion: 'storage.k8s.io/v1',
        kind: 'StorageClass',
        metadata: { name: 'elsewhere' },
        provisioner: 'example.com/nowhere',
        volumeBindingMode: 'Immediate',
      }),
    );
    await ok(
      ['apply', '-f', '-'],
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'PersistentVolumeClaim',
        metadata: { name: 'missing' },
        spec: {
          storageClassName: 'elsewhere',
          accessModes: ['ReadWriteOnce'],
          resources: { requests: { storage: '1Gi' } },
        },
      }),
    );
    assert.is(
      await until(
        async () => {
          const m = await failed('orphan');
          return m.includes('unbound') && m;
        },
        10_000,
        'the claim now exists, unbound',
      ),
      '0/3 nodes are available: pod has unbound immediate PersistentVolumeClaims. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.',
    );
    const ev = (
      await json(['get', 'events', '--field-selector', 'involvedObject.name=missing,reason=ExternalProvisioning'])
    ).items[0];
    assert.match(
      ev.message,
      /^Waiting for a volume to be created either by the external provisioner 'example\.com\/nowhere' or manually by the system administrator/,
    );
    await clean();
    await ok(['delete', 'pvc', 'missing']);
    await ok(['delete', 'sc', 'elsewhere']);
  },
);

test.run();
