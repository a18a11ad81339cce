/**
 * kube-sim watch and list over HTTP: event order, resourceVersion semantics, 410 ERROR events,
 * bookmarks, timeoutSeconds, selector-leaving DELETED, Table watches, WatchList, the drop/expire
 * faults, and limit/continue pagination.
 */
import { get as httpGet, type IncomingMessage } from 'node:http';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startSim, type SimHandle } from '../helpers/sim.js';
import { call, pod, watch } from './client.js';

let sim: SimHandle;
test.before(async () => {
  sim = await startSim({ tls: false, token: false, bookmarkIntervalMs: 100, watchHistorySize: 20 });
});
test.after(async () => {
  await sim.stop();
});

const NSP = '/api/v1/namespaces';
async function mkns(name: string) {
  const r = await call(sim, 'POST', NSP, { metadata: { name } });
  assert.is(r.status, 201);
  // The serviceaccounts controller runs after the write, as in a real cluster.
  for (let i = 0; i < 50 && (await call(sim, 'GET', `${NSP}/${name}/serviceaccounts/default`)).status !== 200; i++)
    await new Promise((r2) => setTimeout(r2, 10));
}
const cm = (name: string, labels: Record<string, string> = {}) => ({ metadata: { name, labels } });

test('~> watch without RV: synthetic ADDED for existing objects, then live ADDED/MODIFIED/DELETED in order', async () => {
  await mkns('w1');
  await call(sim, 'POST', `${NSP}/w1/secrets`, cm('a'));
  await call(sim, 'POST', `${NSP}/w1/secrets`, cm('b'));
  const w = await watch(sim, `${NSP}/w1/secrets?watch=true`);
  assert.is(w.status, 200);
  assert.is(w.headers['content-type'], 'application/json');
  assert.is(w.headers['transfer-encoding'], 'chunked');
  const first = [await w.next(), await w.next()];
  assert.equal(
    first.map((e) => `${e.type}:${e.object.metadata.name}`),
    ['ADDED:a', 'ADDED:b'],
  );
  assert.is(first[0].object.kind, 'Secret');
  await call(sim, 'POST', `${NSP}/w1/secrets`, cm('c'));
  await call(
    sim,
    'PATCH',
    `${NSP}/w1/secrets/a`,
    { data: { x: 'MQ==' } },
    { 'content-type': 'application/merge-patch+json' },
  );
  await call(sim, 'DELETE', `${NSP}/w1/secrets/b`);
  const live = [await w.next(), await w.next(), await w.next()];
  assert.equal(
    live.map((e) => `${e.type}:${e.object.metadata.name}`),
    ['ADDED:c', 'MODIFIED:a', 'DELETED:b'],
  );
  const rvs = live.map((e) => Number(e.object.metadata.resourceVersion));
  assert.ok(rvs[0]! < rvs[1]! && rvs[1]! < rvs[2]!, 'RVs increase');
  w.close();
});

test('~> watch from a resourceVersion: only later changes; legacy /watch/ path works too', async () => {
  await mkns('w2');
  await call(sim, 'POST', `${NSP}/w2/configmaps`, cm('a'));
  const list = await call(sim, 'GET', `${NSP}/w2/configmaps`);
  const rv = list.json.metadata.resourceVersion;
  await call(sim, 'POST', `${NSP}/w2/configmaps`, cm('later'));
  const w = await watch(sim, `${NSP}/w2/configmaps?watch=1&resourceVersion=${rv}`);
  const e = await w.next();
  assert.is(e.type, 'ADDED');
  assert.is(e.object.metadata.name, 'later', 'the replay starts after the RV');
  w.close();
  const legacy = await watch(sim, `/api/v1/watch/namespaces/w2/configmaps?resourceVersion=${rv}`);
  assert.is((await legacy.next()).object.metadata.name, 'later');
  legacy.close();
  const one = await watch(sim, `/api/v1/watch/namespaces/w2/configmaps/a`);
  const ev = await one.next();
  assert.equal([ev.type, ev.object.metadata.name], ['ADDED', 'a']);
  one.close();
});

