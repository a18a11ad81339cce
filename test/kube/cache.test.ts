import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startFakeApiserver, type FakeApiserver } from './fake-apiserver.js';
import { Kube, type CacheEvent, type KObject } from '../../src/kube/index.js';

let api: FakeApiserver;
let kube: Kube;

test.before(async () => {
  api = await startFakeApiserver();
  const dir = mkdtempSync(join(tmpdir(), 'kube-cache-'));
  writeFileSync(join(dir, 'config'), api.kubeconfig);
  kube = Kube.load({ kubeconfig: join(dir, 'config') });
});
test.after(async () => {
  kube.close();
  await api.close();
});

const until = async (cond: () => boolean, ms = 3000) => {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error('condition not reached');
    await new Promise((r) => setTimeout(r, 5));
  }
};

test('~> list then watch: initial objects, then live events, label-selected', async () => {
  api.put('a', { app: 'mine' });
  api.put('other', { app: 'theirs' });
  const cache = kube.cache<KObject>('pods', 'app=mine', { backoffBaseMs: 10 });
  const events: CacheEvent<KObject>[] = [];
  cache.subscribe((e) => events.push(e));
  await cache.start();
  assert.equal(
    cache.list().map((o) => o.metadata.name),
    ['a'],
  );
  assert.equal(
    events.map((e) => [e.type, e.object.metadata.name, e.initial]),
    [['ADDED', 'a', true]],
  );
  api.put('b', { app: 'mine' });
  api.put('a', { app: 'mine' }, { spec: { x: 1 } });
  api.remove('b');
  await until(() => events.length === 4);
  assert.equal(
    events.slice(1).map((e) => [e.type, e.object.metadata.name, e.initial]),
    [
      ['ADDED', 'b', false],
      ['MODIFIED', 'a', false],
      ['DELETED', 'b', false],
    ],
  );
  assert.equal(cache.get('a')?.spec, { x: 1 });
  assert.is(cache.stats.lists, 1);
  cache.stop();
});

test('~> waiters resolve from events, time out, and abort', async () => {
  const cache = kube.cache<KObject>('pods', 'app=wait', { backoffBaseMs: 10 });
  await cache.start();
  const w = cache.when(() => (cache.get('w')?.phase === 'Running' ? 'up' : undefined), { timeoutMs: 2000 });
  api.put('w', { app: 'wait' }, { phase: 'Pending' });
  api.put('w', { app: 'wait' }, { phase: 'Running' });
  assert.is(await w, 'up');
  await cache
    .when(() => undefined, { timeoutMs: 20 })
    .then(
      () => assert.unreachable(),
      (e) => assert.match(e.message, /timed out/),
    );
  const ac = new AbortController();
  const p = cache.when(() => undefined, { signal: ac.signal });
  ac.abort(new Error('client went away'));
  await p.then(
    () => assert.unreachable(),
    (e) => assert.is(e.message, 'client went away'),
  );
  cache.stop();
});

test('~> a dropped watch resumes from the last resourceVersion without relisting', async () => {
  const cache = kube.cache<KObject>('pods', 'app=drop', { backoffBaseMs: 10 });
  const events: CacheEvent<KObject>[] = [];
  cache.subscribe((e) => events.push(e));
  await cache.start();
  await until(() => api.openWatches() > 0);
  api.dropWatches();
  api.put('d1', { app: 'drop' }); // happens while no watch is open: delivered on resume
  await until(() => events.length === 1);
  assert.is(events[0]!.object.metadata.name, 'd1');
  assert.is(cache.stats.lists, 1);
  assert.ok(cache.stats.watches >= 2);
  cache.stop();
});

