/**
 * engine/volumes/volume-pod: what a container's storage adds to its Pod — claim volumes and
 * mounts, copy-up init containers (as the container's user), bind snapshot mounts and the
 * copy-back sidecar, tmpfs, and the pod affinity of ReadWriteOnce users.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { applyPodStorage, podStorage } from '../../../src/engine/volumes/volume-pod.js';
import { BIND_SIDECAR } from '../../../src/engine/volumes/bind-sync.js';
import { claimObject, isSingleNode, volumeView, decodeVolume } from '../../../src/engine/volumes/store.js';

const base = {
  manifest: { v: 1 as const, archives: [] },
  sources: [],
  helperImage: 'busybox:1.36',
  imagePullPolicy: 'IfNotPresent',
};

test('claims: one volume per claim, mounts (readOnly kept), copy-up as the container user unless nocopy, affinity per single-node claim', () => {
  const s = podStorage({
    ...base,
    image: 'postgres@sha256:abc',
    securityContext: { runAsUser: 999 },
    claims: [
      {
        mount: { type: 'volume', source: 'db', target: '/var/lib/pg', readOnly: false },
        claim: 'kapi-vol-a',
        affinityKey: 'kuber-api.io/vol-a',
      },
      {
        mount: { type: 'volume', source: 'db', target: '/ro', readOnly: true, noCopy: true },
        claim: 'kapi-vol-a',
        affinityKey: 'kuber-api.io/vol-a',
      },
      {
        mount: { type: 'volume', source: 'rwx', target: '/shared', readOnly: false, noCopy: true },
        claim: 'kapi-vol-b',
      },
    ],
  });
  assert.equal(
    s.volumes.filter((v) => v.persistentVolumeClaim).map((v) => [v.name, v.persistentVolumeClaim!.claimName]),
    [
      ['kapi-vol-0', 'kapi-vol-a'],
      ['kapi-vol-2', 'kapi-vol-b'],
    ],
  );
  assert.equal(s.mounts, [
    { name: 'kapi-vol-0', mountPath: '/ro', readOnly: true },
    { name: 'kapi-vol-2', mountPath: '/shared' },
    { name: 'kapi-vol-0', mountPath: '/var/lib/pg' },
  ]);
  assert.equal(s.labels, { 'kuber-api.io/vol-a': 'true' });
  assert.equal(s.affinity, {
    podAffinity: {
      requiredDuringSchedulingIgnoredDuringExecution: [
        {
          labelSelector: { matchExpressions: [{ key: 'kuber-api.io/vol-a', operator: 'Exists' }] },
          topologyKey: 'kubernetes.io/hostname',
        },
      ],
    },
  });
  assert.equal(
    s.initContainers.map((c) => c.name),
    ['kapi-vtools', 'kapi-copyup'],
  );
  const copy = s.initContainers[1]!;
  assert.is(copy.image, 'postgres@sha256:abc');
  assert.equal(copy.securityContext, { runAsUser: 999 });
  assert.equal(
    copy.volumeMounts!.map((m) => m.mountPath),
    ['/.kapi-vtools', '/.kapi-copyup/0'],
  );
  const script = copy.command!.join(' ');
  assert.match(script, 'if [ -d \'/var/lib/pg\' ] && [ -z "$(/.kapi-vtools/busybox ls -A /.kapi-copyup/0)" ]; then');
  assert.match(
    script,
    '/.kapi-vtools/busybox chown "$(/.kapi-vtools/busybox stat -c %u:%g \'/var/lib/pg\')" /.kapi-copyup/0',
  );
  assert.match(script, "/.kapi-vtools/busybox cp -a '/var/lib/pg'/. /.kapi-copyup/0/ || echo");
});

test('binds: snapshot mounts from the staged emptyDir; a writable one adds the copy-back sidecar', () => {
  const ro = podStorage({
    ...base,
    binds: [
      {
        source: { dir: 'b0', kind: 'b', seq: 0, objects: ['r-b0-0'] },
        subPath: 'b0/app.conf',
        mount: { type: 'bind', source: '/h/app.conf', target: '/etc/app.conf', readOnly: true },
      },
    ],
  });
  assert.equal(ro.mounts, [
    { name: 'kapi-staged', mountPath: '/etc/app.conf', subPath: 'b0/app.conf', readOnly: true },
  ]);
  assert.equal(
    ro.initContainers.map((c) => c.name),
    ['kapi-stage'],
  );
  assert.is(ro.sidecars, undefined);
  const rw = podStorage({
    ...base,
    binds: [
      {
        source: { dir: 'b1', kind: 'b', seq: 1, objects: ['r-b1-0', 'r-b1-1'] },
        subPath: 'b1',
        mount: { type: 'bind', source: '/h/out', target: '/out', readOnly: false },
      },
    ],
  });
  assert.equal(
    rw.sidecars!.map((c) => c.name),
    [BIND_SIDECAR],
  );
  assert.match(
    rw.initContainers[0]!.command!.join(' '),
    'x /kapi/out/b1 /kapi/src/kapi-b1-0/data /kapi/src/kapi-b1-1/data',
  );
  const pod = { metadata: { labels: { a: '1' } }, spec: { containers: [{ name: 'main' }] } };
  applyPodStorage(pod, rw);
  assert.equal(
    pod.spec.containers.map((c) => c.name),
    ['main', BIND_SIDECAR],
  );
});

test('claim objects: options override the defaults; views', () => {
  const c = claimObject(
    { namespace: 'ns', instance: 'i1', owner: { name: 'kapi', uid: 'u' } },
    { name: 'db', created: '2026-01-02T03:04:05.123456789Z', labels: { x: 'y' }, options: { size: '5Gi' } },
    { storageClass: '', size: '1Gi', accessMode: 'ReadWriteOnce' },
  );
  assert.equal(c.spec, { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '5Gi' } } });
  assert.equal(c.metadata.ownerReferences![0]!.name, 'kapi');
  assert.ok(isSingleNode(c));
  const v = volumeView(decodeVolume(c)!, 'ns') as Record<string, unknown>;
  assert.equal(
    [v.Name, v.CreatedAt, v.Labels, v.Options, v.Driver],
    ['db', '2026-01-02T03:04:05Z', { x: 'y' }, { size: '5Gi' }, 'local'],
  );
  const rwx = claimObject(
    { namespace: 'ns', instance: 'i1' },
    { name: 'db', created: '', labels: {}, options: { accessmode: 'ReadWriteMany', storageclass: 'nfs' } },
    { storageClass: 'std', size: '1Gi', accessMode: 'ReadWriteOnce' },
  );
  assert.equal(rwx.spec, {
    accessModes: ['ReadWriteMany'],
    resources: { requests: { storage: '1Gi' } },
    storageClassName: 'nfs',
  });
  assert.not.ok(isSingleNode(rwx));
});

test.run();
