import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fetchBrokered } from '../../src/kube/brokered.js';

const serve = async (answer: (n: number, auth: string | undefined) => { status: number; body: unknown; retryAfter?: number }) => {
  let n = 0;
  const server = createServer((req, res) => {
    const a = answer(++n, req.headers.authorization);
    res.writeHead(a.status, { 'content-type': 'application/json', ...(a.retryAfter ? { 'retry-after': String(a.retryAfter) } : {}) });
    res.end(JSON.stringify(a.body));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => server.close(), count: () => n };
};

test('~> waits through 503s, presenting the token, then returns the credentials', async () => {
  const s = await serve((n, auth) => (n < 3 ? { status: 503, body: { message: 'not ready' }, retryAfter: 1 } : { status: 200, body: { namespace: 'kapi-job-x', token: `for ${auth}`, expirationTimestamp: '2030-01-01T00:00:00Z' } }));
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

test('~> a refusal (403) fails at once with the operator\'s reason', async () => {
  const s = await serve(() => ({ status: 403, body: { message: 'Pod ci/x is not a job Pod this operator manages' } }));
  try {
    await fetchBrokered(s.url, () => 't', { waitMs: 10_000 }).then(() => assert.unreachable(), (e: Error) => assert.match(e.message, /refused this job's credentials \(403\): Pod ci\/x is not a job Pod/));
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

test.run();
