import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  humanDuration,
  statusString,
  nowRfc3339Nano,
  rfc3339ToNs,
  nsToRfc3339,
} from '../../../src/engine/model/human.js';
import { ZERO_TIME, type DockerState } from '../../../src/engine/model/types.js';

test('~> HumanDuration matches go-units', () => {
  const s = 1000,
    m = 60 * s,
    h = 60 * m,
    d = 24 * h;
  assert.is(humanDuration(500), 'Less than a second');
  assert.is(humanDuration(1 * s), '1 second');
  assert.is(humanDuration(59 * s), '59 seconds');
  assert.is(humanDuration(60 * s), 'About a minute');
  assert.is(humanDuration(119 * s), 'About a minute');
  assert.is(humanDuration(2 * m), '2 minutes');
  assert.is(humanDuration(59 * m), '59 minutes');
  assert.is(humanDuration(60 * m), 'About an hour');
  assert.is(humanDuration(89 * m), 'About an hour');
  assert.is(humanDuration(91 * m), '2 hours');
  assert.is(humanDuration(47 * h), '47 hours');
  assert.is(humanDuration(48 * h), '2 days');
  assert.is(humanDuration(13 * d), '13 days');
  assert.is(humanDuration(14 * d), '2 weeks');
  assert.is(humanDuration(60 * d), '2 months');
  assert.is(humanDuration(800 * d), '2 years');
});

const st = (o: Partial<DockerState>): DockerState => ({
  Status: 'created',
  Running: false,
  Paused: false,
  Restarting: false,
  OOMKilled: false,
  Dead: false,
  Pid: 0,
  ExitCode: 0,
  Error: '',
  StartedAt: ZERO_TIME,
  FinishedAt: ZERO_TIME,
  ...o,
});

test('~> docker ps STATUS strings as moby State.String()', () => {
  const now = Date.parse('2026-01-01T00:10:00Z');
  assert.is(statusString(st({}), now), 'Created');
  assert.is(
    statusString(st({ Status: 'running', Running: true, StartedAt: '2026-01-01T00:09:57.5Z' }), now),
    'Up 2 seconds',
  );
  assert.is(
    statusString(
      st({
        Status: 'running',
        Running: true,
        StartedAt: '2026-01-01T00:08:00Z',
        Health: { Status: 'healthy', FailingStreak: 0, Log: [] },
      }),
      now,
    ),
    'Up 2 minutes (healthy)',
  );
  assert.is(
    statusString(
      st({
        Status: 'running',
        Running: true,
        StartedAt: '2026-01-01T00:09:59Z',
        Health: { Status: 'starting', FailingStreak: 0, Log: [] },
      }),
      now,
    ),
    'Up 1 second (health: starting)',
  );
  assert.is(
    statusString(
      st({ Status: 'exited', ExitCode: 3, StartedAt: '2026-01-01T00:00:00Z', FinishedAt: '2026-01-01T00:09:58Z' }),
      now,
    ),
    'Exited (3) 2 seconds ago',
  );
  assert.is(
    statusString(
      st({
        Status: 'restarting',
        Running: true,
        Restarting: true,
        ExitCode: 1,
        StartedAt: '2026-01-01T00:00:00Z',
        FinishedAt: '2026-01-01T00:09:55Z',
      }),
      now,
    ),
    'Restarting (1) 5 seconds ago',
  );
  assert.is(statusString(st({ Dead: true, Status: 'dead', StartedAt: '2026-01-01T00:00:00Z' }), now), 'Dead');
});

test('~> creation times carry nanoseconds, increase strictly, and round-trip', () => {
  const a = nowRfc3339Nano(),
    b = nowRfc3339Nano();
  assert.match(a, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$/);
  assert.ok(b > a);
  assert.ok(rfc3339ToNs(b) > rfc3339ToNs(a));
  assert.is(nsToRfc3339(rfc3339ToNs('2026-01-02T03:04:05.123456789Z')), '2026-01-02T03:04:05.123456789Z');
  assert.is(rfc3339ToNs('2026-01-02T03:04:05Z'), rfc3339ToNs('2026-01-02T03:04:05.000000000Z'));
});

test.run();
