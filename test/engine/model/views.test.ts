import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { inspectView, summaryView, pathArgs } from '../../../src/engine/model/views.js';
import { dockerState, type PodLike } from '../../../src/engine/model/state.js';
import { imageId } from '../../../src/engine/model/image-names.js';
import type { ContainerRecord } from '../../../src/engine/model/types.js';

const rec: ContainerRecord = {
  id: 'b'.repeat(64),
  name: 'web',
  created: '2026-01-01T00:00:00.123456789Z',
  config: {
    Image: 'busybox',
    Entrypoint: ['sh', '-c'],
    Cmd: ['sleep 100'],
    Labels: { a: 'b' },
    ExposedPorts: { '80': {} },
    HostConfig: { NetworkMode: 'default', PortBindings: { '80': [{ HostPort: '0' }] } },
  },
  state: { run: 1, restartCount: 2 },
  object: { name: 'x', uid: 'u', resourceVersion: '1' },
};
const pod: PodLike = {
  metadata: { name: 'web-bbbbbbbbbbbb' },
  status: {
    phase: 'Running',
    podIP: '10.1.2.3',
    containerStatuses: [{ name: 'main', ready: true, state: { running: { startedAt: '2026-01-01T00:00:05Z' } } }],
  } as any,
};

test('~> inspect has the fields clients read, with version-gated legacy fields', () => {
  const st = dockerState(rec, pod);
  const v = inspectView(rec, pod, st, '1.51') as any;
  assert.is(v.Id, rec.id);
  assert.is(v.Name, '/web');
  assert.is(v.Created, rec.created);
  assert.equal([v.Path, v.Args], ['sh', ['-c', 'sleep 100']]);
  assert.is(v.Image, imageId('busybox'));
  assert.is(v.RestartCount, 2);
  assert.is(v.State.Status, 'running');
  assert.is(v.Config.Hostname, 'bbbbbbbbbbbb');
  assert.equal(v.Config.ExposedPorts, { '80/tcp': {} });
  assert.equal(v.NetworkSettings.Ports, { '80/tcp': null });
  assert.is(v.NetworkSettings.Networks.bridge.IPAddress, '10.1.2.3');
  assert.is(v.NetworkSettings.IPAddress, '10.1.2.3');
  assert.is(v.HostConfig.NetworkMode, 'bridge');
  assert.equal(v.HostConfig.LogConfig, { Type: 'json-file', Config: {} });
  assert.equal(v.HostConfig.RestartPolicy, { Name: 'no', MaximumRetryCount: 0 });
  assert.equal(v.HostConfig.PortBindings, { '80/tcp': [{ HostPort: '0' }] });
  assert.is(v.SizeRw, undefined);
  assert.is((inspectView(rec, pod, st, '1.52') as any).NetworkSettings.IPAddress, undefined);
  assert.is((inspectView(rec, pod, st, '1.51', { size: true }) as any).SizeRw, 0);
});

test('~> list summary: Names with slash, Created in seconds, Status text, Health from 1.52', () => {
  const st = dockerState(rec, pod);
  const s = summaryView(rec, pod, st, '1.51', { now: Date.parse('2026-01-01T00:00:08Z') }) as any;
  assert.equal(s.Names, ['/web']);
  assert.is(s.Created, Math.floor(Date.parse('2026-01-01T00:00:00Z') / 1000));
  assert.is(s.Command, 'sh -c sleep 100');
  assert.is(s.State, 'running');
  assert.is(s.Status, 'Up 3 seconds');
  assert.equal(s.Ports, [{ PrivatePort: 80, Type: 'tcp' }]);
  assert.is(s.Health, undefined);
  assert.equal((summaryView(rec, pod, st, '1.52') as any).Health, { Status: 'none', FailingStreak: 0 });
  assert.equal(pathArgs({ ...rec, config: { Image: 'x' } }), { path: '', args: [] });
});

test.run();
