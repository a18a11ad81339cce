import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { selectContainers, match, matchLabels, type ListEntry } from '../../../src/engine/model/filters.js';
import type { ContainerRecord, DockerState } from '../../../src/engine/model/types.js';
import { ZERO_TIME } from '../../../src/engine/model/types.js';
import { statusFromError } from '../../../src/errors.js';

let n = 0;
function entry(name: string, st: Partial<DockerState>, config: Partial<ContainerRecord['config']> = {}): ListEntry {
  n++;
  const id = (n.toString(16).padStart(2, '0') + 'ab').repeat(16);
  const rec: ContainerRecord = {
    id,
    name,
    created: `2026-01-01T00:00:${String(n).padStart(2, '0')}.000000000Z`,
    config: { Image: 'busybox', ...config },
    state: { run: 1, restartCount: 0 },
    object: { name: 'x', uid: 'u', resourceVersion: '1' },
  };
  const state: DockerState = {
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
    ...st,
  };
  return { rec, state };
}
const running = { Status: 'running' as const, Running: true, StartedAt: '2026-01-01T00:01:00Z' };
const exited = (code: number) => ({
  Status: 'exited' as const,
  ExitCode: code,
  StartedAt: '2026-01-01T00:01:00Z',
  FinishedAt: '2026-01-01T00:02:00Z',
});

const A = entry('alpha', running, { Labels: { app: 'web', tier: 'front' } });
const B = entry('beta', exited(3), { Labels: { app: 'web' } });
const C = entry('gamma', {}, { Image: 'alpine:3' });
const D = entry('delta', { ...running, Health: { Status: 'healthy', FailingStreak: 0, Log: [] } }, { Image: 'nginx' });
const E = entry('epsilon', exited(0));
const all = [A, B, C, D, E];
const byName = (xs: ListEntry[]) => xs.map((e) => e.rec.name);
const resolve = (v: string) => all.find((e) => e.rec.name === v.replace(/^\//, '') || e.rec.id.startsWith(v))?.rec;
const sel = (filters: Record<string, string[]>, all_ = true, limit?: number) =>
  byName(selectContainers(all, { all: all_, limit, filters }, resolve));

test('~> newest first; running only by default; all; limit implies stopped ones', () => {
  assert.equal(sel({}, true), ['epsilon', 'delta', 'gamma', 'beta', 'alpha']);
  assert.equal(sel({}, false), ['delta', 'alpha']);
  assert.equal(sel({}, false, 2), ['epsilon', 'delta']);
});

test('~> id, name (regex or exact, with or without slash), label key and key=value', () => {
  assert.equal(sel({ name: ['alpha'] }), ['alpha']);
  assert.equal(sel({ name: ['/beta'] }), ['beta']);
  assert.equal(sel({ name: ['^.e'] }), ['epsilon', 'delta', 'beta']); // '/epsilon' matches too, as in moby
  assert.equal(sel({ id: [B.rec.id.slice(0, 6)] }), ['beta']);
  assert.equal(sel({ label: ['app'] }), ['beta', 'alpha']);
  assert.equal(sel({ label: ['app=web', 'tier=front'] }), ['alpha']);
  assert.equal(sel({ label: ['app=db'] }), []);
  assert.ok(match(undefined, 'x') && match(['('], '(') && !match(['('], 'x'));
  assert.ok(matchLabels(['a'], { a: '' }) && !matchLabels(['a=1'], {}));
});

test('~> status (implies all), exited (only containers that ran), health, ancestor', () => {
  assert.equal(sel({ status: ['exited'] }, false), ['epsilon', 'beta']);
  assert.equal(sel({ status: ['created', 'running'] }, false), ['delta', 'gamma', 'alpha']);
  assert.equal(sel({ exited: ['3'] }), ['beta']);
  assert.equal(sel({ exited: ['0'] }), ['epsilon']);
  assert.equal(sel({ health: ['healthy'] }), ['delta']);
  assert.equal(sel({ health: ['none'] }), ['epsilon', 'gamma', 'beta', 'alpha']);
  assert.equal(sel({ ancestor: ['busybox:latest'] }), ['epsilon', 'beta', 'alpha']);
  assert.equal(sel({ ancestor: ['alpine:3'] }), ['gamma']);
});

test('~> before/since by name or id', () => {
  assert.equal(sel({ before: ['gamma'] }), ['beta', 'alpha']);
  assert.equal(sel({ since: ['gamma'] }), ['epsilon', 'delta']);
  assert.equal(sel({ since: [A.rec.id.slice(0, 8)], before: ['epsilon'] }), ['delta', 'gamma', 'beta']);
});

test('~> bad filters are 400 with moby wording', () => {
  const err = (f: Record<string, string[]>) => {
    try {
      sel(f);
    } catch (e) {
      assert.is(statusFromError(e), 400);
      return (e as Error).message;
    }
    assert.unreachable('no error');
  };
  assert.is(err({ bogus: ['x'] }), "invalid filter 'bogus'");
  assert.is(err({ status: ['sleeping'] }), "invalid filter 'status=sleeping'");
  assert.is(err({ health: ['meh'] }), 'Unrecognised filter value for health: meh');
  assert.match(err({ exited: ['x'] })!, /invalid syntax/);
  assert.match(err({ before: ['nosuch'] })!, /No such container: nosuch/);
});

test.run();