test('~> too old resourceVersion: HTTP 200, one ERROR event with a 410 Expired Status, then the end', async () => {
  await mkns('w3');
  const start = (await call(sim, 'GET', `${NSP}/w3/configmaps`)).json.metadata.resourceVersion;
  for (let i = 0; i < 25; i++) await call(sim, 'POST', `${NSP}/w3/configmaps`, cm(`c${i}`));
  const w = await watch(sim, `${NSP}/w3/configmaps?watch=true&resourceVersion=${start}`);
  assert.is(w.status, 200);
  const e = await w.next();
  assert.is(e.type, 'ERROR');
  assert.is(e.object.kind, 'Status');
  assert.is(e.object.code, 410);
  assert.is(e.object.reason, 'Expired');
  assert.match(e.object.message, new RegExp(`^too old resource version: ${start} \\(\\d+\\)$`));
  assert.is(await w.ended, 'end');
  assert.is(await w.next(), undefined);
});

test('~> bookmarks with allowWatchBookmarks (none without), carrying the current RV', async () => {
  await mkns('w4');
  const w = await watch(sim, `${NSP}/w4/configmaps?watch=true&allowWatchBookmarks=true&resourceVersion=0`);
  let e = await w.next(1000);
  while (e.type !== 'BOOKMARK') e = await w.next(1000);
  assert.is(e.object.kind, 'ConfigMap');
  assert.is(e.object.apiVersion, 'v1');
  assert.match(e.object.metadata.resourceVersion, /^\d+$/);
  w.close();
  const plain = await watch(sim, `${NSP}/w4/configmaps?watch=true&timeoutSeconds=1`);
  const events: any[] = [];
  for (let x = await plain.next(3000); x; x = await plain.next(3000)) events.push(x);
  assert.not.ok(events.some((x) => x.type === 'BOOKMARK'));
});

test('~> timeoutSeconds ends the watch cleanly', async () => {
  const t0 = Date.now();
  const w = await watch(
    sim,
    `${NSP}/default/configmaps?watch=true&timeoutSeconds=1&resourceVersion=${(await call(sim, 'GET', '/api/v1/namespaces')).json.metadata.resourceVersion}`,
  );
  assert.is(await w.ended, 'end');
  const ms = Date.now() - t0;
  assert.ok(ms >= 900 && ms < 3000, `ended after ${ms} ms`);
});

test('~> label selector watch: leaving the selection is DELETED, entering is ADDED; field selector by name', async () => {
  await mkns('w5');
  await call(sim, 'POST', `${NSP}/w5/configmaps`, cm('x', { app: 'a' }));
  await call(sim, 'POST', `${NSP}/w5/configmaps`, cm('y', { app: 'b' }));
  const w = await watch(sim, `${NSP}/w5/configmaps?watch=true&labelSelector=app%3Da`);
  assert.equal([(await w.next()).object.metadata.name], ['x']);
  const mp = { 'content-type': 'application/merge-patch+json' };
  await call(sim, 'PATCH', `${NSP}/w5/configmaps/x`, { metadata: { labels: { app: 'b' } } }, mp);
  const left = await w.next();
  assert.is(left.type, 'DELETED');
  assert.is(left.object.metadata.labels.app, 'a', 'DELETED carries the last state that matched');
  await call(sim, 'PATCH', `${NSP}/w5/configmaps/y`, { metadata: { labels: { app: 'a' } } }, mp);
  const entered = await w.next();
  assert.equal([entered.type, entered.object.metadata.name], ['ADDED', 'y']);
  w.close();
  const f = await watch(sim, `${NSP}/w5/configmaps?watch=true&fieldSelector=metadata.name%3Dy`);
  const fe = await f.next();
  assert.equal([fe.type, fe.object.metadata.name], ['ADDED', 'y']);
  f.close();
  const bad = await call(sim, 'GET', `${NSP}/w5/configmaps?watch=true&fieldSelector=spec.nope%3D1`);
  assert.is(bad.status, 400);
});

