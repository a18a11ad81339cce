import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  recordObject,
  decodeRecord,
  encodeConfig,
  decodeConfig,
  statePatch,
  selectorFor,
  ANN_CONFIG,
} from '../../../src/engine/model/record.js';
import type { CreateBody } from '../../../src/engine/model/types.js';

const body: CreateBody = {
  Image: 'busybox',
  Cmd: ['sh', '-c', 'echo "héllo" && exit 3'],
  Env: ['A=1'],
  Labels: { 'x.y': 'z' },
  Tty: false,
  Healthcheck: { Test: ['CMD', 'true'], Interval: 1_000_000_000 },
  StopTimeout: null,
  HostConfig: {
    Memory: 2 ** 40,
    AutoRemove: true,
    Tmpfs: { '/t': 'size=1m' },
    RestartPolicy: { Name: 'on-failure', MaximumRetryCount: 3 },
  },
  NetworkingConfig: { EndpointsConfig: { net: { Aliases: ['a'] } } },
};

test('~> the create body round-trips exactly through msgpackr + base64', () => {
  const b64 = encodeConfig(body);
  assert.match(b64, /^[A-Za-z0-9+/]+=*$/);
  assert.equal(decodeConfig(b64), body);
  assert.ok(b64.length < JSON.stringify(body).length * 1.4);
});

test('~> a record ConfigMap carries labels, annotations, owner; decodes back', () => {
  const id = 'f'.repeat(64);
  const cm = recordObject(
    { namespace: 'ns', instance: 'i1', owner: { apiVersion: 'v1', kind: 'Pod', name: 'kuber-api-0', uid: 'pod-uid' } },
    { id, name: 'web', created: '2026-01-01T00:00:00.000000001Z', config: body, state: { run: 0, restartCount: 0 } },
    'kapi-ffffffffffff',
  );
  assert.equal(cm.metadata.labels, {
    'kuber-api.io/instance': 'i1',
    'kuber-api.io/kind': 'container',
    'kuber-api.io/container': 'ffffffffffff',
    'app.kubernetes.io/managed-by': 'kuber-api',
  });
  assert.equal(cm.metadata.ownerReferences, [
    {
      apiVersion: 'v1',
      kind: 'Pod',
      name: 'kuber-api-0',
      uid: 'pod-uid',
      controller: false,
      blockOwnerDeletion: false,
    },
  ]);
  cm.metadata.uid = 'cm-uid';
  cm.metadata.resourceVersion = '42';
  const r = decodeRecord(cm)!;
  assert.is(r.id, id);
  assert.is(r.name, 'web');
  assert.equal(r.config, body);
  assert.equal(r.state, { run: 0, restartCount: 0 });
  assert.equal(r.object, { name: 'kapi-ffffffffffff', uid: 'cm-uid', resourceVersion: '42' });
  assert.equal(statePatch(r, { run: 1, restartCount: 0 }, 'renamed'), {
    metadata: {
      resourceVersion: '42',
      annotations: { 'kuber-api.io/state': '{"run":1,"restartCount":0}', 'kuber-api.io/name': 'renamed' },
    },
  });
  assert.is(selectorFor('i1'), 'kuber-api.io/instance=i1,kuber-api.io/kind=container');
  // Not ours, or damaged: ignored rather than crashing the cache.
  assert.is(decodeRecord({ metadata: { name: 'x' } }), undefined);
  cm.metadata.annotations![ANN_CONFIG] = '!!!';
  assert.is(decodeRecord(cm), undefined);
});

test.run();
