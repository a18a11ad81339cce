/**
 * kube-sim's storage with real kubectl (1.33 and 1.27) on a 3-node simulator: the default class and
 * its admission, dynamic provisioning with WaitForFirstConsumer, binding, the `get pvc,pv,sc` tables,
 * Pods that mount claims (data survives the Pod, readOnly is honoured), ReadWriteOncePod, in-use
 * protection and reclaim policies, static volumes and validation.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { KUBECTL, kubectl, startSim, type SimHandle } from '../../helpers/sim.js';
import { until } from '../client.js';

let sim: SimHandle;
let cache: string;
const k = (args: string[], version = '1.33', stdin?: string) =>
  kubectl(version, args, { kubeconfig: sim.kubeconfigPath, cacheDir: join(cache, version), stdin });
const ok = async (args: string[], version = '1.33', stdin?: string) => {
  const r = await k(args, version, stdin);
  assert.is(r.code, 0, `kubectl ${version} ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
};
const json = async (args: string[]) => JSON.parse(await ok([...args, '-o', 'json']));
const apply = (yaml: string) => ok(['apply', '-f', '-'], '1.33', yaml);
const phaseOf = async (kind: string, name: string) => (await json(['get', kind, name])).status?.phase;
const events = async (name: string) =>
  (await json(['get', 'events', '--field-selector', `involvedObject.name=${name}`])).items as any[];

const claim = (name: string, opts: { mode?: string; cls?: string | null; size?: string } = {}) => `apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: ${name}}
spec:
  accessModes: [${opts.mode ?? 'ReadWriteOnce'}]
  resources: {requests: {storage: ${opts.size ?? '1Gi'}}}
${opts.cls === undefined ? '' : `  storageClassName: ${JSON.stringify(opts.cls ?? '')}`}
`;
const pod = (name: string, claimName: string, script: string, opts: { readOnly?: boolean } = {}) => `apiVersion: v1
kind: Pod
metadata: {name: ${name}}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: c
    image: busybox
    command: ["sh", "-c", ${JSON.stringify(script)}]
    volumeMounts: [{name: d, mountPath: /data}]
  volumes:
  - name: d
    persistentVolumeClaim: {claimName: ${claimName}${opts.readOnly ? ', readOnly: true' : ''}}
`;
const running = (name: string) =>
  until(async () => (await phaseOf('pod', name)) === 'Running', 30_000, `pod ${name} Running`);
const gone = (kind: string, name: string) =>
  until(async () => (await k(['get', kind, name])).code !== 0, 30_000, `${kind} ${name} gone`);

const have = existsSync(KUBECTL('1.33')) && existsSync(KUBECTL('1.27'));
test.before(async () => {
  if (!have) return;
  sim = await startSim({ nodes: 3, kubelet: { backoffInitialMs: 500, backoffMaxMs: 2000 } });
  cache = mkdtempSync(join(tmpdir(), 'kubectl-storage-'));
});
test.after(async () => {
  if (!have) return;
  await sim.stop();
  rmSync(cache, { recursive: true, force: true });
});
if (!have) console.log('SKIP storage kubectl tests: kubectl 1.33 or 1.27 is not installed');
const t = have ? test : test.skip;

t('~> the default StorageClass, and DefaultStorageClass admission of a claim without a class', async () => {
  const sc = await ok(['get', 'sc']);
  assert.match(sc, /^NAME\s+PROVISIONER\s+RECLAIMPOLICY\s+VOLUMEBINDINGMODE\s+ALLOWVOLUMEEXPANSION\s+AGE$/m);
  assert.match(sc, /^standard \(default\)\s+kube-sim\.io\/local-path\s+Delete\s+WaitForFirstConsumer\s+false\s+\d+s$/m);
  await apply(claim('plain'));
  const c = await json(['get', 'pvc', 'plain']);
  assert.is(c.spec.storageClassName, 'standard', 'the admission plugin set the default class');
  assert.is(c.spec.volumeMode, 'Filesystem');
  assert.equal(c.metadata.finalizers, ['kubernetes.io/pvc-protection']);
  assert.is(c.status.phase, 'Pending');
  await until(
    async () =>
      (await events('plain')).some(
        (e) =>
          e.reason === 'WaitForFirstConsumer' &&
          e.message === 'waiting for first consumer to be created before binding',
      ),
    5000,
    'WaitForFirstConsumer event',
  );
  assert.is(await phaseOf('pvc', 'plain'), 'Pending', 'no volume before a Pod uses it');
  await apply(claim('noclass', { cls: null }));
  const n = await json(['get', 'pvc', 'noclass']);
  assert.is(n.spec.storageClassName, '', 'an explicit "" keeps the claim out of any class');
  await until(
    async () =>
      (await events('noclass')).some(
        (e) =>
          e.reason === 'FailedBinding' &&
          e.message === 'no persistent volumes available for this claim and no storage class is set',
      ),
    5000,
    'FailedBinding event',
  );
  await ok(['delete', 'pvc', 'plain', 'noclass']);
});

t(
  '~> WaitForFirstConsumer: the first Pod is scheduled, the volume is provisioned on its node and bound; get pvc,pv tables (1.33, 1.27)',
  async () => {
    await apply(claim('data') + '---\n' + pod('writer', 'data', 'echo hello > /data/f; sleep 1000'));
    await running('writer');
    const p = await json(['get', 'pod', 'writer']);
    const c = await json(['get', 'pvc', 'data']);
    assert.is(c.status.phase, 'Bound');
    assert.is(c.metadata.annotations['volume.kubernetes.io/selected-node'], p.spec.nodeName);
    assert.is(c.metadata.annotations['pv.kubernetes.io/bind-completed'], 'yes');
    assert.is(c.spec.volumeName, `pvc-${c.metadata.uid}`);
    assert.equal(c.status.accessModes, ['ReadWriteOnce']);
    assert.equal(c.status.capacity, { storage: '1Gi' });
    const v = await json(['get', 'pv', c.spec.volumeName]);
    assert.is(v.status.phase, 'Bound');
    assert.is(v.spec.claimRef.name, 'data');
    assert.is(v.spec.claimRef.uid, c.metadata.uid);
    assert.is(v.spec.persistentVolumeReclaimPolicy, 'Delete');
    assert.equal(v.spec.nodeAffinity.required.nodeSelectorTerms[0].matchExpressions[0], {
      key: 'kubernetes.io/hostname',
      operator: 'In',
      values: [p.spec.nodeName],
    });
    assert.ok(v.spec.hostPath.path.startsWith(sim.stateDir), 'a directory under the state dir');
    await until(() => existsSync(join(v.spec.hostPath.path, 'f')), 10_000, 'the file the Pod wrote');
    assert.is(readFileSync(join(v.spec.hostPath.path, 'f'), 'utf8'), 'hello\n');
    const reasons = (await events('data')).map((e) => e.reason);
    for (const r of ['WaitForFirstConsumer', 'Provisioning', 'ProvisioningSucceeded'])
      assert.ok(reasons.includes(r), `${r} in ${reasons}`);
    for (const version of ['1.33', '1.27']) {
      const out = await ok(['get', 'pvc,pv'], version);
      assert.match(
        out,
        /^NAME\s+STATUS\s+VOLUME\s+CAPACITY\s+ACCESS MODES\s+STORAGECLASS\s+VOLUMEATTRIBUTESCLASS\s+AGE$/m,
        version,
      );
      assert.match(
        out,
        new RegExp(
          `^persistentvolumeclaim/data\\s+Bound\\s+${v.metadata.name}\\s+1Gi\\s+RWO\\s+standard\\s+<unset>\\s+\\d+s$`,
          'm',
        ),
        version,
      );
      assert.match(
        out,
        /^NAME\s+CAPACITY\s+ACCESS MODES\s+RECLAIM POLICY\s+STATUS\s+CLAIM\s+STORAGECLASS\s+VOLUMEATTRIBUTESCLASS\s+REASON\s+AGE$/m,
        version,
      );
      assert.match(
        out,
        new RegExp(
          `^persistentvolume/${v.metadata.name}\\s+1Gi\\s+RWO\\s+Delete\\s+Bound\\s+default/data\\s+standard\\s+<unset>\\s+\\d+s$`,
          'm',
        ),
        version,
      );
    }
    const wide = await ok(['get', 'pvc', 'data', '-o', 'wide']);
    assert.match(wide, /VOLUMEMODE/);
    assert.match(wide, /Filesystem$/m);
  },
);

t(
  "~> data survives Pod deletion; the next Pod goes to the volume's node and reads it; readOnly is honoured",
  async () => {
    const node = (await json(['get', 'pod', 'writer'])).spec.nodeName;
    await ok(['delete', 'pod', 'writer', '--grace-period=1']);
    await gone('pod', 'writer');
    await apply(
      pod(
        'reader',
        'data',
        'cat /data/f; if echo x 2>/dev/null > /data/g; then echo writable; else echo read-only; fi; sleep 1000',
        { readOnly: true },
      ),
    );
    await running('reader');
    assert.is(
      (await json(['get', 'pod', 'reader'])).spec.nodeName,
      node,
      "the volume's node affinity keeps its users on its node",
    );
    await until(async () => (await ok(['logs', 'reader'])).includes('read-only'), 10_000, 'reader output');
    assert.is(await ok(['logs', 'reader']), 'hello\nread-only\n');
    await ok(['delete', 'pod', 'reader', '--grace-period=1']);
    await gone('pod', 'reader');
  },
);

t(
  '~> in-use protection and reclaimPolicy Delete: a claim deleted while a Pod uses it is Terminating; when the Pod goes, claim, volume and directory go',
  async () => {
    await apply(pod('holder', 'data', 'sleep 1000'));
    await running('holder');
    const c = await json(['get', 'pvc', 'data']);
    const v = await json(['get', 'pv', c.spec.volumeName]);
    assert.equal(v.metadata.finalizers, ['kubernetes.io/pv-protection']);
    await ok(['delete', 'pvc', 'data', '--wait=false']);
    await new Promise((r) => setTimeout(r, 500));
    assert.match(await ok(['get', 'pvc', 'data']), /^data\s+Terminating\s+/m);
    assert.ok(existsSync(v.spec.hostPath.path));
    await ok(['delete', 'pod', 'holder', '--grace-period=1']);
    await gone('pvc', 'data');
    await gone('pv', v.metadata.name);
    await until(() => !existsSync(v.spec.hostPath.path), 10_000, 'directory removed');
  },
);

t(
  '~> ReadWriteOncePod: a second Pod stays Pending with the real FailedScheduling event, and runs when the first is gone',
  async () => {
    await apply(
      claim('solo', { mode: 'ReadWriteOncePod' }) + '---\n' + pod('first', 'solo', 'echo one > /data/f; sleep 1000'),
    );
    await running('first');
    await apply(pod('second', 'solo', 'cat /data/f; sleep 1000'));
    const msg =
      '0/3 nodes are available: 3 node has pod using PersistentVolumeClaim with the same name and ReadWriteOncePod access mode. preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod.';
    const ev = await until(
      async () => (await events('second')).find((e) => e.reason === 'FailedScheduling'),
      10_000,
      'FailedScheduling',
    );
    assert.is(ev.type, 'Warning');
    assert.is(ev.message, msg);
    assert.is(ev.source.component, 'default-scheduler');
    const p = await json(['get', 'pod', 'second']);
    assert.is(p.status.phase, 'Pending');
    assert.equal(
      p.status.conditions.find((c: any) => c.type === 'PodScheduled'),
      {
        type: 'PodScheduled',
        status: 'False',
        lastProbeTime: null,
        lastTransitionTime: p.status.conditions.find((c: any) => c.type === 'PodScheduled').lastTransitionTime,
        reason: 'Unschedulable',
        message: msg,
      },
    );
    assert.match(
      await ok(['describe', 'pod', 'second']),
      /Warning\s+FailedScheduling\s+\S+\s+default-scheduler\s+0\/3 nodes are available: 3 node has pod using PersistentVolumeClaim/,
    );
    await ok(['delete', 'pod', 'first', '--grace-period=1']);
    await running('second');
    await until(async () => (await ok(['logs', 'second'])) === 'one\n', 10_000, 'second reads the data');
    assert.match(await ok(['get', 'pvc', 'solo']), /^solo\s+Bound\s+\S+\s+1Gi\s+RWOP\s+standard/m);
    await ok(['delete', 'pod', 'second', '--grace-period=1']);
    await ok(['delete', 'pvc', 'solo']);
  },
);

t(
  '~> an Immediate class binds at once; a Retain class keeps the volume and its data (Released) after the claim goes',
  async () => {
    await apply(`apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata: {name: keep}
provisioner: kube-sim.io/local-path
reclaimPolicy: Retain
volumeBindingMode: Immediate
`);
    assert.match(
      await ok(['get', 'sc', 'keep']),
      /^keep\s+kube-sim\.io\/local-path\s+Retain\s+Immediate\s+false\s+\d+s$/m,
    );
    await apply(claim('kept', { cls: 'keep', size: '50Mi' }));
    await until(async () => (await phaseOf('pvc', 'kept')) === 'Bound', 5000, 'bound without a Pod');
    const c = await json(['get', 'pvc', 'kept']);
    const v = await json(['get', 'pv', c.spec.volumeName]);
    assert.is(v.spec.nodeAffinity, undefined, 'not tied to a node');
    assert.is(v.spec.persistentVolumeReclaimPolicy, 'Retain');
    await apply(pod('keeper', 'kept', 'echo kept > /data/f; sleep 1000'));
    await running('keeper');
    await until(() => existsSync(join(v.spec.hostPath.path, 'f')), 10_000, 'file written');
    await ok(['delete', 'pod', 'keeper', '--grace-period=1']);
    await ok(['delete', 'pvc', 'kept']);
    await until(async () => (await phaseOf('pv', v.metadata.name)) === 'Released', 10_000, 'Released');
    assert.match(
      await ok(['get', 'pv', v.metadata.name]),
      new RegExp(`^${v.metadata.name}\\s+50Mi\\s+RWO\\s+Retain\\s+Released\\s+default/kept\\s+keep`, 'm'),
    );
    assert.is(readFileSync(join(v.spec.hostPath.path, 'f'), 'utf8'), 'kept\n');
    await ok(['delete', 'pv', v.metadata.name]);
    await gone('pv', v.metadata.name);
    await ok(['delete', 'sc', 'keep']);
  },
);

t(
  '~> an Immediate class volume is not tied to a node: a ReadWriteOnce claim in use on one node gets Multi-Attach on another; pod affinity to its user shares it',
  async () => {
    await apply(`apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata: {name: block}
provisioner: kube-sim.io/local-path
volumeBindingMode: Immediate
`);
    await apply(claim('disk', { cls: 'block' }));
    await until(async () => (await phaseOf('pvc', 'disk')) === 'Bound', 5000, 'bound');
    const pinned = (name: string, node: string, extra = '') =>
      pod(name, 'disk', 'echo $HOSTNAME >> /data/log; sleep 1000')
        .replace('spec:\n', `spec:\n  nodeSelector: {kubernetes.io/hostname: ${node}}\n${extra}`)
        .replace('metadata: {name: ' + name + '}', `metadata: {name: ${name}, labels: {app: ${name}}}`);
    await apply(pinned('disk-a', 'kube-sim-worker'));
    await running('disk-a');
    await apply(pinned('disk-b', 'kube-sim-worker2'));
    const ev = await until(
      async () => (await events('disk-b')).find((e) => e.reason === 'FailedAttachVolume'),
      15_000,
      'FailedAttachVolume',
    );
    const c = await json(['get', 'pvc', 'disk']);
    assert.is(
      ev.message,
      `Multi-Attach error for volume "${c.spec.volumeName}" Volume is already used by pod(s) disk-a`,
    );
    assert.is(await phaseOf('pod', 'disk-b'), 'Pending');
    // What kuber-api does for containers that share a volume: affinity to the volume's first user.
    await apply(
      pod('disk-c', 'disk', 'echo c >> /data/log; sleep 1000').replace(
        'spec:\n',
        'spec:\n  affinity: {podAffinity: {requiredDuringSchedulingIgnoredDuringExecution: [{labelSelector: {matchLabels: {app: disk-a}}, topologyKey: kubernetes.io/hostname}]}}\n',
      ),
    );
    await running('disk-c');
    assert.is((await json(['get', 'pod', 'disk-c'])).spec.nodeName, 'kube-sim-worker');
    await ok(['delete', 'pod', 'disk-a', 'disk-c', '--grace-period=1']);
    await until(
      async () => (await phaseOf('pod', 'disk-b')) === 'Running',
      60_000,
      'disk-b attaches once the others are gone',
    );
    await ok(['delete', 'pod', 'disk-b', '--grace-period=1']);
    await ok(['delete', 'pvc', 'disk']);
    await ok(['delete', 'sc', 'block']);
  },
);

t('~> a static PersistentVolume binds a claim without class; the smallest fitting volume is chosen', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'kube-sim-static-'));
  const pv = (name: string, size: string) => `apiVersion: v1
kind: PersistentVolume
metadata: {name: ${name}, labels: {tier: static}}
spec:
  capacity: {storage: ${size}}
  accessModes: [ReadWriteOnce, ReadOnlyMany]
  storageClassName: ""
  hostPath: {path: ${join(dir, name)}, type: DirectoryOrCreate}
`;
  await apply(pv('big', '5Gi') + '---\n' + pv('small', '2Gi'));
  await until(async () => (await phaseOf('pv', 'small')) === 'Available', 5000, 'Available');
  assert.match(
    await ok(['get', 'pv', 'small']),
    /^small\s+2Gi\s+RWO,ROX\s+Retain\s+Available\s+\s+<unset>\s+\s+\d+s$/m,
  );
  await apply(claim('static', { cls: null, size: '1Gi' }));
  await until(async () => (await phaseOf('pvc', 'static')) === 'Bound', 5000, 'bound to a static volume');
  assert.is((await json(['get', 'pvc', 'static'])).spec.volumeName, 'small');
  assert.is(await phaseOf('pv', 'big'), 'Available');
  await ok(['delete', 'pvc', 'static']);
  await until(
    async () => (await phaseOf('pv', 'small')) === 'Released',
    5000,
    'Released (Retain: the default of a static volume)',
  );
  await ok(['delete', 'pv', 'small', 'big']);
  rmSync(dir, { recursive: true, force: true });
});

t(
  '~> kubectl 1.27 applies and lists a StorageClass (OpenAPI v2); the status subresources; describe pvc names the Pods that use it',
  async () => {
    await ok(
      ['apply', '-f', '-'],
      '1.27',
      'apiVersion: storage.k8s.io/v1\nkind: StorageClass\nmetadata: {name: old}\nprovisioner: example.com/old\nallowVolumeExpansion: true\n',
    );
    assert.match(
      await ok(['get', 'storageclass'], '1.27'),
      /^old\s+example\.com\/old\s+Delete\s+Immediate\s+true\s+\d+s$/m,
    );
    assert.match(
      await ok(['get', 'sc'], '1.27'),
      /^standard \(default\)\s+kube-sim\.io\/local-path\s+Delete\s+WaitForFirstConsumer\s+false\s+/m,
    );
    await ok(['delete', 'sc', 'old'], '1.27');
    await apply(claim('described') + '---\n' + pod('user', 'described', 'sleep 1000'));
    await running('user');
    const d = await ok(['describe', 'pvc', 'described']);
    assert.match(d, /^Status:\s+Bound$/m);
    assert.match(d, /^Used By:\s+user$/m);
    const c = await json(['get', 'pvc', 'described']);
    await ok([
      'patch',
      'pvc',
      'described',
      '--subresource=status',
      '--type=merge',
      '-p',
      '{"status":{"conditions":[{"type":"Resizing","status":"False"}]}}',
    ]);
    const after = await json(['get', 'pvc', 'described']);
    assert.equal(after.status.conditions, [{ type: 'Resizing', status: 'False' }]);
    assert.is(after.status.phase, 'Bound');
    const spec = await k([
      'patch',
      'pv',
      c.spec.volumeName,
      '--subresource=status',
      '--type=merge',
      '-p',
      '{"spec":{"capacity":{"storage":"9Gi"}}}',
    ]);
    assert.is(spec.code, 0, spec.stderr);
    assert.is(
      (await json(['get', 'pv', c.spec.volumeName])).spec.capacity.storage,
      '1Gi',
      'the status subresource ignores the spec',
    );
    await ok(['delete', 'pod', 'user', '--grace-period=1']);
    await ok(['delete', 'pvc', 'described']);
    await gone('pv', c.spec.volumeName);
  },
);

t(
  '~> the kubelet Summary API through the node proxy: a mounted claim with its used bytes (nodes/proxy RBAC, 404 elsewhere)',
  async () => {
    await apply(claim('measured'));
    await apply(
      pod(
        'measurer',
        'measured',
        'head -c 3145728 /dev/urandom > /data/blob && echo x > /data/small && exec sleep 600',
      ),
    );
    await running('measurer');
    const p = await json(['get', 'pod', 'measurer']);
    const node = p.spec.nodeName as string;
    const summaryOf = async (n: string) =>
      JSON.parse(await ok(['get', '--raw', `/api/v1/nodes/${n}/proxy/stats/summary`])) as {
        node: { nodeName: string };
        pods: Array<{ podRef: { name: string; namespace: string; uid: string }; volume?: any[] }>;
      };
    const vol = await until(
      async () => {
        const s = await summaryOf(node);
        assert.is(s.node.nodeName, node);
        const v = s.pods.find((x) => x.podRef.name === 'measurer')?.volume?.find((x) => x.name === 'd');
        return v?.usedBytes >= 3 * 1024 * 1024 ? v : undefined;
      },
      30_000,
      'the blob counted',
    );
    assert.equal(vol.pvcRef, { name: 'measured', namespace: 'default' });
    // allocated blocks of the blob, the small file and the directory: not much more than the blob
    assert.ok(vol.usedBytes < 3 * 1024 * 1024 + 64 * 1024, String(vol.usedBytes));
    assert.ok(vol.inodesUsed >= 3 && vol.capacityBytes > 0 && vol.availableBytes > 0, JSON.stringify(vol));
    // another node does not run it
    const others = (await json(['get', 'nodes'])).items
      .map((n: any) => n.metadata.name)
      .filter((n: string) => n !== node);
    assert.not.ok((await summaryOf(others[0])).pods.some((x) => x.podRef.name === 'measurer'));
    // other kubelet paths, a missing node, and a user without nodes/proxy
    const other = await k(['get', '--raw', `/api/v1/nodes/${node}/proxy/no-such-path`]);
    assert.is.not(other.code, 0);
    assert.match(other.stderr, /NotFound|could not find/);
    const missing = await k(['get', '--raw', '/api/v1/nodes/no-such-node/proxy/stats/summary']);
    assert.match(missing.stderr, 'nodes "no-such-node" not found');
    const denied = await k([
      'get',
      '--raw',
      `/api/v1/nodes/${node}/proxy/stats/summary`,
      '--as',
      'system:serviceaccount:default:default',
    ]);
    assert.is.not(denied.code, 0);
    assert.match(denied.stderr, 'cannot get resource "nodes/proxy"');
    await ok(['delete', 'pod', 'measurer', '--grace-period=1']);
    await ok(['delete', 'pvc', 'measured']);
  },
);

t('~> validation as the apiserver answers it', async () => {
  const bad = await k(
    ['apply', '-f', '-'],
    '1.33',
    `apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: bad}
spec:
  resources: {requests: {}}
`,
  );
  assert.is(bad.code, 1);
  // kubectl prints the causes of a 422 one a line.
  assert.match(
    bad.stderr,
    /The PersistentVolumeClaim "bad" is invalid: \n\* spec\.accessModes: Required value: at least 1 access mode is required\n\* spec\.resources\[storage\]: Required value/,
  );
  const mixed = await k(['apply', '-f', '-'], '1.33', claim('mixed', { mode: 'ReadWriteOncePod, ReadWriteOnce' }));
  assert.match(mixed.stderr, /spec\.accessModes: Forbidden: may not use ReadWriteOncePod with other access modes/);
  const sc = await k(
    ['apply', '-f', '-'],
    '1.33',
    'apiVersion: storage.k8s.io/v1\nkind: StorageClass\nmetadata: {name: nop}\n',
  );
  assert.match(sc.stderr, /The StorageClass "nop" is invalid: provisioner: Required value/);
  await apply(claim('fixed'));
  const grow = await k(['patch', 'pvc', 'fixed', '-p', '{"spec":{"resources":{"requests":{"storage":"2Gi"}}}}']);
  assert.is(grow.code, 1);
  assert.match(
    grow.stderr,
    /spec\.resources\.requests\.storage: Forbidden: only dynamically provisioned pvc can be resized/,
  );
  await ok(['delete', 'pvc', 'fixed']);
});

test.run();
