/**
 * src/kube/preflight.ts against the fake apiserver: every needed resource listed once; 403 and
 * 401 fail at once (the 403 names the Role rule); a 503 or an unreachable server is retried
 * until the signal aborts, then the last error is the message.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeClient, loadKubeTarget } from '../../src/kube/index.js';
import { preflight, PreflightError, NEEDED, rbacRule } from '../../src/kube/preflight.js';
import { embeddedSimArgs } from '../../src/kube/embedded-sim.js';
import { startFakeApiserver, type FakeApiserver } from './fake-apiserver.js';

let api: FakeApiserver;
let dir: string;
let cfg: string;
test.before(async () => {
  api = await startFakeApiserver();
  dir = mkdtempSync(join(tmpdir(), 'kapi-preflight-'));
  cfg = join(dir, 'config');
  writeFileSync(cfg, api.kubeconfig);
});
test.after(async () => {
  await api.close();
  rmSync(dir, { recursive: true, force: true });
});

const client = () => new KubeClient(loadKubeTarget({ kubeconfig: cfg }), { retryBaseMs: 5 });

test('~> lists every needed resource once, then resolves', async () => {
  api.seen.length = 0;
  await preflight(client(), 'fakens');
  assert.equal(
    api.seen,
    NEEDED.map((n) => `GET /api/v1/namespaces/fakens/${n.resource}`),
  );
});

test('~> 403 fails at once, naming the resource and the Role rule; 401 names the credentials', async () => {
  api.failNext = { status: 403, count: 1, pathContains: '/configmaps' };
  const err = await preflight(client(), 'fakens').then(
    () => undefined,
    (e: Error) => e,
  );
  assert.instance(err, PreflightError);
  assert.match(err!.message, /forbids kuber-api to list configmaps in namespace "fakens" \(403: injected failure\)/);
  assert.ok(err!.message.includes(rbacRule('configmaps', NEEDED.find((n) => n.resource === 'configmaps')!.verbs)));
  assert.ok(
    err!.message.includes('{apiGroups: [""], resources: ["configmaps"], verbs: ["get", "list", "watch", "create"'),
  );
  api.failNext = { status: 401, count: 2 };
  const e401 = await preflight(client(), 'fakens').then(
    () => undefined,
    (e: Error) => e,
  );
  assert.match(e401!.message, /refused kuber-api's credentials \(401 Unauthorized/);
  api.failNext = { status: 0, count: 0 };
});

test('~> 503 is retried until it passes; an unreachable server until the signal aborts, with the last error', async () => {
  api.failNext = { status: 503, count: 3 };
  const retries: string[] = [];
  await preflight(client(), 'fakens', { onRetry: (e) => retries.push(e.message) });
  assert.is(retries.length, 3);
  const dead = new KubeClient({ ...loadKubeTarget({ kubeconfig: cfg }), server: 'http://127.0.0.1:1' });
  const abort = new AbortController();
  setTimeout(() => abort.abort(), 300);
  const err = await preflight(dead, 'fakens', { signal: abort.signal }).then(
    () => undefined,
    (e: Error) => e,
  );
  assert.match(err!.message, /^cannot reach the Kubernetes API at http:\/\/127\.0\.0\.1:1: .*ECONNREFUSED/);
});

test('~> the embedded kube-sim installs packages only with --install-prereqs', () => {
  assert.not.ok(embeddedSimArgs('/s').includes('--install-prereqs'));
  assert.ok(embeddedSimArgs('/s', { installPrereqs: true }).includes('--install-prereqs'));
  assert.ok(embeddedSimArgs('/s').includes('--exit-with-stdin'));
});

test.run();
