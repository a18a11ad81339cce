/**
 * src/kube/informer.ts (client-node's ListWatch with restarts) against the fake apiserver: the
 * informer behaviours the operator relies on — initial list then live events, a dropped watch
 * resumed without a relist, a 410 relisted with the difference reported as events, failed lists
 * and failed watches restarted with backoff until it syncs / resumes.
 * (The fake apiserver's objects say namespace `default`, whatever the path: the informer is asked there.)
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startFakeApiserver, type FakeApiserver } from './fake-apiserver.js';
import { Kube, type KObject } from '../../src/kube/index.js';
import { Informer, type InformerEvent } from '../../src/kube/informer.js';
import { childLogger } from '../../src/log.js';

let api: FakeApiserver;
let kube: Kube;
const live: Informer<KObject>[] = [];

test.before(async () => {
  api = await startFakeApiserver();
  const dir = mkdtempSync(join(tmpdir(), 'kube-informer-'));
  writeFileSync(join(dir, 'config'), api.kubeconfig);
  kube = Kube.load({ kubeconfig: join(dir, 'config') });
});
test.after(async () => {
  for (const i of live) i.stop();
  kube.close();
  await api.close();
});

const until = async (cond: () => boolean, what: string, ms = 5000) => {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error(`not reached: ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
};
const informer = (selector: string, k = kube) => {
  const i = new Informer<KObject>(
    k.target.kc,
    k.client,
    { path: '/api/v1/namespaces/default/pods', labelSelector: selector, backoffBaseMs: 10, backoffMaxMs: 100 },
    childLogger({ component: 'informer-test' }),
  );
  const events: string[] = [];
  i.subscribe((e: InformerEvent<KObject>) => events.push(`${e.type}:${e.object.metadata.name}`));
  live.push(i);
  return { i, events };
};

test('~> list then watch: initial objects, then live events, label-selected', async () => {
  api.put('a', { app: 'mine' });
  api.put('other', { app: 'theirs' });
  const { i, events } = informer('app=mine');
  await i.start();
  assert.equal(
    i.list().map((o) => o.metadata.name),
    ['a'],
  );
  assert.equal(events, ['ADDED:a']);
  await until(() => api.openWatches() > 0, 'watching');
  api.put('b', { app: 'mine' });
  api.put('a', { app: 'mine' }, { spec: { x: 1 } });
  api.remove('b');
  await until(() => events.length === 4, 'four events');
  assert.equal(events.slice(1), ['ADDED:b', 'MODIFIED:a', 'DELETED:b']);
  assert.equal(i.get('a')?.['spec'], { x: 1 });
  assert.equal([i.stats.lists, i.stats.relists], [1, 0]);
  i.stop();
});

test('~> a dropped watch resumes from the last resourceVersion without relisting', async () => {
  const { i, events } = informer('app=drop');
  await i.start();
  await until(() => api.openWatches() > 0, 'watching');
  api.dropWatches();
  api.put('d1', { app: 'drop' }); // while no watch is open: delivered on resume
  await until(() => events.length === 1, 'd1 seen');
  assert.equal(events, ['ADDED:d1']);
  assert.is(i.stats.lists, 1);
  assert.ok(i.stats.watches >= 2, `watches ${i.stats.watches}`);
  i.stop();
});

test('~> 410 Expired relists and reports what changed meanwhile as events', async () => {
  api.put('e1', { app: 'exp' });
  api.put('e2', { app: 'exp' });
  const { i, events } = informer('app=exp');
  await i.start();
  await until(() => api.openWatches() > 0, 'watching');
  events.length = 0;
  api.expireBefore = api.rv + 1000;
  api.dropWatches();
  api.remove('e1');
  api.put('e3', { app: 'exp' });
  api.rv += 1000;
  await until(() => i.stats.relists === 1 && events.length >= 2, 'relisted');
  assert.equal(events.sort(), ['ADDED:e3', 'DELETED:e1']);
  assert.equal(
    i
      .list()
      .map((o) => o.metadata.name)
      .sort(),
    ['e2', 'e3'],
  );
  api.expireBefore = 0;
  i.stop();
});

test('~> list failures (500, beyond the client retries) restart the informer with backoff until it syncs', async () => {
  const k = new Kube(kube.target, { retryBaseMs: 1, maxRetries: 2 });
  api.put('f1', { app: 'fail' });
  api.failNext = { status: 500, count: 8, pathContains: '/pods' };
  const { i, events } = informer('app=fail', k);
  try {
    await i.start();
    assert.equal(events, ['ADDED:f1']);
    assert.is(api.failNext.count, 0);
    assert.ok(i.stats.errors >= 2, `errors ${i.stats.errors}`);
  } finally {
    i.stop();
    k.close();
  }
});

test('~> refused watches (500) restart with backoff and resume without a relist', async () => {
  const { i, events } = informer('app=wfail');
  await i.start();
  await until(() => api.openWatches() > 0, 'watching');
  api.failNext = { status: 500, count: 3, pathContains: '/pods' };
  api.dropWatches();
  api.put('w1', { app: 'wfail' });
  await until(() => events.length === 1, 'w1 seen');
  assert.equal([api.failNext.count, i.stats.lists], [0, 1]);
  assert.ok(i.stats.errors >= 3, `errors ${i.stats.errors}`);
  i.stop();
});

test.run();
