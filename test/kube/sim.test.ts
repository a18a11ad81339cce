/** src/kube against kube-sim over HTTPS with a bearer token: REST, retries, the watch cache. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startSim, type SimHandle } from '../helpers/sim.js';
import { Kube, KubeApiError, type CacheEvent, type KObject } from '../../src/kube/index.js';

let sim: SimHandle;
let kube: Kube;

test.before(async () => {
  sim = await startSim();
  kube = Kube.load({ kubeconfig: sim.kubeconfigPath }, { retryBaseMs: 5 });
});
test.after(async () => {
  kube.close();
  await sim.stop();
});

const until = async (cond: () => boolean, ms = 5000) => {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error('condition not reached');
    await new Promise((r) => setTimeout(r, 5));
  }
};
const cm = (name: string, labels: Record<string, string>, data: Record<string, string> = {}) => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name, labels },
  data,
});

test('~> TLS + token from the kubeconfig: version, create, get, merge patch, delete', async () => {
  assert.ok(sim.url.startsWith('https://'));
  const v = await kube.version();
  assert.ok(v.gitVersion.startsWith('v1.'));
  const created = await kube.client.create(kube.path('configmaps'), cm('k1', { t: 'rest' }, { a: '1' }));
  assert.ok(created.metadata.uid);
  const patched = await kube.client.mergePatch(kube.path('configmaps', 'k1'), {
    metadata: { annotations: { x: 'y' } },
    data: { a: null, b: '2' },
  });
  assert.equal(patched.data, { b: '2' });
  assert.is(patched.metadata.annotations.x, 'y');
  await kube.client.delete(kube.path('configmaps', 'k1'));
  try {
    await kube.client.get(kube.path('configmaps', 'k1'));
    assert.unreachable();
  } catch (e) {
    assert.instance(e, KubeApiError);
    assert.is((e as KubeApiError).status, 404);
    assert.is((e as KubeApiError).reason, 'NotFound');
  }
});

test('~> failRequests 429 and 500 are retried transparently', async () => {
  const before = kube.client.stats.retries;
  sim.setFaults({ failRequests: { status: 500, count: 2, pathContains: '/configmaps' } });
  await kube.client.create(kube.path('configmaps'), cm('k2', { t: 'retry' }));
  sim.setFaults({ failRequests: { status: 429, count: 1, pathContains: '/configmaps' } });
  const t0 = Date.now();
  await kube.client.get(kube.path('configmaps', 'k2'));
  assert.ok(Date.now() - t0 >= 900, 'Retry-After: 1 was honoured');
  assert.is(kube.client.stats.retries - before, 3);
  sim.clearFaults();
});

test('~> the cache follows live changes, survives dropped watches, and relists after 410', async () => {
  const cache = kube.cache<KObject>('configmaps', 'group=c', { backoffBaseMs: 10 });
  const events: CacheEvent<KObject>[] = [];
  await kube.client.create(kube.path('configmaps'), cm('c0', { group: 'c' }));
  cache.subscribe((e) => events.push(e));
  await cache.start();
  assert.equal(
    events.map((e) => [e.type, e.object.metadata.name, e.initial]),
    [['ADDED', 'c0', true]],
  );
  await kube.client.create(kube.path('configmaps'), cm('c1', { group: 'c' }));
  await until(() => !!cache.get('c1'));

  // A dropped watch resumes from its resourceVersion: no relist, no lost event.
  sim.setFaults({ dropWatches: {} });
  sim.clearFaults();
  await kube.client.create(kube.path('configmaps'), cm('c2', { group: 'c' }));
  await until(() => !!cache.get('c2'));
  assert.is(cache.stats.relists, 0);

  // Compaction: the next resume gets 410 Expired; the cache relists and reports the difference.
  const watchesBefore = cache.stats.watches;
  sim.setFaults({ expireWatchesBefore: 'now' });
  await kube.client.delete(kube.path('configmaps', 'c0'));
  await kube.client.create(kube.path('configmaps'), cm('c3', { group: 'c' }));
  await until(() => !cache.get('c0') && !!cache.get('c3'));
  await until(() => cache.stats.watches > watchesBefore);
  assert.equal(
    cache
      .list()
      .map((o) => o.metadata.name)
      .sort(),
    ['c1', 'c2', 'c3'],
  );
  const names = events.filter((e) => !e.initial).map((e) => `${e.type}:${e.object.metadata.name}`);
  assert.ok(names.includes('DELETED:c0') && names.includes('ADDED:c3'), names.join(','));
  sim.clearFaults();
  cache.stop();
});

test('~> 410 on resume forces a relist (compaction past the cache resourceVersion)', async () => {
  const cache = kube.cache<KObject>('configmaps', 'group=e', { backoffBaseMs: 50 });
  await cache.start();
  await until(() => cache.stats.watches >= 1);
  // Other objects move the store's RV past the cache's; then compact at "now": the cache's
  // resume gets 410 Expired and must relist (and find e1, created meanwhile).
  await kube.client.create(kube.path('configmaps'), cm('other', { group: 'x' }));
  sim.setFaults({ expireWatchesBefore: 'now' });
  await kube.client.create(kube.path('configmaps'), cm('e1', { group: 'e' }));
  await until(() => cache.stats.relists === 1 && !!cache.get('e1'));
  sim.clearFaults();
  cache.stop();
});

test.run();
