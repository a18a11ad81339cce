/**
 * src/api/deadline.ts: every Docker request has an overall deadline (--request-deadline-ms) until
 * its response head; streams, a body being received and a stop's own `t` are exempt. The backend
 * here waits on the request's signal (src/cancel-scope.ts `requestSignal`), as the Kubernetes
 * client, the WebSocket dialer and start's wait do.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { requestSignal } from '../../src/cancel-scope.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { FakeBackend, FakeEvents, containerEvent } from '../helpers/fake-backend.js';
import { httpRequest, RawClient, parseResponses } from '../helpers/raw-client.js';
import { delay } from '../helpers/http.js';

const DEADLINE_MS = 300;

/** Waits `ms` (or for ever), unless the request's signal aborts first: then records why and rejects. */
function waitOnSignal(seen: unknown[], ms = Infinity): Promise<void> {
  const signal = requestSignal();
  return new Promise<void>((resolve, reject) => {
    const t = ms === Infinity ? undefined : setTimeout(resolve, ms);
    signal?.addEventListener(
      'abort',
      () => {
        if (t) clearTimeout(t);
        seen.push(signal.reason);
        reject(signal.reason);
      },
      { once: true },
    );
  });
}

class SlowBackend extends FakeBackend {
  aborts: unknown[] = [];
  stopMs = 0;
  bodyBytes = 0;
  hadSignal = 0;
  override async startContainer(): Promise<void> {
    if (requestSignal()) this.hadSignal++;
    await waitOnSignal(this.aborts);
  }
  override async stopContainer(): Promise<void> {
    await waitOnSignal(this.aborts, this.stopMs);
  }
  override async putContainerArchive(_n: string, ...rest: unknown[]): Promise<void> {
    for await (const c of rest[2] as AsyncIterable<Buffer>) this.bodyBytes += c.length;
  }
}

let srv: TestServer;
let none: TestServer;
const backend = new SlowBackend();
const events = new FakeEvents();
test.before(async () => {
  srv = await startServer({ backend, events, requestDeadlineMs: DEADLINE_MS });
  none = await startServer({ backend, requestDeadlineMs: 0 });
});
test.after(async () => {
  await srv.close();
  await none.close();
});

test('~> a request past --request-deadline-ms: 500 "context deadline exceeded" naming the option, its signal aborted', async () => {
  const before = backend.aborts.length;
  const r = await httpRequest(srv, 'POST', '/v1.45/containers/web/start');
  assert.is(r.status, 500);
  assert.is(r.headers['content-type'], 'application/json');
  const msg = JSON.parse(r.body.toString()).message as string;
  assert.match(msg, /^context deadline exceeded: /);
  assert.match(msg, `within ${DEADLINE_MS} ms (--request-deadline-ms)`);
  assert.is(backend.aborts.length, before + 1, 'the handler saw its signal aborted');
  assert.match(String((backend.aborts.at(-1) as Error).message), 'context deadline exceeded');
});

test('~> the connection stays usable after a deadline answer (keep-alive): the next request is answered', async () => {
  const c = await RawClient.connect({ path: srv.socketPath });
  await c.write(
    'POST /v1.45/containers/web/start HTTP/1.1\r\nHost: docker\r\n\r\nGET /_ping HTTP/1.1\r\nHost: docker\r\n\r\n',
  );
  const [a, b] = await c.waitResponses(2, 10_000);
  assert.is(a!.status, 500);
  assert.is(b!.status, 200);
  assert.is(b!.body.toString(), 'OK');
  c.destroy();
});

test('~> 0 turns the deadline off: the request waits until its client leaves, whose leaving aborts it', async () => {
  const before = backend.aborts.length;
  const hadSignal = backend.hadSignal;
  const c = await RawClient.connect({ path: none.socketPath });
  await c.write('POST /v1.45/containers/web/start HTTP/1.1\r\nHost: docker\r\n\r\n');
  await delay(DEADLINE_MS * 3);
  assert.is(c.data.length, 0, 'no answer: no deadline');
  assert.is(backend.aborts.length, before);
  assert.is(backend.hadSignal, hadSignal + 1, 'the handler runs with the client signal');
  c.destroy();
  const until = Date.now() + 10_000;
  while (backend.aborts.length === before && Date.now() < until) await delay(20);
  assert.is(backend.aborts.length, before + 1, "the client's leaving aborted the handler's signal");
  assert.match(String((backend.aborts.at(-1) as Error).message), 'the client went away');
});

test('~> a stream lives past the deadline: GET /events still delivers after it', async () => {
  const c = await RawClient.connect({ path: srv.socketPath });
  await c.write('GET /v1.45/events HTTP/1.1\r\nHost: docker\r\n\r\n');
  await c.waitForText('\r\n\r\n', 5000);
  await delay(DEADLINE_MS * 3);
  events.emit(containerEvent('start'));
  await c.waitForText('"Action":"start"', 5000);
  assert.match(c.text, /^HTTP\/1\.1 200 /);
  assert.not.match(c.text, 'deadline');
  c.destroy();
});

test("~> a stop's own t comes on top of the deadline; t=-1 (wait for ever) has none", async () => {
  backend.stopMs = DEADLINE_MS * 3;
  try {
    let r = await httpRequest(srv, 'POST', '/v1.45/containers/web/stop?t=10');
    assert.is(r.status, 204, r.body.toString());
    r = await httpRequest(srv, 'POST', '/v1.45/containers/web/stop?t=-1');
    assert.is(r.status, 204, r.body.toString());
    r = await httpRequest(srv, 'POST', '/v1.45/containers/web/stop?t=3000000');
    assert.is(r.status, 204, 'a t beyond what a timer can wait is no deadline (not one that fires at once)');
    r = await httpRequest(srv, 'POST', '/v1.45/containers/web/stop');
    assert.is(r.status, 500, 'without t the deadline holds');
  } finally {
    backend.stopMs = 0;
  }
});

test('~> a body still arriving is not cut: the deadline starts again once it has ended', async () => {
  const c = await RawClient.connect({ path: srv.socketPath });
  const part = Buffer.alloc(1000, 1);
  await c.write(
    'PUT /v1.45/containers/web/archive?path=/tmp HTTP/1.1\r\nHost: docker\r\nContent-Type: application/x-tar\r\n' +
      `Content-Length: ${part.length * 4}\r\n\r\n`,
  );
  for (let i = 0; i < 4; i++) {
    await c.write(part);
    await delay(DEADLINE_MS);
  }
  const [r] = await c.waitResponses(1, 10_000);
  assert.is(r!.status, 200, r!.body.toString());
  assert.is(backend.bodyBytes, part.length * 4);
  c.destroy();
});

test('~> the answer is Docker-shaped for the Go client: a JSON message, no chunking', async () => {
  const c = await RawClient.connect({ path: srv.socketPath });
  await c.write('POST /v1.45/containers/web/start HTTP/1.1\r\nHost: docker\r\nConnection: close\r\n\r\n');
  await c.waitEnd(10_000);
  const [r] = parseResponses(c.data, { ended: true }).responses;
  assert.is(r!.status, 500);
  assert.ok(r!.headers['content-length'], 'a Content-Length body');
  assert.ok(JSON.parse(r!.body.toString()).message);
});

test.run();
