import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { EventBus, matchesEvent, type DockerEvent } from '../../../src/engine/events/events.js';

const c = { id: 'a'.repeat(64), name: 'web', image: 'busybox', labels: { app: 'x', tier: 'front' } };
const other = { id: 'b'.repeat(64), name: 'db', image: 'docker.io/library/postgres:16', labels: {} };

test('~> container events carry labels, image, name and extra attributes; times increase', () => {
  const bus = new EventBus();
  const e1 = bus.container(c, 'create');
  const e2 = bus.container(c, 'die', { exitCode: '3', execDuration: '1' });
  assert.equal(e1.Actor, { ID: c.id, Attributes: { app: 'x', tier: 'front', image: 'busybox', name: 'web' } });
  assert.is(e2.Actor.Attributes.exitCode, '3');
  assert.ok(e2.timeNano > e1.timeNano);
  assert.is(e1.Type, 'container');
  assert.is(e1.scope, 'local');
  assert.is(e1.time, Math.floor(e1.timeNano / 1e9));
});

test('~> live subscription with filters; since replays; until bounds; unsubscribe stops', () => {
  const bus = new EventBus(3);
  const t0 = Date.now();
  bus.container(c, 'create');
  bus.container(other, 'create');
  const seen: DockerEvent[] = [];
  const stop = bus.subscribe({ since: t0, filters: { container: ['web'] } }, (e) => seen.push(e));
  assert.equal(
    seen.map((e) => e.Action),
    ['create'],
  );
  bus.container(c, 'start');
  bus.container(other, 'start');
  assert.equal(
    seen.map((e) => e.Action),
    ['create', 'start'],
  );
  stop();
  bus.container(c, 'die');
  assert.is(seen.length, 2);
  // The ring keeps the last 3 only.
  assert.equal(
    bus.recent().map((e) => e.Action),
    ['start', 'start', 'die'],
  );
  const late: DockerEvent[] = [];
  bus.subscribe({ until: Date.now() - 1000, filters: {} }, (e) => late.push(e));
  bus.container(c, 'stop');
  assert.is(late.length, 0);
});

test('~> filters: type, container by name/ID prefix, event base of health_status, label, image', () => {
  const bus = new EventBus();
  const h = bus.container(c, 'health_status: healthy');
  const d = bus.container(other, 'die', { exitCode: '0' });
  assert.ok(matchesEvent(h, { event: ['health_status'] }));
  assert.ok(matchesEvent(h, { event: ['health_status: healthy'] }));
  assert.not.ok(matchesEvent(h, { event: ['die'] }));
  assert.ok(matchesEvent(d, { container: ['bbbbbb'] }));
  assert.ok(matchesEvent(d, { container: ['db'] }));
  assert.not.ok(matchesEvent(d, { container: ['web'] }));
  assert.ok(matchesEvent(h, { label: ['app=x', 'tier'] }));
  assert.not.ok(matchesEvent(h, { label: ['app=y'] }));
  assert.ok(matchesEvent(d, { image: ['postgres:16'] }));
  assert.ok(matchesEvent(h, { image: ['busybox:latest'] }));
  assert.ok(matchesEvent(h, { type: ['container'] }));
  assert.not.ok(matchesEvent(h, { type: ['image'] }));
  assert.not.ok(matchesEvent(h, { network: ['bridge'] }));
});

test('~> the replay ring keeps the newest --events-buffer-size events, however many were published', () => {
  const bus = new EventBus(5);
  for (let i = 0; i < 100; i++) bus.container(c, 'exec_create', { n: String(i) });
  const replayed: DockerEvent[] = [];
  bus.subscribe({ since: 0, filters: {} }, (e) => replayed.push(e))();
  assert.equal(
    replayed.map((e) => e.Actor.Attributes.n),
    ['95', '96', '97', '98', '99'],
  );
});

test.run();
