/**
 * Table printing as kubectl's server-side printers do it (pkg/printers/internalversion): the pod
 * STATUS column from phases, waiting/terminated reasons, init containers and deletion, RESTARTS,
 * and HumanDuration ages.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { humanDuration, toTable } from '../../src/sim/apiserver/table.js';
import { defOf } from '../../src/sim/store/resources.js';
import type { KObject } from '../../src/sim/types.js';

const PODS = defOf({ group: '', resource: 'pods' });
const cells = (p: Record<string, any>) =>
  toTable(
    PODS,
    [
      {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'p', creationTimestamp: new Date().toISOString(), ...(p.metadata ?? {}) },
        spec: p.spec ?? { containers: [{ name: 'c' }] },
        status: p.status ?? {},
      } as KObject,
    ],
    {},
  ).rows[0].cells;
const status = (p: Record<string, any>) => cells(p)[2];

const waiting = (reason: string) => ({ name: 'c', ready: false, restartCount: 0, state: { waiting: { reason } } });
const running = (ready = true) => ({
  name: 'c',
  ready,
  restartCount: 0,
  state: { running: { startedAt: '2025-01-01T00:00:00Z' } },
});
const terminated = (exitCode: number, reason?: string, signal?: number) => ({
  name: 'c',
  ready: false,
  restartCount: 0,
  state: { terminated: { exitCode, reason, signal } },
});

test('~> pod STATUS: phase, waiting and terminated reasons', () => {
  assert.is(status({ status: { phase: 'Pending' } }), 'Pending');
  assert.is(
    status({ status: { phase: 'Pending', containerStatuses: [waiting('ContainerCreating')] } }),
    'ContainerCreating',
  );
  assert.is(status({ status: { phase: 'Pending', containerStatuses: [waiting('ErrImagePull')] } }), 'ErrImagePull');
  assert.is(
    status({ status: { phase: 'Running', containerStatuses: [waiting('CrashLoopBackOff')] } }),
    'CrashLoopBackOff',
  );
  assert.is(status({ status: { phase: 'Running', containerStatuses: [running()] } }), 'Running');
  assert.is(status({ status: { phase: 'Succeeded', containerStatuses: [terminated(0, 'Completed')] } }), 'Completed');
  assert.is(status({ status: { phase: 'Failed', containerStatuses: [terminated(3, 'Error')] } }), 'Error');
  assert.is(status({ status: { phase: 'Failed', containerStatuses: [terminated(137, '', 9)] } }), 'Signal:9');
  assert.is(status({ status: { phase: 'Failed', containerStatuses: [terminated(2)] } }), 'ExitCode:2');
  assert.is(status({ status: { phase: 'Failed', reason: 'DeadlineExceeded' } }), 'DeadlineExceeded');
});

test('~> pod STATUS: Terminating while deletionTimestamp is set (not for finished pods)', () => {
  const deleting = { deletionTimestamp: new Date().toISOString() };
  assert.is(
    status({ metadata: deleting, status: { phase: 'Running', containerStatuses: [running()] } }),
    'Terminating',
  );
  assert.is(
    status({ metadata: deleting, status: { phase: 'Succeeded', containerStatuses: [terminated(0, 'Completed')] } }),
    'Completed',
  );
});

test('~> pod STATUS: init containers (Init:0/2, Init:Error, PodInitializing)', () => {
  const spec = { initContainers: [{ name: 'i1' }, { name: 'i2' }], containers: [{ name: 'c' }] };
  assert.is(
    status({
      spec,
      status: {
        phase: 'Pending',
        initContainerStatuses: [
          { name: 'i1', state: { running: {} } },
          { name: 'i2', state: { waiting: { reason: 'PodInitializing' } } },
        ],
      },
    }),
    'Init:0/2',
  );
  assert.is(
    status({
      spec,
      status: {
        phase: 'Pending',
        initContainerStatuses: [
          { name: 'i1', state: { terminated: { exitCode: 0, reason: 'Completed' } } },
          { name: 'i2', state: { running: {} } },
        ],
      },
    }),
    'Init:1/2',
  );
  assert.is(
    status({
      spec,
      status: {
        phase: 'Failed',
        initContainerStatuses: [{ name: 'i1', state: { terminated: { exitCode: 1, reason: 'Error' } } }],
      },
    }),
    'Init:Error',
  );
  assert.is(
    status({
      spec,
      status: {
        phase: 'Pending',
        initContainerStatuses: [{ name: 'i1', state: { waiting: { reason: 'ErrImagePull' } } }],
      },
    }),
    'Init:ErrImagePull',
  );
});

test('~> READY counts ready running containers; RESTARTS shows the last restart age; wide cells', () => {
  const spec = { containers: [{ name: 'a' }, { name: 'b' }], nodeName: 'n1' };
  const c = cells({
    spec,
    status: {
      phase: 'Running',
      podIP: '10.0.0.5',
      podIPs: [{ ip: '10.0.0.5' }],
      containerStatuses: [
        {
          ...running(),
          name: 'a',
          restartCount: 2,
          lastState: { terminated: { exitCode: 1, finishedAt: new Date(Date.now() - 65_000).toISOString() } },
        },
        { ...running(false), name: 'b' },
      ],
    },
  });
  assert.equal(c.slice(0, 4), ['p', '1/2', 'Running', '2 (65s ago)']);
  assert.equal(c.slice(5), ['10.0.0.5', 'n1', '<none>', '<none>']);
});

test('~> HumanDuration as apimachinery prints ages', () => {
  const s = 1000,
    m = 60 * s,
    h = 60 * m,
    d = 24 * h;
  assert.is(humanDuration(5 * s), '5s');
  assert.is(humanDuration(119 * s), '119s');
  assert.is(humanDuration(3 * m + 20 * s), '3m20s');
  assert.is(humanDuration(10 * m), '10m');
  assert.is(humanDuration(3 * h + 5 * m), '3h5m');
  assert.is(humanDuration(30 * h), '30h');
  assert.is(humanDuration(3 * d + 4 * h), '3d4h');
  assert.is(humanDuration(400 * d), '400d');
  assert.is(humanDuration(-3 * s), '<invalid>');
});

test.run();