test('~> Table watch: column definitions on the first event only', async () => {
  await mkns('w6');
  await call(sim, 'POST', `${NSP}/w6/pods`, pod('p1'));
  const w = await watch(sim, `${NSP}/w6/pods?watch=true`, {
    accept:
      'application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json',
  });
  const a = await w.next();
  assert.is(a.object.kind, 'Table');
  assert.is(a.object.columnDefinitions.length, 9);
  assert.is(a.object.rows[0].cells[0], 'p1');
  await call(sim, 'POST', `${NSP}/w6/pods`, pod('p2'));
  const b = await w.next();
  assert.is(b.type, 'ADDED');
  assert.is(b.object.columnDefinitions, null);
  assert.equal(b.object.rows[0].cells.slice(0, 3), ['p2', '0/1', 'Pending']);
  w.close();
});

test('~> WatchList: sendInitialEvents ends the initial ADDEDs with an initial-events-end bookmark', async () => {
  await mkns('w7');
  await call(sim, 'POST', `${NSP}/w7/configmaps`, cm('a'));
  const w = await watch(
    sim,
    `${NSP}/w7/configmaps?watch=true&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true`,
  );
  const names: string[] = [];
  let e = await w.next();
  while (e.type === 'ADDED') {
    names.push(e.object.metadata.name);
    e = await w.next();
  }
  assert.ok(names.includes('a'));
  assert.is(e.type, 'BOOKMARK');
  assert.is(e.object.metadata.annotations['k8s.io/initial-events-end'], 'true');
  w.close();
  const bad = await call(sim, 'GET', `${NSP}/w7/configmaps?watch=true&sendInitialEvents=true`);
  assert.is(bad.status, 422);
});

test('~> fault dropWatches: open watches are dropped; afterEvents drops new ones after N events', async () => {
  await mkns('w8');
  const w = await watch(
    sim,
    `${NSP}/w8/configmaps?watch=true&resourceVersion=${(await call(sim, 'GET', NSP)).json.metadata.resourceVersion}`,
  );
  sim.setFaults({ dropWatches: {} });
  assert.is(await w.ended, 'error');
  sim.setFaults({ dropWatches: { afterEvents: 2 } });
  for (const n of ['a', 'b', 'c']) await call(sim, 'POST', `${NSP}/w8/secrets`, cm(n));
  const w2 = await watch(sim, `${NSP}/w8/secrets?watch=true`);
  const got: string[] = [];
  for (let e = await w2.next(); e; e = await w2.next()) got.push(e.object.metadata.name);
  assert.is(got.length, 2);
  sim.clearFaults();
});

test('~> fault expireWatchesBefore: open watches end, resuming from an older RV gets 410, a relist works', async () => {
  await mkns('w9');
  const rv = (await call(sim, 'GET', `${NSP}/w9/configmaps`)).json.metadata.resourceVersion;
  const w = await watch(sim, `${NSP}/w9/configmaps?watch=true&resourceVersion=${rv}`);
  await call(sim, 'POST', `${NSP}/w9/configmaps`, cm('before'));
  assert.is((await w.next()).object.metadata.name, 'before');
  sim.setFaults({ expireWatchesBefore: 'now' });
  assert.is(await w.ended, 'end');
  const again = await watch(sim, `${NSP}/w9/configmaps?watch=true&resourceVersion=${rv}`);
  const e = await again.next();
  assert.is(e.type, 'ERROR');
  assert.is(e.object.code, 410);
  const relist = await call(sim, 'GET', `${NSP}/w9/configmaps`);
  const fresh = await watch(
    sim,
    `${NSP}/w9/configmaps?watch=true&resourceVersion=${relist.json.metadata.resourceVersion}`,
  );
  await call(sim, 'POST', `${NSP}/w9/configmaps`, cm('after'));
  assert.is((await fresh.next()).object.metadata.name, 'after');
  fresh.close();
  sim.clearFaults();
});

