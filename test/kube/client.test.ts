import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startFakeApiserver, type FakeApiserver } from './fake-apiserver.js';
import {
  loadKubeTarget,
  findKubeconfig,
  clusterConfigured,
  KubeClient,
  KubeApiError,
  parseRetryAfter,
} from '../../src/kube/index.js';
import { idempotent, isAmbiguous } from '../../src/kube/client.js';
import { detached, withRequestSignal } from '../../src/cancel-scope.js';

let api: FakeApiserver;
let dir: string;
let cfg: string;

test.before(async () => {
  api = await startFakeApiserver();
  dir = mkdtempSync(join(tmpdir(), 'kube-client-'));
  cfg = join(dir, 'config');
  writeFileSync(cfg, api.kubeconfig);
});
test.after(async () => api.close());

test('~> the kubeconfig is found by flag, then KUBECONFIG, then ~/.kube/config', () => {
  assert.is(findKubeconfig({ kubeconfig: '/x/y', env: {} }), '/x/y');
  assert.is(findKubeconfig({ env: { KUBECONFIG: cfg, HOME: '/nonexistent' } }), cfg);
  const home = mkdtempSync(join(tmpdir(), 'home-'));
  assert.is(findKubeconfig({ env: { HOME: home } }), undefined);
  assert.not.ok(clusterConfigured({ env: { HOME: home }, serviceAccountDir: join(home, 'sa') }));
  mkdirSync(join(home, '.kube'));
  writeFileSync(join(home, '.kube', 'config'), api.kubeconfig);
  assert.is(findKubeconfig({ env: { HOME: home } }), join(home, '.kube', 'config'));
});

test('~> namespace: flag, then the context, then default; --context selects the context', () => {
  assert.is(loadKubeTarget({ kubeconfig: cfg }).namespace, 'fakens');
  assert.is(loadKubeTarget({ kubeconfig: cfg, namespace: 'other' }).namespace, 'other');
  const t = loadKubeTarget({ kubeconfig: cfg, context: 'fake' });
  assert.is(t.server, api.url);
  assert.is(t.source, 'kubeconfig');
  assert.throws(() => loadKubeTarget({ kubeconfig: cfg, context: 'nope' }), /context "nope"/);
  assert.throws(() => loadKubeTarget({ kubeconfig: join(dir, 'missing') }), /does not exist/);
});

test('~> in-cluster: service account token, CA and namespace file', () => {
  const root = mkdtempSync(join(tmpdir(), 'incluster-'));
  const sa = join(root, 'var/run/secrets/kubernetes.io/serviceaccount');
  mkdirSync(sa, { recursive: true });
  writeFileSync(join(sa, 'token'), 'tok');
  writeFileSync(join(sa, 'namespace'), 'ci-job-42\n');
  writeFileSync(join(sa, 'ca.crt'), '');
  const env = { KUBERNETES_SERVICE_HOST: '10.0.0.1', KUBERNETES_SERVICE_PORT: '443', HOME: root };
  const saved = { ...process.env };
  Object.assign(process.env, env); // client-node's loadFromCluster reads process.env
  try {
    const t = loadKubeTarget({ env, serviceAccountDir: sa });
    assert.is(t.source, 'in-cluster');
    assert.is(t.namespace, 'ci-job-42');
    assert.is(t.server, 'https://10.0.0.1:443');
  } finally {
    process.env.KUBERNETES_SERVICE_HOST = saved.KUBERNETES_SERVICE_HOST;
    process.env.KUBERNETES_SERVICE_PORT = saved.KUBERNETES_SERVICE_PORT;
    if (saved.KUBERNETES_SERVICE_HOST === undefined) delete process.env.KUBERNETES_SERVICE_HOST;
    if (saved.KUBERNETES_SERVICE_PORT === undefined) delete process.env.KUBERNETES_SERVICE_PORT;
  }
});

test('~> REST calls carry the bearer token and parse JSON', async () => {
  const c = new KubeClient(loadKubeTarget({ kubeconfig: cfg }));
  const v = await c.get('/version');
  assert.is(v.gitVersion, 'v1.33.0-fake');
  const opts = await c.connectionOptions();
  assert.is(opts.headers.Authorization, 'Bearer fake-token');
  const echoed = await c.create('/api/v1/namespaces/x/pods', { a: 1 });
  assert.equal(echoed, { echoed: { a: 1 }, method: 'POST' });
  c.close();
});

