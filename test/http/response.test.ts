/** src/http/response.ts on the wire: heads, bodyless statuses, HEAD, HTTP/1.0 streams, header checks. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startHttp, type HttpTestServer } from '../helpers/http.js';
import { RawClient, rawExchange, parseResponses } from '../helpers/raw-client.js';
import { headerBlock, type Handler } from '../../src/http/index.js';

const routes = new Map<string, Handler>();
let srv: HttpTestServer;
test.before(async () => {
  srv = await startHttp((req, res) => routes.get(req.path)!(req, res));
});
test.after(() => srv.close());

const one = async (raw: string, head = false) => {
  const c = await rawExchange(srv.tcp, raw, { end: false });
  return parseResponses(c.data, { ended: true, head: head ? [0] : [] }).responses[0]!;
};

test('~> setHeader replaces case-insensitively; useHeaders comes first; invalid names and values are refused', async () => {
  const block = headerBlock([['Api-Version', '1.51']]);
  let err1 = '';
  let err2 = '';
  routes.set('/h', (_req, res) => {
    res.useHeaders(block);
    res.setHeader('X-A', '1');
    res.setHeader('x-a', '2');
    try {
      res.setHeader('Bad Name', 'x');
    } catch (e) {
      err1 = (e as Error).message;
    }
    try {
      res.setHeader('X-B', 'a\r\nInjected: yes');
    } catch (e) {
      err2 = (e as Error).message;
    }
    res.text(200, Buffer.from('buf'), 'application/octet-stream');
  });
  const r = await one('GET /h HTTP/1.1\r\nConnection: close\r\n\r\n');
  assert.is(r.names[0], 'Api-Version');
  assert.is(r.headers['x-a'], '2');
  assert.is(r.headers['injected'], undefined);
  assert.match(err1, /invalid header name/);
  assert.match(err2, /invalid value/);
  assert.is(r.body.toString(), 'buf');
  assert.is(r.headers['content-type'], 'application/octet-stream');
});

test('~> 204 and 304 carry no Content-Length and no body; 200 empty says Content-Length: 0', async () => {
  routes.set('/204', (_req, res) => res.empty(204));
  routes.set('/200', (_req, res) => res.empty(200));
  const c = await RawClient.connect(srv.unix);
  await c.write('POST /204 HTTP/1.1\r\n\r\nPOST /200 HTTP/1.1\r\n\r\n');
  const [a, b] = await c.waitResponses(2);
  assert.is(a!.status, 204);
  assert.is(a!.headers['content-length'], undefined);
  assert.is(b!.headers['content-length'], '0');
  c.destroy();
});

test('~> a HEAD request to a stream gets the head only and the connection is reusable', async () => {
  routes.set('/s', (_req, res) => {
    const w = res.stream(200, { 'Content-Type': 'application/json' });
    w.end('{"x":1}\n');
  });
  const c = await RawClient.connect(srv.unix);
  await c.write('HEAD /s HTTP/1.1\r\n\r\nGET /s HTTP/1.1\r\n\r\n');
  const rs = await c.waitResponses(2, 5000, { head: [0] });
  assert.is(rs[1]!.body.toString(), '{"x":1}\n');
  c.destroy();
});

test('~> HTTP/1.0: a stream is close-delimited (no chunking); keep-alive is answered in kind', async () => {
  routes.set('/s10', (_req, res) => {
    const w = res.stream(200, { 'Content-Type': 'text/plain' });
    w.write('a');
    w.end('b');
  });
  routes.set('/j10', (_req, res) => res.json(200, { ok: 1 }));
  const c = await rawExchange(srv.tcp, 'GET /s10 HTTP/1.0\r\n\r\n', { end: false });
  assert.not.match(c.text, /Transfer-Encoding/);
  assert.match(c.text, /Connection: close\r\n/);
  assert.ok(c.text.endsWith('\r\n\r\nab'));
  const k = await RawClient.connect(srv.tcp);
  await k.write('GET /j10 HTTP/1.0\r\nConnection: keep-alive\r\n\r\n');
  const [r] = await k.waitResponses(1);
  assert.is(r!.headers['connection'], 'keep-alive');
  k.destroy();
});

test('~> a second response on the same exchange is refused', async () => {
  let err = '';
  routes.set('/twice', (_req, res) => {
    res.json(200, {});
    try {
      res.json(200, {});
    } catch (e) {
      err = (e as Error).message;
    }
  });
  await one('GET /twice HTTP/1.1\r\nConnection: close\r\n\r\n');
  assert.match(err, /already written/);
});

test('~> json(): empty and whitespace bodies are undefined; bad JSON is 400 with the parser message; a declared length over the limit is refused unread', async () => {
  const seen: unknown[] = [];
  routes.set('/json', async (req, res) => {
    try {
      seen.push(await req.json(100));
      res.empty(204);
    } catch (e) {
      seen.push(`${(e as { category?: string }).category}: ${(e as Error).message}`);
      res.empty(400);
    }
  });
  await one('POST /json HTTP/1.1\r\nContent-Type: application/json\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
  await one(
    'POST /json HTTP/1.1\r\nContent-Type: application/json\r\nContent-Length: 3\r\nConnection: close\r\n\r\n \r\n',
  );
  await one(
    'POST /json HTTP/1.1\r\nContent-Type: application/json\r\nContent-Length: 5\r\nConnection: close\r\n\r\n{bad}',
  );
  const r = await one('POST /json HTTP/1.1\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n');
  assert.is(seen[0], undefined);
  assert.is(seen[1], undefined);
  assert.match(String(seen[2]), /^invalid: invalid JSON: /);
  assert.is(seen[3], 'too-large: request body is larger than the limit of 100 bytes');
  assert.is(r.headers['connection'], 'close');
});

test("~> json(): moby's CheckForJSON: a body needs Content-Type application/json (any case, with parameters); text/plain, none, or malformed is a 400 before reading", async () => {
  const seen: string[] = [];
  routes.set('/ct', async (req, res) => {
    try {
      seen.push(String(JSON.stringify(await req.json())));
    } catch (e) {
      seen.push(`${(e as { category?: string }).category}: ${(e as Error).message}`);
    }
    res.empty(204);
  });
  const post = (ct: string | undefined, body: string) =>
    one(
      `POST /ct HTTP/1.1\r\n${ct === undefined ? '' : `Content-Type: ${ct}\r\n`}Content-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`,
    );
  await post('application/json', '{"a":1}');
  await post('Application/JSON; charset=utf-8', '{"a":2}');
  await post('text/plain', '{"Image":"busybox"}');
  await post(undefined, '{"a":3}');
  await post('application', '{}');
  await post(undefined, '');
  await post('text/plain', '');
  assert.equal(seen, [
    '{"a":1}',
    '{"a":2}',
    "invalid: unsupported Content-Type header (text/plain): must be 'application/json'",
    'invalid: malformed Content-Type header (): mime: no media type',
    'invalid: malformed Content-Type header (application): mime: expected slash after first token',
    'undefined',
    'undefined',
  ]);
});

test('~> json(): an object key "__proto__" anywhere in the body is a 400; "constructor" and "prototype" are ordinary keys', async () => {
  const seen: string[] = [];
  routes.set('/proto', async (req, res) => {
    try {
      const v = await req.json<Record<string, unknown>>();
      seen.push(`ok ${Object.keys((v?.['Labels'] as object) ?? {}).join(',')}`);
    } catch (e) {
      seen.push(`${(e as { category?: string }).category}: ${(e as Error).message}`);
    }
    res.empty(204);
  });
  const post = (body: string) =>
    one(
      `POST /proto HTTP/1.1\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  await post('{"Labels":{"__proto__":{"x":"y"}}}');
  await post('{"HostConfig":[{"a":{"__proto__":1}}]}');
  await post('{"Labels":{"constructor":"c","prototype":"p"}}');
  assert.equal(seen, [
    'invalid: invalid JSON: the object key "__proto__" is not accepted',
    'invalid: invalid JSON: the object key "__proto__" is not accepted',
    'ok constructor,prototype',
  ]);
});

test.run();