test('~> a watcher that does not read is closed once its buffer passes the limit (the cacher does the same)', async () => {
  const slow = await startSim({ tls: false, token: false, maxWatchBufferBytes: 256 * 1024 });
  try {
    const rv = (await call(slow, 'GET', '/api/v1/namespaces/default/configmaps')).json.metadata.resourceVersion;
    const res = await new Promise<IncomingMessage>((resolve) =>
      httpGet(`${slow.url}/api/v1/namespaces/default/configmaps?watch=true&resourceVersion=${rv}`, resolve),
    );
    res.pause(); // a reader that stops reading: the server's write buffer grows
    const big = 'x'.repeat(200 * 1024);
    const N = 60;
    for (let i = 0; i < N; i++)
      await call(slow, 'POST', '/api/v1/namespaces/default/configmaps', {
        metadata: { name: `big${i}` },
        data: { big },
      });
    let text = '';
    res.setEncoding('utf8');
    res.on('data', (d) => (text += d));
    res.resume();
    await new Promise((r) => res.on('end', r));
    const events = text
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l));
    assert.ok(events.length > 0, 'some events arrived');
    assert.ok(events.length < N, `the watch was closed before all ${N} events (got ${events.length})`);
    assert.ok(events.every((e) => e.type === 'ADDED'));
  } finally {
    await slow.stop();
  }
});

test('~> limit/continue: pages in key order, remainingItemCount, a consistent snapshot, bad token 400, expired 410', async () => {
  await mkns('w10');
  for (let i = 0; i < 5; i++) await call(sim, 'POST', `${NSP}/w10/secrets`, { metadata: { name: `s${i}` } });
  const p1 = await call(sim, 'GET', `${NSP}/w10/secrets?limit=2`);
  assert.equal(
    p1.json.items.map((i: any) => i.metadata.name),
    ['s0', 's1'],
  );
  assert.is(p1.json.metadata.remainingItemCount, 3);
  assert.ok(p1.json.metadata.continue);
  await call(sim, 'POST', `${NSP}/w10/secrets`, { metadata: { name: 's15' } });
  const p2 = await call(
    sim,
    'GET',
    `${NSP}/w10/secrets?limit=2&continue=${encodeURIComponent(p1.json.metadata.continue)}`,
  );
  assert.equal(
    p2.json.items.map((i: any) => i.metadata.name),
    ['s2', 's3'],
    'the snapshot does not show s15',
  );
  assert.is(p2.json.metadata.resourceVersion, p1.json.metadata.resourceVersion);
  const p3 = await call(
    sim,
    'GET',
    `${NSP}/w10/secrets?limit=2&continue=${encodeURIComponent(p2.json.metadata.continue)}`,
  );
  assert.equal(
    p3.json.items.map((i: any) => i.metadata.name),
    ['s4'],
  );
  assert.is(p3.json.metadata.continue, undefined);
  const bad = await call(sim, 'GET', `${NSP}/w10/secrets?limit=2&continue=garbage`);
  assert.is(bad.status, 400);
  const p4 = await call(sim, 'GET', `${NSP}/w10/secrets?limit=1`);
  await call(sim, 'POST', `${NSP}/w10/secrets`, { metadata: { name: 's16' } });
  sim.setFaults({ expireWatchesBefore: 'now' });
  const expired = await call(
    sim,
    'GET',
    `${NSP}/w10/secrets?limit=1&continue=${encodeURIComponent(p4.json.metadata.continue)}`,
  );
  assert.is(expired.status, 410);
  assert.is(expired.json.reason, 'Expired');
  assert.match(expired.json.message, /^The provided continue parameter is too old/);
  sim.clearFaults();
});

test.run();