test('~> 429 honours Retry-After and 5xx backs off, then the call succeeds', async () => {
  const c = new KubeClient(loadKubeTarget({ kubeconfig: cfg }), { retryBaseMs: 10 });
  api.failNext = { status: 429, count: 2, retryAfter: '0' };
  const t0 = Date.now();
  assert.is((await c.get('/version')).major, '1');
  assert.is(c.stats.retries, 2);
  api.failNext = { status: 500, count: 3 };
  assert.is((await c.get('/version')).major, '1');
  assert.is(c.stats.retries, 5);
  assert.ok(Date.now() - t0 < 5000);
  c.close();
});

test('~> retries are bounded: the last Status error surfaces', async () => {
  const c = new KubeClient(loadKubeTarget({ kubeconfig: cfg }), { retryBaseMs: 1, maxRetries: 2 });
  api.failNext = { status: 503, count: 10 };
  try {
    await c.get('/version');
    assert.unreachable('should throw');
  } catch (err) {
    assert.instance(err, KubeApiError);
    assert.is((err as KubeApiError).status, 503);
    assert.is((err as KubeApiError).message, 'injected failure');
  }
  api.failNext = { status: 0, count: 0 };
  c.close();
});

test('~> a refused connection is retried, then reported', async () => {
  const t = loadKubeTarget({ kubeconfig: cfg });
  const c = new KubeClient({ ...t, server: 'http://127.0.0.1:1' }, { retryBaseMs: 1, maxRetries: 2 });
  try {
    await c.get('/version');
    assert.unreachable('should throw');
  } catch (err) {
    assert.is((err as KubeApiError).status, 0);
    assert.match((err as Error).message, /ECONNREFUSED/);
    assert.is(c.stats.retries, 2);
  }
});

test('~> Retry-After accepts seconds and HTTP dates', () => {
  assert.is(parseRetryAfter('2'), 2000);
  assert.is(parseRetryAfter(undefined), undefined);
  const d = parseRetryAfter(new Date(Date.now() + 3000).toUTCString())!;
  assert.ok(d > 1000 && d <= 3000);
});

test('only idempotent requests are retried blindly: reads, DELETE, unconditional PUT and merge patch', () => {
  assert.ok(idempotent('GET', undefined, undefined));
  assert.ok(idempotent('DELETE', 'application/json', { kind: 'DeleteOptions' }));
  assert.ok(idempotent('PATCH', 'application/merge-patch+json', { metadata: { labels: { a: 'b' } } }));
  assert.not.ok(
    idempotent('PATCH', 'application/merge-patch+json', { metadata: { resourceVersion: '7', annotations: {} } }),
  );
  assert.not.ok(idempotent('PATCH', 'application/json-patch+json', [{ op: 'add', path: '/x', value: 1 }]));
  assert.not.ok(idempotent('POST', 'application/json', { metadata: { name: 'x' } }));
});

test('~> a 5xx on a POST or a conditional PATCH is not sent again: the error says it may have happened', async () => {
  const c = new KubeClient(loadKubeTarget({ kubeconfig: cfg }), { retryBaseMs: 1 });
  for (const call of [
    () => c.request('POST', '/api/v1/namespaces/x/events', { body: { metadata: { generateName: 'e-' } } }),
    () => c.mergePatch('/api/v1/namespaces/x/configmaps/c', { metadata: { resourceVersion: '3' } }),
  ]) {
    api.failNext = { status: 500, count: 5 };
    const err = await call().then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.instance(err, KubeApiError);
    assert.ok(isAmbiguous(err));
    assert.is(api.failNext.count, 4, 'sent once');
  }
  // 429 is refused before anything runs: retried for every verb.
  api.failNext = { status: 429, count: 2, retryAfter: '0' };
  assert.equal(await c.request('POST', '/api/v1/namespaces/x/pods', { body: { a: 1 } }), {
    echoed: { a: 1 },
    method: 'POST',
  });
  api.failNext = { status: 0, count: 0 };
  c.close();
});

