import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fetchBrokered, keepFresh, podSecurityLabels, type BrokeredCredentials } from '../../src/kube/brokered.js';

const serve = async (
  answer: (n: number, auth: string | undefined) => { status: number; body: unknown; retryAfter?: number },
) => {
  let n = 0;
  const server = createServer((req, res) => {
    const a = answer(++n, req.headers.authorization);
    res.writeHead(a.status, {
      'content-type': 'application/json',
      ...(a.retryAfter ? { 'retry-after': String(a.retryAfter) } : {}),
    });
    res.end(JSON.stringify(a.body));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => server.close(),
    count: () => n,
  };
};

test('~> waits through 503s, presenting the token, then returns the credentials', async () => {
  const s = await serve((n, auth) =>
    n < 3
      ? { status: 503, body: { message: 'not ready' }, retryAfter: 1 }
      : {
          status: 200,
          body: { namespace: 'kapi-job-x', token: `for ${auth}`, expirationTimestamp: '2030-01-01T00:00:00Z' },
        },
  );
  try {
    const waits: string[] = [];
    const c = await fetchBrokered(s.url, () => 'job-token', { waitMs: 10_000, onWait: (w) => waits.push(w) });
    assert.equal([c.namespace, c.token], ['kapi-job-x', 'for Bearer job-token']);
    assert.is(waits.length, 2);
    assert.match(waits[0]!, /503: not ready/);
  } finally {
    s.close();
  }
});

test('~> keepFresh: the token file is rewritten before expiry, and the new answer (a relabelled level) is handed on', async () => {
  const tokenFile = join(mkdtempSync(join(tmpdir(), 'brokered-')), 'token');
  const first: BrokeredCredentials = {
    namespace: 'kapi-job-x',
    token: 't1',
    expirationTimestamp: new Date(Date.now() + 1000).toISOString(), // refreshed after the 1 s floor
    podSecurityEnforce: 'baseline',
  };
  const next = { ...first, token: 't2', expirationTimestamp: '2030-01-01T00:00:00Z', podSecurityEnforce: 'restricted' };
  let current = first;
  const fresh = new Promise<void>((resolve) => {
    const stop = keepFresh(
      first,
      tokenFile,
      async () => next,
      (err) => assert.unreachable(err.message),
      (n) => {
        current = n;
        stop();
        resolve();
      },
    );
  });
  // keepFresh's timer is unref'd (it must not keep kuber-api alive): this one keeps the test running.
  let guard: NodeJS.Timeout | undefined;
  await Promise.race([
    fresh,
    new Promise((_, reject) => (guard = setTimeout(() => reject(new Error('no refresh')), 10_000))),
  ]);
  clearTimeout(guard);
  assert.is(readFileSync(tokenFile, 'utf8'), 't2');
  assert.equal(podSecurityLabels(current), { 'pod-security.kubernetes.io/enforce': 'restricted' });
});

test("~> a refusal (403) fails at once with the operator's reason", async () => {
  const s = await serve(() => ({ status: 403, body: { message: 'Pod ci/x is not a job Pod this operator manages' } }));
  try {
    await fetchBrokered(s.url, () => 't', { waitMs: 10_000 }).then(
      () => assert.unreachable(),
      (e: Error) => assert.match(e.message, /refused this job's credentials \(403\): Pod ci\/x is not a job Pod/),
    );
    assert.is(s.count(), 1);
  } finally {
    s.close();
  }
});

test('~> an operator that never answers: a bounded wait, then a message naming --operator-wait-ms', async () => {
  await fetchBrokered('http://127.0.0.1:1', () => 't', { waitMs: 300 }).then(
    () => assert.unreachable(),
    (e: Error) => assert.match(e.message, /gave no credentials within 300 ms \(--operator-wait-ms\)/),
  );
});

test("~> https: the operator's certificate is checked against --operator-ca-file", async (ctx) => {
  const { execFileSync } = await import('node:child_process');
  const { mkdtempSync, readFileSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const { createServer: createTls } = await import('node:https');
  const dir = mkdtempSync(join(tmpdir(), 'kapi-broker-tls-'));
  try {
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-keyout',
        'key.pem',
        '-out',
        'cert.pem',
        '-days',
        '2',
        '-subj',
        '/CN=127.0.0.1',
        '-addext',
        'subjectAltName=IP:127.0.0.1',
      ],
      { cwd: dir, stdio: 'ignore' },
    );
  } catch {
    console.log('SKIP https broker test: no openssl');
    return;
  }
  const server = createTls(
    { cert: readFileSync(join(dir, 'cert.pem')), key: readFileSync(join(dir, 'key.pem')) },
    (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ namespace: 'kapi-job-tls', token: 't', expirationTimestamp: '2030-01-01T00:00:00Z' }));
    },
  );
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  try {
    assert.is(
      (await fetchBrokered(url, () => 't', { waitMs: 5_000, caFile: join(dir, 'cert.pem') })).namespace,
      'kapi-job-tls',
    );
    await fetchBrokered(url, () => 't', { waitMs: 300 }).then(
      () => assert.unreachable(),
      (e: Error) => assert.match(e.message, /self-signed|certificate/),
    );
  } finally {
    server.close();
  }
  void ctx;
});

test.run();
