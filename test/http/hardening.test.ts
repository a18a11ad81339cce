/**
 * src/http hardening through a real server and raw bytes: conflicting Content-Length values and
 * Content-Length with Transfer-Encoding are 400 + close; a body that stops arriving while the
 * handler reads it is a 408 after bodyTimeoutMs (a handler that does not read, and a body held
 * back by backpressure, are not timed out); the shutdown signal reaches requests; unix sockets
 * get the configured mode; exposedPlaintext finds listeners others can reach.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { statSync } from 'node:fs';
import { startHttp, delay, type HttpTestServer } from '../helpers/http.js';
import { RawClient, rawExchange, parseResponses } from '../helpers/raw-client.js';
import { exposedPlaintext, isLoopbackHost, parseHost } from '../../src/http/index.js';
import { gidFromGroupFile, socketGid } from '../../src/http/unix-group.js';
import type { Request, Response } from '../../src/http/index.js';

const routes = new Map<string, (req: Request, res: Response) => void | Promise<void>>();
let srv: HttpTestServer;
test.before(async () => {
  srv = await startHttp((req, res) => (routes.get(req.path) ?? ((_q, r) => r.empty(404)))(req, res), {
    bodyTimeoutMs: 300,
    socketMode: 0o600,
  });
});
test.after(() => srv.close());

test('~> raw bytes: two different Content-Length values, and Content-Length with chunked, are 400 and the connection closes', async () => {
  let reached = 0;
  routes.set('/x', async (req, res) => {
    reached++;
    await req.json();
    res.empty(204);
  });
  for (const raw of [
    'POST /x HTTP/1.1\r\nHost: d\r\nContent-Type: application/json\r\nContent-Length: 2\r\nContent-Length: 20\r\n\r\n{}',
    'POST /x HTTP/1.1\r\nHost: d\r\nContent-Type: application/json\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n',
    'POST /x HTTP/1.1\r\nHost: d\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nContent-Length: 2\r\n\r\n{}',
  ]) {
    const c = await rawExchange(srv.tcp, raw, { end: false });
    const { responses } = parseResponses(c.data, { ended: true });
    assert.is(responses.length, 1, JSON.stringify(c.text));
    assert.is(responses[0]!.status, 400, JSON.stringify(c.text));
    assert.is(responses[0]!.headers['connection'], 'close');
  }
  assert.is(reached, 0, 'no handler saw those requests');
});

test("~> a body that stops arriving while the handler reads it: 408 + close after bodyTimeoutMs; the handler's read fails", async () => {
  let failure = '';
  routes.set('/slow', async (req, res) => {
    try {
      await req.json();
      res.empty(204);
    } catch (err) {
      failure = (err as Error).message;
    }
  });
  const c = await RawClient.connect(srv.tcp);
  await c.write('POST /slow HTTP/1.1\r\nHost: d\r\nContent-Type: application/json\r\nContent-Length: 10\r\n\r\n{"a"');
  await c.waitEnd(5000);
  const { responses } = parseResponses(c.data, { ended: true });
  assert.is(responses[0]!.status, 408);
  assert.match(responses[0]!.body.toString(), /no request body bytes for 300 ms/);
  assert.match(failure, /no request body bytes for 300 ms/);
});

test('~> a body that keeps moving is not timed out, nor is one the handler does not read yet', async () => {
  routes.set('/trickle', async (req, res) => {
    const v = await req.json<{ a: string }>();
    res.json(200, v);
  });
  const c = await RawClient.connect(srv.tcp);
  const body = '{"a":"' + 'x'.repeat(8) + '"}';
  await c.write(
    `POST /trickle HTTP/1.1\r\nHost: d\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n`,
  );
  for (const ch of body) {
    await c.write(ch);
    await delay(60); // 16 bytes over ~1 s, each gap well under 300 ms
  }
  await c.waitEnd(5000);
  assert.is(parseResponses(c.data, { ended: true }).responses[0]!.status, 200);

  routes.set('/later', async (req, res) => {
    await delay(700); // longer than bodyTimeoutMs before it starts reading
    res.json(200, await req.json());
  });
  const d = await RawClient.connect(srv.tcp);
  await d.write(
    'POST /later HTTP/1.1\r\nHost: d\r\nContent-Type: application/json\r\nContent-Length: 7\r\nConnection: close\r\n\r\n{"b":1}',
  );
  await d.waitEnd(5000);
  assert.is(parseResponses(d.data, { ended: true }).responses[0]!.status, 200);
});

test('~> unix sockets get the configured mode (here 0600)', () => {
  assert.is(statSync(srv.socketPath).mode & 0o777, 0o600);
});

test('~> socket group: gid lookup, numeric groups, the optional default, an explicit group that does not exist', () => {
  assert.is(gidFromGroupFile('root:x:0:\ndocker:x:998:alice\n', 'docker'), 998);
  assert.is(gidFromGroupFile('root:x:0:\n', 'docker'), undefined);
  assert.is(
    socketGid('1234', () => {}),
    1234,
  );
  const warned: string[] = [];
  assert.is(
    socketGid('docker', (m) => warned.push(m), '/nonexistent/group'),
    undefined,
  );
  assert.match(warned[0]!, /group "docker" does not exist/);
  assert.throws(
    () => socketGid('no-such-group-kapi', () => {}, '/nonexistent/group'),
    /group "no-such-group-kapi" \(--group\) does not exist/,
  );
});

test('~> exposure: loopback listeners are private; 0.0.0.0, ::, pod IPs and names are exposed unless TLS verifies clients', () => {
  for (const h of ['127.0.0.1', '127.1.2.3', '::1', 'localhost', '::ffff:127.0.0.1']) assert.ok(isLoopbackHost(h), h);
  for (const h of ['0.0.0.0', '::', '10.1.2.3', 'docker', '']) assert.not.ok(isLoopbackHost(h), h);
  const addrs = ['unix:///tmp/x.sock', 'tcp://127.0.0.1:2375', 'tcp://:2375', 'tcp://[::]:2376'].map(parseHost);
  assert.equal(
    exposedPlaintext(addrs, false).map((a) => (a.kind === 'tcp' ? a.host : a.path)),
    ['0.0.0.0', '::'],
  );
  assert.equal(exposedPlaintext(addrs, true), []);
});

test('~> the shutdown signal: requests see it abort when close() starts', async () => {
  const s2 = await startHttp(async (req, res) => {
    const out = res.stream(200, { 'Content-Type': 'text/plain' });
    out.write('open\n');
    req.shutdown.addEventListener('abort', () => out.end('bye\n'), { once: true });
  });
  const c = await RawClient.connect(s2.tcp);
  await c.write('GET /s HTTP/1.1\r\nHost: d\r\n\r\n');
  await c.waitForText('open');
  const closing = s2.close(10_000);
  await c.waitEnd(3000);
  assert.match(c.text, /bye\n\r\n0\r\n\r\n$/);
  await closing;
});

test.run();