test('~> an aborted signal cancels a call and its retries', async () => {
  const c = new KubeClient(loadKubeTarget({ kubeconfig: cfg }), { retryBaseMs: 10_000 });
  api.failNext = { status: 503, count: 5 };
  const ac = new AbortController();
  const p = c.get('/version', undefined, ac.signal).then(
    () => undefined,
    (e: KubeApiError) => e,
  );
  setTimeout(() => ac.abort(), 50);
  const err = await p;
  assert.is(err?.reason, 'Aborted');
  api.failNext = { status: 0, count: 0 };
  c.close();
});

test('~> inside a Docker request, a call takes its signal: a read on the wire is cut, a write on the wire is let finish', async () => {
  const c = new KubeClient(loadKubeTarget({ kubeconfig: cfg }));
  api.delayMs = 300;
  try {
    const ac = new AbortController();
    const read = withRequestSignal(ac.signal, () => c.get('/version')).then(
      () => undefined,
      (e: KubeApiError) => e,
    );
    const write = withRequestSignal(ac.signal, () => c.create('/api/v1/namespaces/x/pods', { a: 1 }));
    setTimeout(() => ac.abort(), 50);
    assert.is((await read)?.reason, 'Aborted');
    // The create may have committed: its answer is awaited, so its caller knows (never an ambiguous half).
    assert.equal(await write, { echoed: { a: 1 }, method: 'POST' });
    // Once the client is gone, nothing new starts in its name...
    const after = await withRequestSignal(ac.signal, () => c.create('/api/v1/namespaces/x/pods', { b: 1 })).then(
      () => undefined,
      (e: KubeApiError) => e,
    );
    assert.is(after?.reason, 'Aborted');
    // ...but shared or cleanup work run detached does.
    assert.is((await withRequestSignal(ac.signal, () => detached(() => c.get('/version')))).major, '1');
  } finally {
    api.delayMs = 0;
    c.close();
  }
});

test('~> work a handler set going answers to its signal only while the handler runs', async () => {
  const c = new KubeClient(loadKubeTarget({ kubeconfig: cfg }));
  const ac = new AbortController();
  let later!: Promise<{ major: string }>;
  // The handler starts a timer (a listener, a watch...) and returns; its client leaves afterwards.
  await withRequestSignal(ac.signal, async () => {
    later = new Promise((resolve, reject) => setTimeout(() => c.get('/version').then(resolve, reject), 50));
  });
  ac.abort();
  assert.is((await later).major, '1', 'not cancelled by a request that is over');
  c.close();
});

test('~> inside a Docker request whose client left, no retry is sent', async () => {
  const c = new KubeClient(loadKubeTarget({ kubeconfig: cfg }), { retryBaseMs: 200, retryMaxMs: 200 });
  api.failNext = { status: 503, count: 100 };
  const before = api.seen.length;
  const ac = new AbortController();
  const p = withRequestSignal(ac.signal, () => c.request('DELETE', '/api/v1/namespaces/x/pods/p')).then(
    () => undefined,
    (e: KubeApiError) => e,
  );
  setTimeout(() => ac.abort(), 50); // during the first backoff
  assert.is((await p)?.reason, 'Aborted');
  await new Promise((r) => setTimeout(r, 400)); // past when a retry would have gone out
  assert.is(api.seen.length - before, 1, api.seen.slice(before).join(', '));
  api.failNext = { status: 0, count: 0 };
  c.close();
});

test('~> a call and its retries end by --kube-call-deadline-ms: no retry starts past it', async () => {
  const c = new KubeClient(loadKubeTarget({ kubeconfig: cfg }), {
    retryBaseMs: 60_000,
    retryMaxMs: 60_000,
    maxRetries: 100,
    callDeadlineMs: 50,
  });
  api.failNext = { status: 503, count: 100 };
  const err = await c.get('/version').then(
    () => undefined,
    (e: KubeApiError) => e,
  );
  assert.is(err?.status, 503);
  assert.ok(c.stats.retries <= 2, `retries: ${c.stats.retries}`);
  api.failNext = { status: 0, count: 0 };
  c.close();
});

test.run();