test('~> 410 Expired relists and reports what changed meanwhile as events', async () => {
  api.put('e1', { app: 'exp' });
  api.put('e2', { app: 'exp' });
  const cache = kube.cache<KObject>('pods', 'app=exp', { backoffBaseMs: 10 });
  const events: CacheEvent<KObject>[] = [];
  await cache.start();
  cache.subscribe((e) => events.push(e));
  await until(() => api.openWatches() > 0);
  // Everything before now expires; changes happen while the watch is down.
  api.expireBefore = api.rv + 1000;
  api.dropWatches();
  api.remove('e1');
  api.put('e3', { app: 'exp' });
  api.rv += 1000;
  await until(() => cache.stats.relists === 1 && events.length >= 2);
  const seen = events.map((e) => `${e.type}:${e.object.metadata.name}`).sort();
  assert.equal(seen, ['ADDED:e3', 'DELETED:e1']);
  assert.equal(
    cache
      .list()
      .map((o) => o.metadata.name)
      .sort(),
    ['e2', 'e3'],
  );
  api.expireBefore = 0;
  cache.stop();
});

test('~> a forgotten (deleted by us) object is not brought back by a late echo of an older write', async () => {
  api.put('t1', { app: 'tomb' });
  const cache = kube.cache<KObject>('pods', 'app=tomb', { backoffBaseMs: 10 });
  await cache.start();
  await until(() => !!cache.get('t1') && api.openWatches() > 0);
  cache.forget('t1');
  api.put('t1', { app: 'tomb' }, { late: true }); // same uid: an echo still in flight on the watch
  api.put('t2', { app: 'tomb' });
  await until(() => !!cache.get('t2'));
  assert.is(cache.get('t1'), undefined);
  cache.stop();
});

const obj = (name: string, uid: string): KObject => ({ metadata: { name, uid, resourceVersion: '1' } });

test('~> tombstones: filled past --watch-tombstones, the oldest go; a kept one still guards, an evicted one does not', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'kube-cache-'));
  writeFileSync(join(dir, 'config'), api.kubeconfig);
  const bounded = Kube.load({ kubeconfig: join(dir, 'config') }, {}, { maxTombstones: 50, tombstoneMs: 600_000 });
  try {
    const cache = bounded.cache<KObject>('pods', 'app=none'); // never started: observe/forget only
    for (let i = 0; i < 5000; i++) {
      cache.observe(obj(`o${i}`, `u${i}`));
      cache.forget(`o${i}`);
      assert.ok(cache.tombstoneCount <= 50, `at most 50 held (${cache.tombstoneCount} after ${i + 1} deletes)`);
    }
    assert.is(cache.tombstoneCount, 50);
    cache.observe(obj('late-new', 'u4999')); // an echo of the newest delete: still refused
    assert.is(cache.get('late-new'), undefined);
    cache.observe(obj('late-old', 'u0')); // the oldest was forgotten: taken (the watch's DELETED would remove it)
    assert.ok(cache.get('late-old'));
  } finally {
    bounded.close();
  }
});

test('~> tombstones expire after --watch-tombstone-ms: expired ones go at the next delete', async () => {
  const cache = kube.cache<KObject>('pods', 'app=none', { tombstoneMs: 1 });
  for (let i = 0; i < 100; i++) {
    cache.observe(obj(`e${i}`, `ue${i}`));
    cache.forget(`e${i}`);
  }
  await new Promise((r) => setTimeout(r, 20));
  cache.observe(obj('last', 'ulast'));
  cache.forget('last');
  assert.is(cache.tombstoneCount, 1, 'only the newest is held');
  const off = kube.cache<KObject>('pods', 'app=none', { maxTombstones: 0 });
  off.observe(obj('x', 'ux'));
  off.forget('x');
  assert.is(off.tombstoneCount, 0, '0 keeps none');
});

test('~> list failures (429/500) are retried with backoff until the cache syncs', async () => {
  const k = new Kube(kube.target, { retryBaseMs: 1, maxRetries: 3 });
  api.failNext = { status: 500, count: 12, pathContains: '/pods' }; // more than the client's own retries
  const cache = k.cache<KObject>('pods', 'app=mine', { backoffBaseMs: 5 });
  try {
    await cache.start();
    assert.ok(cache.synced);
    assert.is(api.failNext.count, 0);
    assert.ok(k.client.stats.retries >= 9);
  } finally {
    cache.stop();
    k.close();
  }
});

test.run();
