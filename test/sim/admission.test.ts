/**
 * kube-sim admission through the store's one hook (src/sim/admission): PodSecurity from namespace
 * labels (enforce 403s, warn warnings, namespace label validation and tightening warnings),
 * ResourceQuota (counts, compute, storage; status.used kept current; "exceeded quota" and "must
 * specify" 403s), LimitRange (defaults, min/max), NamespaceLifecycle, and that namespaces without
 * labels, quotas or limit ranges admit what they always did.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { installAdmission, syncQuotas } from '../../src/sim/admission/index.js';
import { StatusError } from '../../src/sim/status.js';
import { Lifecycle } from '../../src/sim/store/lifecycle.js';
import { defOf } from '../../src/sim/store/resources.js';
import { Store } from '../../src/sim/store/store.js';
import { tick } from './client.js';

type Obj = Record<string, any>;
const NS = defOf({ group: '', resource: 'namespaces' });
const PODS = defOf({ group: '', resource: 'pods' });
const CM = defOf({ group: '', resource: 'configmaps' });
const SVC = defOf({ group: '', resource: 'services' });
const PVC = defOf({ group: '', resource: 'persistentvolumeclaims' });
const QUOTA = defOf({ group: '', resource: 'resourcequotas' });
const LR = defOf({ group: '', resource: 'limitranges' });

async function setup(namespaces: Record<string, Record<string, string>> = {}) {
  const store = new Store({ nodeName: 'n1' });
  const lc = new Lifecycle(store);
  installAdmission(store);
  store.create(NS, undefined, { metadata: { name: 'default' } });
  for (const [name, labels] of Object.entries(namespaces)) store.create(NS, undefined, { metadata: { name, labels } });
  await tick();
  return { store, lc };
}

function refused(fn: () => unknown, code: number): StatusError {
  try {
    fn();
  } catch (err) {
    assert.instance(err, StatusError);
    assert.is((err as StatusError).code, code, (err as Error).message);
    return err as StatusError;
  }
  assert.unreachable(`expected a ${code} refusal`);
  throw new Error('unreachable');
}

const pod = (name: string, spec: Obj = {}, meta: Obj = {}) => ({
  metadata: { name, ...meta },
  spec: { schedulerName: 'manual', containers: [{ name: 'main', image: 'busybox' }], ...spec },
});
const ENFORCE = (level: string) => ({ 'pod-security.kubernetes.io/enforce': level });
const COMPLIANT = {
  securityContext: { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } },
  containers: [
    {
      name: 'main',
      image: 'busybox',
      securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } },
    },
  ],
};

// ------------------------------------------------------------------ PodSecurity

test('PodSecurity restricted: a root pod is refused with the real message, a compliant one admitted', async () => {
  const { store } = await setup({ r: ENFORCE('restricted') });
  const err = refused(() => store.create(PODS, 'r', pod('root', { securityContext: { runAsUser: 0 } })), 403);
  assert.is(
    err.message,
    'pods "root" is forbidden: violates PodSecurity "restricted:latest": allowPrivilegeEscalation != false (container "main" must set securityContext.allowPrivilegeEscalation=false), unrestricted capabilities (container "main" must set securityContext.capabilities.drop=["ALL"]), runAsNonRoot != true (pod or container "main" must set securityContext.runAsNonRoot=true), runAsUser=0 (pod must not set runAsUser=0), seccompProfile (pod or container "main" must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost")',
  );
  assert.equal(JSON.parse(JSON.stringify(err.toStatus().details)), { name: 'root', kind: 'pods' });
  assert.is(err.reason, 'Forbidden');
  const ok = store.create(PODS, 'r', pod('fine', COMPLIANT));
  assert.is(ok.metadata.name, 'fine');
});

test('PodSecurity baseline: privileged, hostPath, hostNetwork and an added SYS_ADMIN are each refused', async () => {
  const { store } = await setup({ b: ENFORCE('baseline') });
  const cases: Array<[string, Obj, string]> = [
    [
      'priv',
      { containers: [{ name: 'main', image: 'busybox', securityContext: { privileged: true } }] },
      'privileged (container "main" must not set securityContext.privileged=true)',
    ],
    ['hp', { volumes: [{ name: 'root', hostPath: { path: '/' } }] }, 'hostPath volumes (volume "root")'],
    ['hn', { hostNetwork: true }, 'host namespaces (hostNetwork=true)'],
    [
      'cap',
      { containers: [{ name: 'main', image: 'busybox', securityContext: { capabilities: { add: ['SYS_ADMIN'] } } }] },
      'non-default capabilities (container "main" must not include "SYS_ADMIN" in securityContext.capabilities.add)',
    ],
  ];
  for (const [name, spec, detail] of cases) {
    const err = refused(() => store.create(PODS, 'b', pod(name, spec)), 403);
    assert.is(err.message, `pods "${name}" is forbidden: violates PodSecurity "baseline:latest": ${detail}`);
  }
  // Baseline admits a root pod with default capabilities (restricted would not).
  store.create(
    PODS,
    'b',
    pod('root', {
      securityContext: { runAsUser: 0 },
      containers: [{ name: 'main', image: 'busybox', securityContext: { capabilities: { add: ['CHOWN'] } } }],
    }),
  );
  assert.is(store.list(PODS, 'b').length, 1);
});

test('PodSecurity warn: admitted with the Warning text; enforce refuses before warn; a pinned version is named', async () => {
  const { store } = await setup({
    w: { 'pod-security.kubernetes.io/warn': 'restricted', 'pod-security.kubernetes.io/warn-version': 'v1.30' },
    e: { ...ENFORCE('baseline'), 'pod-security.kubernetes.io/warn': 'restricted' },
  });
  const warnings: string[] = [];
  store.create(PODS, 'w', pod('p', { hostPID: true }), { warnings });
  assert.equal(warnings, [
    'would violate PodSecurity "restricted:v1.30": host namespaces (hostPID=true), allowPrivilegeEscalation != false (container "main" must set securityContext.allowPrivilegeEscalation=false), unrestricted capabilities (container "main" must set securityContext.capabilities.drop=["ALL"]), runAsNonRoot != true (pod or container "main" must set securityContext.runAsNonRoot=true), seccompProfile (pod or container "main" must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost")',
  ]);
  const w2: string[] = [];
  refused(() => store.create(PODS, 'e', pod('p', { hostPID: true }), { warnings: w2 }), 403);
  assert.equal(w2, [], 'no warning for a refused pod');
  store.create(PODS, 'e', pod('q'), { warnings: w2 });
  assert.is(w2.length, 1);
  assert.match(w2[0]!, /^would violate PodSecurity "restricted:latest": allowPrivilegeEscalation != false/);
});

test('PodSecurity on updates: status writes and label/annotation changes pass; an image change is evaluated', async () => {
  const { store } = await setup({ b: {} });
  store.create(PODS, 'b', pod('p', { hostNetwork: true }));
  store.patch(NS, undefined, 'b', 'merge', { metadata: { labels: ENFORCE('baseline') } });
  store.update(
    PODS,
    'b',
    'p',
    { ...(store.get(PODS, 'b', 'p') as Obj), status: { phase: 'Running' } },
    { subresource: 'status' },
  );
  store.patch(PODS, 'b', 'p', 'merge', { metadata: { labels: { touched: 'yes' } } });
  const err = refused(
    () => store.patch(PODS, 'b', 'p', 'strategic', { spec: { containers: [{ name: 'main', image: 'busybox:1.36' }] } }),
    403,
  );
  assert.is(
    err.message,
    'pods "p" is forbidden: violates PodSecurity "baseline:latest": host namespaces (hostNetwork=true)',
  );
  assert.is((store.get(PODS, 'b', 'p') as Obj).spec.containers[0].image, 'busybox');
});

test('PodSecurity namespaces: a bad level or version is refused (422); tightening enforce warns about existing pods', async () => {
  const { store } = await setup();
  const err = refused(
    () =>
      store.create(NS, undefined, {
        metadata: { name: 'x', labels: { 'pod-security.kubernetes.io/enforce': 'strict' } },
      }),
    422,
  );
  assert.is(
    err.message,
    'Namespace "x" is invalid: metadata.labels[pod-security.kubernetes.io/enforce]: Invalid value: "strict": must be one of privileged, baseline, restricted',
  );
  const err2 = refused(
    () =>
      store.create(NS, undefined, {
        metadata: {
          name: 'x',
          labels: { 'pod-security.kubernetes.io/warn-version': '1.30', 'pod-security.kubernetes.io/audit': 'none' },
        },
      }),
    422,
  );
  assert.is(
    err2.message,
    'Namespace "x" is invalid: [metadata.labels[pod-security.kubernetes.io/audit]: Invalid value: "none": must be one of privileged, baseline, restricted, metadata.labels[pod-security.kubernetes.io/warn-version]: Invalid value: "1.30": must be "latest" or "v1.x"]',
  );
  store.create(NS, undefined, { metadata: { name: 'n' } });
  await tick(); // the default ServiceAccount
  store.create(PODS, 'n', pod('a', { hostNetwork: true }));
  store.create(PODS, 'n', pod('b', { hostNetwork: true }));
  store.create(
    PODS,
    'n',
    pod('c', { containers: [{ name: 'main', image: 'busybox', securityContext: { privileged: true } }] }),
  );
  const warnings: string[] = [];
  store.patch(NS, undefined, 'n', 'merge', { metadata: { labels: ENFORCE('baseline') } }, { warnings });
  assert.equal(warnings, [
    'existing pods in namespace "n" violate the new PodSecurity enforce level "baseline:latest"',
    'a (and 1 other pod): host namespaces',
    'c: privileged',
  ]);
  // Loosening warns about nothing.
  const w2: string[] = [];
  store.patch(NS, undefined, 'n', 'merge', { metadata: { labels: ENFORCE('privileged') } }, { warnings: w2 });
  assert.equal(w2, []);
});

// ------------------------------------------------------------------ ResourceQuota

test('ResourceQuota pods=2: the third pod is refused with the real message; status.used follows creates and deletes', async () => {
  const { store, lc } = await setup({ q: {} });
  store.create(QUOTA, 'q', { metadata: { name: 'two-pods' }, spec: { hard: { pods: '2' } } });
  assert.equal((store.get(QUOTA, 'q', 'two-pods') as Obj).status, { hard: { pods: '2' }, used: { pods: '0' } });
  store.create(PODS, 'q', pod('p1'));
  store.create(PODS, 'q', pod('p2'));
  assert.equal((store.get(QUOTA, 'q', 'two-pods') as Obj).status.used, { pods: '2' });
  const err = refused(() => store.create(PODS, 'q', pod('p3')), 403);
  assert.is(
    err.message,
    'pods "p3" is forbidden: exceeded quota: two-pods, requested: pods=1, used: pods=2, limited: pods=2',
  );
  // A dry run is admitted or refused the same way, and charges nothing.
  refused(() => store.create(PODS, 'q', pod('p3'), { dryRun: true }), 403);
  lc.delete(PODS, 'q', 'p1', { gracePeriodSeconds: 0 });
  assert.equal((store.get(QUOTA, 'q', 'two-pods') as Obj).status.used, { pods: '1' });
  store.create(PODS, 'q', pod('p3'));
  // A finished pod no longer counts against `pods`.
  store.mutate(PODS, 'q', 'p2', (p: Obj) => {
    p.status.phase = 'Succeeded';
  });
  assert.equal((store.get(QUOTA, 'q', 'two-pods') as Obj).status.used, { pods: '1' });
});

test('ResourceQuota controller: usage kept write by write equals a full recount', async () => {
  const { store, lc } = await setup({ m: {} });
  store.create(QUOTA, 'm', {
    metadata: { name: 'all' },
    spec: {
      hard: {
        pods: '100',
        'count/pods': '100',
        'requests.cpu': '100',
        'limits.memory': '100Gi',
        configmaps: '100',
        services: '100',
        'services.nodeports': '100',
      },
    },
  });
  let seed = 7;
  const rnd = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), (seed >>> 8) % n);
  for (let i = 0; i < 200; i++) {
    const name = `o${rnd(20)}`;
    const op = rnd(5);
    try {
      if (op === 0)
        store.create(
          PODS,
          'm',
          pod(name, {
            containers: [
              {
                name: 'main',
                image: 'busybox',
                resources: { requests: { cpu: `${1 + rnd(500)}m` }, limits: { memory: `${1 + rnd(300)}Mi` } },
              },
            ],
          }),
        );
      else if (op === 1) lc.delete(PODS, 'm', name, { gracePeriodSeconds: 0 });
      else if (op === 2)
        store.mutate(PODS, 'm', name, (p: Obj) => void (p.status.phase = ['Running', 'Succeeded', 'Failed'][rnd(3)]));
      else if (op === 3) store.create(CM, 'm', { metadata: { name } });
      else
        store.create(SVC, 'm', {
          metadata: { name: `s${name}` },
          spec: { type: rnd(2) ? 'NodePort' : 'ClusterIP', ports: [{ port: 80 }, { port: 81 }] },
        });
    } catch (err) {
      if (!(err instanceof StatusError) || ![404, 409].includes(err.code)) throw err;
    }
  }
  const incremental = (store.get(QUOTA, 'm', 'all') as Obj).status.used;
  store.mutate(QUOTA, 'm', 'all', (q: Obj) => void delete q.status);
  syncQuotas(store, 'm');
  assert.equal(incremental, (store.get(QUOTA, 'm', 'all') as Obj).status.used);
  assert.ok(Number(incremental['count/pods']) > 0, 'the run created pods');
});

test('ResourceQuota compute: pods without requests are refused, requests and limits are summed and limited', async () => {
  const { store } = await setup({ c: {} });
  store.create(QUOTA, 'c', {
    metadata: { name: 'compute' },
    spec: { hard: { 'requests.cpu': '1000m', 'limits.memory': '1Gi' } },
  });
  assert.equal(
    (store.get(QUOTA, 'c', 'compute') as Obj).spec.hard,
    { 'requests.cpu': '1', 'limits.memory': '1Gi' },
    'quantities stored canonical',
  );
  const bare = refused(
    () => store.create(PODS, 'c', pod('bare', { initContainers: [{ name: 'init', image: 'busybox' }] })),
    403,
  );
  assert.is(
    bare.message,
    'pods "bare" is forbidden: failed quota: compute: must specify limits.memory for: init,main; requests.cpu for: init,main',
  );
  const res = (cpu: string, mem: string) => ({
    containers: [{ name: 'main', image: 'busybox', resources: { requests: { cpu }, limits: { memory: mem } } }],
  });
  store.create(PODS, 'c', pod('a', res('600m', '512Mi')));
  assert.equal((store.get(QUOTA, 'c', 'compute') as Obj).status.used, {
    'requests.cpu': '600m',
    'limits.memory': '512Mi',
  });
  const err = refused(() => store.create(PODS, 'c', pod('b', res('500m', '256Mi'))), 403);
  assert.is(
    err.message,
    'pods "b" is forbidden: exceeded quota: compute, requested: requests.cpu=500m, used: requests.cpu=600m, limited: requests.cpu=1',
  );
  // A limit alone is also the request (pod defaulting), so it satisfies requests.cpu.
  store.create(
    PODS,
    'c',
    pod('d', {
      containers: [{ name: 'main', image: 'busybox', resources: { limits: { cpu: '400m', memory: '512Mi' } } }],
    }),
  );
  assert.equal((store.get(QUOTA, 'c', 'compute') as Obj).status.used, { 'requests.cpu': '1', 'limits.memory': '1Gi' });
  const both = refused(() => store.create(PODS, 'c', pod('e', res('1', '1Mi'))), 403);
  assert.is(
    both.message,
    'pods "e" is forbidden: exceeded quota: compute, requested: limits.memory=1Mi,requests.cpu=1, used: limits.memory=1Gi,requests.cpu=1, limited: limits.memory=1Gi,requests.cpu=1',
  );
});

test('ResourceQuota object counts and storage: configmaps, services, persistentvolumeclaims, requests.storage, count/secrets', async () => {
  const { store } = await setup({ o: {} });
  store.create(QUOTA, 'o', {
    metadata: { name: 'objects' },
    spec: {
      hard: {
        configmaps: '2',
        services: '1',
        persistentvolumeclaims: '2',
        'requests.storage': '3Gi',
        'count/secrets': '1',
      },
    },
  });
  // kube-root-ca.crt is a ConfigMap of the namespace and counts, as on a real cluster.
  assert.is((store.get(QUOTA, 'o', 'objects') as Obj).status.used.configmaps, '1');
  store.create(CM, 'o', { metadata: { name: 'one' } });
  assert.is(
    refused(() => store.create(CM, 'o', { metadata: { name: 'two' } }), 403).message,
    'configmaps "two" is forbidden: exceeded quota: objects, requested: configmaps=1, used: configmaps=2, limited: configmaps=2',
  );
  store.create(SVC, 'o', { metadata: { name: 's1' }, spec: { ports: [{ port: 80 }] } });
  assert.is(
    refused(() => store.create(SVC, 'o', { metadata: { name: 's2' }, spec: { ports: [{ port: 80 }] } }), 403).message,
    'services "s2" is forbidden: exceeded quota: objects, requested: services=1, used: services=1, limited: services=1',
  );
  const claim = (name: string, size: string) => ({
    metadata: { name },
    spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: size } } },
  });
  store.create(PVC, 'o', claim('c1', '2Gi'));
  assert.is(
    refused(() => store.create(PVC, 'o', claim('c2', '2Gi')), 403).message,
    'persistentvolumeclaims "c2" is forbidden: exceeded quota: objects, requested: requests.storage=2Gi, used: requests.storage=2Gi, limited: requests.storage=3Gi',
  );
  store.create(PVC, 'o', claim('c2', '1Gi'));
  const used = (store.get(QUOTA, 'o', 'objects') as Obj).status.used;
  assert.equal(used, {
    configmaps: '2',
    services: '1',
    persistentvolumeclaims: '2',
    'requests.storage': '3Gi',
    'count/secrets': '0',
  });
});

test('ResourceQuota validation: unknown resource names, negative amounts, bad scopes (422)', async () => {
  const { store } = await setup({ v: {} });
  const q = (spec: Obj) => () => store.create(QUOTA, 'v', { metadata: { name: 'bad' }, spec });
  assert.is(
    refused(q({ hard: { 'limit.cpu': '1' } }), 422).message,
    'ResourceQuota "bad" is invalid: [spec.hard[limit.cpu]: Invalid value: "limit.cpu": must be a standard resource type or fully qualified, spec.hard[limit.cpu]: Invalid value: "limit.cpu": must be a standard resource for quota]',
  );
  assert.is(
    refused(q({ hard: { pods: '-1' } }), 422).message,
    'ResourceQuota "bad" is invalid: spec.hard[pods]: Invalid value: "-1": must be greater than or equal to 0',
  );
  assert.is(
    refused(q({ hard: { 'requests.cpu': '1' }, scopes: ['BestEffort'] }), 422).message,
    'ResourceQuota "bad" is invalid: spec.scopes: Invalid value: []core.ResourceQuotaScope{"BestEffort"}: unsupported scope applied to resource',
  );
  assert.is(
    refused(q({ hard: { pods: '1' }, scopes: ['Terminating', 'NotTerminating'] }), 422).message,
    'ResourceQuota "bad" is invalid: spec.scopes: Invalid value: []core.ResourceQuotaScope{"Terminating", "NotTerminating"}: conflicting scopes',
  );
  store.create(QUOTA, 'v', {
    metadata: { name: 'good' },
    spec: { hard: { 'count/deployments.apps': '2', 'requests.nvidia.com/gpu': '1', 'hugepages-2Mi': '1Gi' } },
  });
});

test('ResourceQuota scopes: a BestEffort quota counts only best-effort pods', async () => {
  const { store } = await setup({ s: {} });
  store.create(QUOTA, 's', { metadata: { name: 'be' }, spec: { hard: { pods: '1' }, scopes: ['BestEffort'] } });
  store.create(PODS, 's', pod('be1'));
  store.create(
    PODS,
    's',
    pod('burst', { containers: [{ name: 'main', image: 'busybox', resources: { requests: { cpu: '100m' } } }] }),
  );
  assert.is(
    refused(() => store.create(PODS, 's', pod('be2')), 403).message,
    'pods "be2" is forbidden: exceeded quota: be, requested: pods=1, used: pods=1, limited: pods=1',
  );
});

// ------------------------------------------------------------------ LimitRange

test('LimitRange: defaults fill containers (annotated, QoS follows); min/max refuse with the real messages', async () => {
  const { store } = await setup({ l: {} });
  const lr = store.create(LR, 'l', {
    metadata: { name: 'limits' },
    spec: {
      limits: [
        {
          type: 'Container',
          default: { cpu: '500m', memory: '256Mi' },
          defaultRequest: { cpu: '0.1' },
          max: { cpu: '1' },
          min: { memory: '64Mi' },
        },
      ],
    },
  }) as Obj;
  assert.equal(
    lr.spec.limits[0].defaultRequest,
    { cpu: '100m', memory: '256Mi' },
    'defaultRequest defaults from default, canonical',
  );
  const p = store.create(PODS, 'l', pod('d')) as Obj;
  assert.equal(p.spec.containers[0].resources, {
    limits: { cpu: '500m', memory: '256Mi' },
    requests: { cpu: '100m', memory: '256Mi' },
  });
  assert.is(
    p.metadata.annotations['kubernetes.io/limit-ranger'],
    'LimitRanger plugin set: cpu, memory request for container main; cpu, memory limit for container main',
  );
  assert.is(p.status.qosClass, 'Burstable');
  const big = refused(
    () =>
      store.create(
        PODS,
        'l',
        pod('big', { containers: [{ name: 'main', image: 'busybox', resources: { limits: { cpu: '2' } } }] }),
      ),
    403,
  );
  assert.is(big.message, 'pods "big" is forbidden: maximum cpu usage per Container is 1, but limit is 2');
  const both = refused(
    () =>
      store.create(
        PODS,
        'l',
        pod('two', {
          containers: [{ name: 'main', image: 'busybox', resources: { limits: { cpu: '2', memory: '32Mi' } } }],
        }),
      ),
    403,
  );
  assert.is(
    both.message,
    'pods "two" is forbidden: [minimum memory usage per Container is 64Mi, but request is 32Mi, maximum cpu usage per Container is 1, but limit is 2]',
  );
});

test('LimitRange Pod and PersistentVolumeClaim limits', async () => {
  const { store } = await setup({ l: {} });
  store.create(LR, 'l', {
    metadata: { name: 'pod' },
    spec: {
      limits: [
        { type: 'Pod', max: { memory: '1Gi' } },
        { type: 'PersistentVolumeClaim', min: { storage: '1Gi' }, max: { storage: '5Gi' } },
      ],
    },
  });
  const two = (mem: string) => ({
    containers: ['a', 'b'].map((name) => ({ name, image: 'busybox', resources: { limits: { memory: mem } } })),
  });
  store.create(PODS, 'l', pod('ok', two('512Mi')));
  assert.is(
    refused(() => store.create(PODS, 'l', pod('no', two('600Mi'))), 403).message,
    'pods "no" is forbidden: maximum memory usage per Pod is 1Gi, but limit is 1200Mi',
  );
  const claim = (name: string, size: string) => ({
    metadata: { name },
    spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: size } } },
  });
  assert.is(
    refused(() => store.create(PVC, 'l', claim('small', '500Mi')), 403).message,
    'persistentvolumeclaims "small" is forbidden: minimum storage usage per PersistentVolumeClaim is 1Gi, but request is 500Mi',
  );
  assert.is(
    refused(() => store.create(PVC, 'l', claim('large', '10Gi')), 403).message,
    'persistentvolumeclaims "large" is forbidden: maximum storage usage per PersistentVolumeClaim is 5Gi, but request is 10Gi',
  );
  store.create(PVC, 'l', claim('right', '2Gi'));
});

// ------------------------------------------------------------------ NamespaceLifecycle, defaults

test('NamespaceLifecycle: a terminating namespace refuses new objects (with and without a name)', async () => {
  const { store, lc } = await setup({ t: {} });
  store.create(CM, 't', { metadata: { name: 'held', finalizers: ['example.com/hold'] } });
  lc.delete(NS, undefined, 't', {});
  await tick();
  assert.is((store.get(NS, undefined, 't') as Obj).status.phase, 'Terminating');
  assert.is(
    refused(() => store.create(CM, 't', { metadata: { name: 'new' } }), 403).message,
    'configmaps "new" is forbidden: unable to create new content in namespace t because it is being terminated',
  );
  assert.is(
    refused(() => store.create(PODS, 't', { metadata: { generateName: 'p-' }, spec: pod('x').spec }), 403).message,
    'pods is forbidden: unable to create new content in namespace t because it is being terminated',
  );
});

test('quantities must parse (400 as the decoder answers)', async () => {
  const { store } = await setup({ d: {} });
  const re = "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'";
  assert.is(
    refused(() => store.create(QUOTA, 'd', { metadata: { name: 'q' }, spec: { hard: { pods: 'many' } } }), 400).message,
    `ResourceQuota in version "v1" cannot be handled as a ResourceQuota: ${re}`,
  );
  assert.is(
    refused(
      () =>
        store.create(
          PODS,
          'd',
          pod('p', { containers: [{ name: 'main', image: 'busybox', resources: { limits: { memory: '1x' } } }] }),
        ),
      400,
    ).message,
    'Pod in version "v1" cannot be handled as a Pod: unable to parse quantity\'s suffix',
  );
});

test('defaults unchanged: no labels, quotas or limit ranges -> privileged, hostPath, root pods admitted without warnings', async () => {
  const { store } = await setup();
  const warnings: string[] = [];
  const p = store.create(
    PODS,
    'default',
    pod('anything', {
      hostNetwork: true,
      volumes: [{ name: 'h', hostPath: { path: '/' } }],
      containers: [{ name: 'main', image: 'busybox', securityContext: { privileged: true, runAsUser: 0 } }],
    }),
    { warnings },
  ) as Obj;
  assert.equal(warnings, []);
  assert.is(p.metadata.annotations, undefined);
  assert.equal(p.spec.containers[0].resources, {});
});

test.run();
