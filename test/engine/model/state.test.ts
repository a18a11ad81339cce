/** Docker State from pod status fixtures shaped like what kubelets (and kube-sim) write. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  dockerState,
  podFailure,
  runSummary,
  startFailureExitCode,
  type PodLike,
} from '../../../src/engine/model/state.js';
import type { ContainerRecord, RecordState } from '../../../src/engine/model/types.js';
import { ZERO_TIME } from '../../../src/engine/model/types.js';

const rec = (
  state: Partial<RecordState> = {},
  config: ContainerRecord['config'] = { Image: 'busybox' },
): ContainerRecord => ({
  id: 'a'.repeat(64),
  name: 'c',
  created: '2026-01-01T00:00:00.000000000Z',
  config,
  state: { run: 1, restartCount: 0, ...state },
  object: { name: 'kapi-aaaaaaaaaaaa', uid: 'u', resourceVersion: '1' },
});
const T0 = '2026-01-01T00:00:01Z',
  T1 = '2026-01-01T00:00:09Z';
const pod = (status: PodLike['status']): PodLike => ({ metadata: { name: 'c-aaaaaaaaaaaa' }, status });
const cs = (state: any, extra: any = {}) => [
  { name: 'main', ready: false, restartCount: 0, image: 'docker.io/library/busybox:latest', state, ...extra },
];

test('~> never started: created, zero times; a failed start keeps its error and code', () => {
  const s = dockerState(rec({ run: 0 }), undefined);
  assert.equal(
    [s.Status, s.Running, s.StartedAt, s.FinishedAt, s.ExitCode, s.Error],
    ['created', false, ZERO_TIME, ZERO_TIME, 0, ''],
  );
  const f = dockerState(
    rec({ run: 0, startError: { message: 'ErrImagePull: nope', exitCode: 128, at: T0 } }),
    undefined,
  );
  assert.equal([f.Status, f.ExitCode, f.Error], ['created', 128, 'ErrImagePull: nope']);
});

test('~> pending pod: created (ContainerCreating), with Kubernetes reasons as Error', () => {
  const p = pod({ phase: 'Pending', containerStatuses: cs({ waiting: { reason: 'ContainerCreating' } }) });
  assert.equal([dockerState(rec(), p).Status, dockerState(rec(), p).Error], ['created', '']);
  const pull = pod({
    phase: 'Pending',
    containerStatuses: cs({ waiting: { reason: 'ImagePullBackOff', message: 'Back-off pulling image "nope"' } }),
  });
  assert.is(dockerState(rec(), pull).Error, 'ImagePullBackOff: Back-off pulling image "nope"');
  assert.equal(podFailure(pull), { reason: 'ImagePullBackOff', message: 'Back-off pulling image "nope"' });
  const unsched = pod({
    phase: 'Pending',
    conditions: [
      {
        type: 'PodScheduled',
        status: 'False',
        reason: 'Unschedulable',
        message: '0/1 nodes are available: 1 Insufficient cpu.',
      },
    ],
  });
  assert.equal(podFailure(unsched), {
    reason: 'Unschedulable',
    message: '0/1 nodes are available: 1 Insufficient cpu.',
  });
  assert.is(
    podFailure(pod({ phase: 'Pending', containerStatuses: cs({ waiting: { reason: 'ContainerCreating' } }) })),
    undefined,
  );
});

test('~> running pod (also while being stopped), pod IP-independent', () => {
  const p = pod({
    phase: 'Running',
    podIP: '10.244.0.5',
    startTime: T0,
    containerStatuses: cs({ running: { startedAt: T0 } }, { ready: true, started: true }),
  } as any);
  const s = dockerState(rec(), p);
  assert.equal([s.Status, s.Running, s.StartedAt, s.FinishedAt, s.Health], ['running', true, T0, ZERO_TIME, undefined]);
  const stopping = {
    ...p,
    metadata: { ...p.metadata, deletionTimestamp: T1 },
    status: { ...p.status, phase: 'Failed', reason: 'DeadlineExceeded' },
  };
  assert.is(dockerState(rec(), stopping).Status, 'running');
});

test('~> terminated: exit code, times, OOMKilled; DeadlineExceeded keeps the real code', () => {
  const p = pod({
    phase: 'Failed',
    reason: 'DeadlineExceeded',
    containerStatuses: cs({ terminated: { exitCode: 7, reason: 'Error', startedAt: T0, finishedAt: T1 } }),
  });
  const s = dockerState(rec(), p);
  assert.equal(
    [s.Status, s.Running, s.ExitCode, s.StartedAt, s.FinishedAt, s.OOMKilled],
    ['exited', false, 7, T0, T1, false],
  );
  const oom = pod({
    phase: 'Failed',
    containerStatuses: cs({ terminated: { exitCode: 137, reason: 'OOMKilled', startedAt: T0, finishedAt: T1 } }),
  });
  assert.equal([dockerState(rec(), oom).OOMKilled, dockerState(rec(), oom).ExitCode], [true, 137]);
  assert.equal(runSummary(oom), { exitCode: 137, startedAt: T0, finishedAt: T1, oomKilled: true });
  const ok = pod({
    phase: 'Succeeded',
    containerStatuses: cs({ terminated: { exitCode: 0, reason: 'Completed', startedAt: T0, finishedAt: T1 } }),
  });
  assert.equal([dockerState(rec(), ok).Status, dockerState(rec(), ok).ExitCode], ['exited', 0]);
});

test('~> a runtime start failure is "created" with moby-like exit codes', () => {
  const msg = 'failed to create containerd task: exec: "nope": executable file not found in $PATH: unknown';
  const p = pod({
    phase: 'Failed',
    containerStatuses: cs({
      terminated: {
        exitCode: 128,
        reason: 'StartError',
        message: msg,
        startedAt: '1970-01-01T00:00:00Z',
        finishedAt: T1,
      },
    }),
  });
  const s = dockerState(rec(), p);
  assert.equal([s.Status, s.ExitCode, s.Error], ['created', 127, msg]);
  assert.is(startFailureExitCode('permission denied'), 126);
  assert.is(startFailureExitCode('boom'), 128);
});

test('~> restarts: restarting between runs shows the previous exit; a vanished pod is reported', () => {
  const last = { exitCode: 1, startedAt: T0, finishedAt: T1 };
  const r = rec({ run: 2, restartCount: 1, restarting: true, last });
  const s = dockerState(r, undefined);
  assert.equal([s.Status, s.Running, s.Restarting, s.ExitCode, s.FinishedAt], ['restarting', true, true, 1, T1]);
  const pending = pod({ phase: 'Pending', containerStatuses: cs({ waiting: { reason: 'ContainerCreating' } }) });
  assert.is(dockerState(r, pending).Status, 'restarting');
  const up = pod({ phase: 'Running', containerStatuses: cs({ running: { startedAt: T1 } }) });
  assert.is(dockerState(r, up).Status, 'running');
  // docker start after an exit: the previous run shows until the new one runs.
  assert.equal(dockerState(rec({ run: 2, last }), pending).Status, 'exited');
  const gone = dockerState(rec({ run: 1 }), undefined);
  assert.equal([gone.Status, gone.ExitCode], ['exited', 137]);
  assert.match(gone.Error, /gone/);
  assert.equal(dockerState(rec({ run: 1, last }), undefined).ExitCode, 1);
});

test('~> Health derived from readiness: starting, healthy, unhealthy', () => {
  const hc = { Image: 'x', Healthcheck: { Test: ['CMD', 'true'], Interval: 1e9, Retries: 2 } };
  const started = '2026-01-01T00:00:00Z';
  const now = Date.parse(started) + 1500;
  const mk = (ready: boolean, cond: any) =>
    pod({
      phase: 'Running',
      conditions: [cond],
      containerStatuses: cs({ running: { startedAt: started } }, { ready }),
    });
  const starting = dockerState(
    rec({}, hc),
    mk(false, { type: 'ContainersReady', status: 'False', lastTransitionTime: started }),
    now,
  );
  assert.equal(starting.Health, { Status: 'starting', FailingStreak: 0, Log: [] });
  const healthy = dockerState(
    rec({}, hc),
    mk(true, { type: 'ContainersReady', status: 'True', lastTransitionTime: '2026-01-01T00:00:01Z' }),
    now,
  );
  assert.is(healthy.Health!.Status, 'healthy');
  assert.is(healthy.Health!.Log[0]!.ExitCode, 0);
  const later = Date.parse(started) + 60_000;
  const unhealthy = dockerState(
    rec({}, hc),
    mk(false, { type: 'ContainersReady', status: 'False', lastTransitionTime: '2026-01-01T00:00:30Z' }),
    later,
  );
  assert.equal([unhealthy.Health!.Status, unhealthy.Health!.FailingStreak], ['unhealthy', 2]);
  // Never became ready within StartPeriod + Interval x Retries: unhealthy.
  const never = dockerState(
    rec({}, hc),
    mk(false, { type: 'ContainersReady', status: 'False', lastTransitionTime: started }),
    Date.parse(started) + 5100,
  );
  assert.is(never.Health!.Status, 'unhealthy');
  assert.is(dockerState(rec(), mk(false, {})).Health, undefined);
});

test.run();
