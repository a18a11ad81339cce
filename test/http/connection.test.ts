/**
 * src/http/connection.ts over real sockets with raw bytes: keep-alive, pipelining, streamed
 * bodies, hijack (upgrade and 200 raw-stream), half-close, limits and timeouts.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { startHttp, delay, type HttpTestServer } from '../helpers/http.js';
import { RawClient, parseResponses, rawExchange } from '../helpers/raw-client.js';
import type { Handler, Request, Response } from '../../src/http/index.js';

/** A server whose handler is chosen per test by the request path. */
const routes = new Map<string, Handler>();
let srv: HttpTestServer;

const echo: Handler = async (req, res) => {
  const body = await req.json().catch((e) => ({ error: (e as Error).message }));
  res.json(200, { method: req.method, url: req.url, body: body ?? null });
};

test.before(async () => {
  srv = await startHttp(
    async (req, res) => {
      const h = routes.get(req.path) ?? echo;
      await h(req, res);
    },
    { maxHeaderBytes: 4096, maxBodyBytes: 64 * 1024, headerTimeoutMs: 300, idleTimeoutMs: 0, maxConnections: 1000 },
  );
});
test.after(async () => {
  await srv.close();
});

const GET = (path: string, extra = '') => `GET ${path} HTTP/1.1\r\nHost: x\r\n${extra}\r\n`;
const POSTJ = (path: string, body: string, extra = '') =>
  `POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n${extra}\r\n${body}`;

test('~> keep-alive: several requests on one connection', async () => {
  const c = await RawClient.connect(srv.unix);
  for (let i = 0; i < 3; i++) {
    await c.write(GET(`/ka${i}`));
    const rs = await c.waitResponses(i + 1);
    assert.is(rs[i]!.status, 200);
    assert.is(JSON.parse(rs[i]!.body.toString()).url, `/ka${i}`);
    assert.is(rs[i]!.headers['connection'], undefined, 'no Connection header on a kept-alive HTTP/1.1 response');
  }
  assert.not.ok(c.ended);
  c.destroy();
});

test('~> pipelined requests in one write are answered in order, one at a time', async () => {
  let inside = 0;
  let overlap = false;
  routes.set('/slow', async (_req, res) => {
    if (inside++) overlap = true;
    await delay(40);
    res.json(200, { slow: true });
    inside--;
  });
  const c = await RawClient.connect(srv.tcp);
  await c.write(
    GET('/slow') + GET('/slow') + POSTJ('/p', '{"a":1}') + GET('/slow') + GET('/last', 'Connection: close\r\n'),
  );
  await c.waitEnd();
  const rs = parseResponses(c.data, { ended: true }).responses;
  assert.equal(
    rs.map((r) => JSON.parse(r.body.toString())),
    [
      { slow: true },
      { slow: true },
      { method: 'POST', url: '/p', body: { a: 1 } },
      { slow: true },
      { method: 'GET', url: '/last', body: null },
    ],
  );
  assert.not.ok(overlap, 'the next request waits for the previous response');
  assert.is(rs[4]!.headers['connection'], 'close');
  routes.delete('/slow');
});

test('~> a request sent one byte per write', async () => {
  const c = await RawClient.connect(srv.unix);
  const raw = POSTJ('/bytes', '{"k":"v"}');
  for (const b of Buffer.from(raw)) {
    await c.write(Buffer.from([b]));
    await new Promise((r) => setImmediate(r));
  }
  const [r] = await c.waitResponses(1);
  assert.equal(JSON.parse(r!.body.toString()), { method: 'POST', url: '/bytes', body: { k: 'v' } });
  c.destroy();
});

test('~> a chunked request body streams to the handler before the request ends', async () => {
  let firstChunk!: () => void;
  const gotFirst = new Promise<void>((r) => (firstChunk = r));
  routes.set('/upload', async (req, res) => {
    let n = 0;
    for await (const chunk of req.body) {
      if (n === 0) firstChunk();
      n += (chunk as Buffer).length;
    }
    res.json(200, { n });
  });
  const c = await RawClient.connect(srv.tcp);
  await c.write('POST /upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nabcd\r\n');
  await gotFirst; // the handler saw data while the request is still open
  const big = Buffer.alloc(300_000, 7);
  await c.write(`${big.length.toString(16)}\r\n`);
  await c.write(big);
  await c.write('\r\n0\r\n\r\n');
  const [r] = await c.waitResponses(1);
  assert.equal(JSON.parse(r!.body.toString()), { n: 4 + big.length });
  c.destroy();
  routes.delete('/upload');
});

test('~> a body the handler did not read is drained, and the connection is reused', async () => {
  routes.set('/ignore', (_req, res) => res.json(200, { ignored: true }));
  const c = await RawClient.connect(srv.unix);
  const body = 'z'.repeat(100_000);
  await c.write(`POST /ignore HTTP/1.1\r\nContent-Length: ${body.length}\r\n\r\n`);
  await c.waitResponses(1);
  await c.write(body + GET('/after'));
  const rs = await c.waitResponses(2);
  assert.is(JSON.parse(rs[1]!.body.toString()).url, '/after');
  c.destroy();
  routes.delete('/ignore');
});

test('~> Expect: 100-continue gets 100 Continue when the handler reads the body', async () => {
  const c = await RawClient.connect(srv.tcp);
  await c.write(
    'POST /cont HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2\r\nExpect: 100-continue\r\n\r\n',
  );
  await c.waitForText('HTTP/1.1 100 Continue\r\n\r\n');
  await c.write('{}');
  const [r] = await c.waitResponses(1);
  assert.is(r!.status, 200);
  c.destroy();
});

test('~> a HEAD response carries the headers but no body', async () => {
  routes.set('/head', (_req, res) => res.text(200, 'hello'));
  const c = await RawClient.connect(srv.tcp);
  await c.write('HEAD /head HTTP/1.1\r\n\r\n' + GET('/head'));
  const rs = await c.waitResponses(2, 5000, { head: [0] });
  assert.is(rs[0]!.headers['content-length'], '5');
  assert.is(rs[0]!.body.length, 0);
  assert.is(rs[1]!.body.toString(), 'hello');
  c.destroy();
  routes.delete('/head');
});

/** An exec-start-like handler: read the JSON body, hijack, echo input upper-cased, say bye after the client's FIN. */
const execLike: Handler = async (req, res) => {
  const body = await req.json<{ Tty?: boolean }>();
  const h = res.hijack(body?.Tty ? 'application/vnd.docker.raw-stream' : 'application/vnd.docker.multiplexed-stream');
  h.input.on('data', (d: Buffer) => h.output.write(d.toString().toUpperCase()));
  h.input.on('end', async () => {
    // the client half-closed: output goes on
    await delay(30);
    h.output.write('after-fin-1;');
    await delay(30);
    h.output.write('after-fin-2;');
    h.closeWrite();
  });
};

test('~> upgrade: 101 UPGRADED head, then the bytes after the body (same write) are input', async () => {
  routes.set('/exec/x/start', execLike);
  const c = await RawClient.connect(srv.unix);
  const body = '{"Detach":false,"Tty":false}';
  await c.write(
    `POST /exec/x/start HTTP/1.1\r\nHost: docker\r\nConnection: Upgrade\r\nUpgrade: tcp\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}stdin-1;`,
  );
  await c.waitForText('STDIN-1;');
  const head = c.text.slice(0, c.text.indexOf('\r\n\r\n') + 4);
  assert.match(head, /^HTTP\/1\.1 101 UPGRADED\r\n/);
  assert.match(head, /\r\nContent-Type: application\/vnd\.docker\.multiplexed-stream\r\n/);
  assert.match(head, /\r\nConnection: Upgrade\r\n/);
  assert.match(head, /\r\nUpgrade: tcp\r\n/);
  assert.not.match(head, /Content-Length|Transfer-Encoding/);
  assert.is(c.text.slice(head.length), 'STDIN-1;', 'nothing but the stream after the head');
  await c.write('more;');
  await c.waitForText('MORE;');
  c.end(); // half-close: we still read
  await c.waitEnd();
  assert.ok(c.text.endsWith('STDIN-1;MORE;after-fin-1;after-fin-2;'), c.text);
  await c.waitClose();
  routes.delete('/exec/x/start');
});

test('~> a client that half-closes right after the request (docker CLI without stdin) still gets all output', async () => {
  let closed = false;
  routes.set('/containers/c/attach', async (req, res) => {
    await delay(50); // the FIN arrives before we hijack
    const h = res.hijack('application/vnd.docker.raw-stream');
    h.onClose(() => (closed = true));
    let inputEnded = false;
    h.input.resume();
    h.input.on('end', () => (inputEnded = true));
    for (let i = 0; i < 5; i++) {
      await delay(10);
      h.output.write(`line${i}\n`);
    }
    assert.ok(inputEnded, 'input ended by the FIN');
    h.closeWrite();
  });
  const c = await RawClient.connect(srv.tcp);
  await c.write(
    'POST /containers/c/attach?stream=1&stdout=1 HTTP/1.1\r\nHost: docker\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n',
  );
  c.end();
  await c.waitEnd();
  assert.ok(c.text.endsWith('\r\n\r\nline0\nline1\nline2\nline3\nline4\n'), c.text);
  await c.waitClose();
  await delay(20);
  assert.ok(closed, 'Hijacked.onClose ran');
  routes.delete('/containers/c/attach');
});

test('~> no Upgrade header: 200 OK raw-stream, unframed; a never-ended request (testcontainers exec) works', async () => {
  routes.set('/exec/tc/start', execLike);
  const c = await RawClient.connect(srv.unix);
  const body = '{"stdin":true,"Detach":false,"Tty":false}';
  await c.write(
    `POST /exec/tc/start HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
  );
  await c.waitForText('\r\n\r\n');
  const head = c.text;
  assert.match(head, /^HTTP\/1\.1 200 OK\r\nContent-Type: application\/vnd\.docker\.raw-stream\r\n/);
  assert.not.match(head, /Content-Length|Transfer-Encoding|Connection|Upgrade/);
  await c.write('abc');
  await c.waitForText('ABC');
  c.end();
  await c.waitEnd();
  assert.ok(c.text.endsWith('ABCafter-fin-1;after-fin-2;'));
  routes.delete('/exec/tc/start');
});

test('~> hijack before an unfinished chunked body: the decoded rest of the body is input, and its end ends the input', async () => {
  routes.set('/containers/d/attach', (_req, res) => {
    const h = res.hijack('application/vnd.docker.raw-stream');
    h.input.on('data', (d: Buffer) => h.output.write(`[${d}]`));
    h.input.on('end', () => h.closeWrite());
  });
  const c = await RawClient.connect(srv.tcp);
  await c.write(
    'POST /containers/d/attach?stdin=true HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n',
  );
  await c.waitForText('[abc]');
  await c.write('2\r\nde\r\n0\r\n\r\nignored-after-the-body');
  await c.waitForText('[de]');
  await c.waitEnd(); // the handler closes its output when the input ends
  assert.ok(c.text.endsWith('[abc][de]'), c.text);
  routes.delete('/containers/d/attach');
});

test('~> an upgrade request answered with an error (no hijack) closes: stream bytes are never parsed as HTTP', async () => {
  routes.set('/containers/gone/attach', (_req, res) => res.json(404, { message: 'No such container: gone' }));
  const c = await RawClient.connect(srv.tcp);
  await c.write('POST /containers/gone/attach?stdin=1 HTTP/1.1\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\nls -l\n');
  await c.waitEnd();
  const rs = parseResponses(c.data, { ended: true }).responses;
  assert.is(rs.length, 1);
  assert.is(rs[0]!.status, 404);
  assert.is(rs[0]!.headers['connection'], 'close');
  routes.delete('/containers/gone/attach');
});

test('~> headers above maxHeaderBytes: 431 and close', async () => {
  const c = await rawExchange(srv.tcp, `GET / HTTP/1.1\r\nX-Big: ${'a'.repeat(5000)}\r\n\r\n`, { end: false });
  const [r] = parseResponses(c.data, { ended: true }).responses;
  assert.is(r!.status, 431);
  assert.is(r!.headers['connection'], 'close');
});

test('~> a JSON body above maxBodyBytes: 413 and close', async () => {
  routes.set('/json413', async (req, res) => {
    try {
      await req.json();
      res.json(200, {});
    } catch (err) {
      res.closeConnection();
      res.json(413, { message: (err as Error).message });
    }
  });
  const body = JSON.stringify({ x: 'y'.repeat(70 * 1024) });
  const c = await rawExchange(srv.unix, POSTJ('/json413', body), { end: false });
  const [r] = parseResponses(c.data, { ended: true }).responses;
  assert.is(r!.status, 413);
  assert.is(r!.headers['connection'], 'close');
  assert.match(JSON.parse(r!.body.toString()).message, /larger than the limit of 65536 bytes/);
  routes.delete('/json413');
});

test('~> malformed requests: 400 and close, before or after good ones', async () => {
  for (const bad of [
    'GARBAGE\r\n\r\n',
    'GET / HTTP/1.1\r\nBad Header\r\n\r\n',
    'POST / HTTP/1.1\r\nContent-Length: x\r\n\r\n',
  ]) {
    const c = await rawExchange(srv.tcp, GET('/good') + bad + GET('/never'), { end: false });
    const rs = parseResponses(c.data, { ended: true }).responses;
    assert.is(rs.length, 2, bad);
    assert.is(rs[0]!.status, 200);
    assert.is(rs[1]!.status, 400);
    assert.is(rs[1]!.headers['connection'], 'close');
    assert.is(rs[1]!.headers['content-type'], 'text/plain; charset=utf-8');
  }
  const c = await rawExchange(srv.tcp, 'POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n', { end: false });
  assert.is(parseResponses(c.data, { ended: true }).responses[0]!.status, 501);
});

test('~> a head not finished within headerTimeoutMs: 408 and close', async () => {
  const c = await RawClient.connect(srv.unix);
  await c.write('GET /slowloris HTTP/1.1\r\nX-A: ');
  const started = Date.now();
  await c.waitEnd(3000);
  const [r] = parseResponses(c.data, { ended: true }).responses;
  assert.is(r!.status, 408);
  assert.is(r!.headers['connection'], 'close');
  assert.ok(Date.now() - started >= 200, 'not before the timeout');
});

test('~> the header timeout does not hit an idle keep-alive connection or a slow handler', async () => {
  routes.set('/slow2', async (_req, res) => {
    await delay(500);
    res.json(200, { ok: true });
  });
  const c = await RawClient.connect(srv.tcp);
  await delay(450); // idle longer than headerTimeoutMs (idleTimeoutMs is 0 here)
  await c.write(GET('/slow2'));
  const [r] = await c.waitResponses(1);
  assert.is(r!.status, 200);
  assert.not.ok(c.ended);
  c.destroy();
  routes.delete('/slow2');
});

test('~> a client FIN during a streamed response cancels it (onClose), as Go cancels the request', async () => {
  let cancelled = false;
  routes.set('/events', (_req, res) => {
    const out = res.stream(200, { 'Content-Type': 'application/json' });
    out.write('{"first":1}\n');
    res.onClose(() => {
      cancelled = true;
      out.end();
    });
  });
  const c = await RawClient.connect(srv.unix);
  await c.write(GET('/events'));
  await c.waitForText('{"first":1}\n');
  c.end();
  await c.waitEnd();
  assert.ok(cancelled);
  const [r] = parseResponses(c.data, { ended: true }).responses;
  assert.is(r!.headers['transfer-encoding'], 'chunked');
  assert.is(r!.body.toString(), '{"first":1}\n');
  routes.delete('/events');
});

test('~> Response.signal aborts when the client leaves before the answer, and never once the answer is sent', async () => {
  let pending: AbortSignal | undefined;
  let answered: AbortSignal | undefined;
  routes.set('/pending', async (_req, res) => {
    pending = res.signal; // answered only once cancelled: the client leaves first
    await new Promise((r) => pending!.addEventListener('abort', r));
    res.empty(204);
  });
  routes.set('/answered', (_req, res) => {
    answered = res.signal;
    res.json(200, { ok: true });
  });
  const a = await RawClient.connect(srv.unix);
  await a.write(GET('/answered'));
  await a.waitForText('{"ok":true}');
  const b = await RawClient.connect(srv.unix);
  await b.write(GET('/pending'));
  for (let i = 0; i < 100 && !pending; i++) await delay(5);
  assert.ok(pending && !pending.aborted, 'not aborted while the client waits');
  b.socket.destroy();
  a.socket.destroy();
  for (let i = 0; i < 100 && !pending.aborted; i++) await delay(5);
  assert.ok(pending.aborted, 'aborted when the client left');
  assert.ok(answered && !answered.aborted, 'an answered request is not cancelled by a later close');
  routes.delete('/pending');
  routes.delete('/answered');
});

test('~> a FIN after pipelined requests: all are answered, then the connection closes', async () => {
  const c = await rawExchange(srv.tcp, GET('/1') + GET('/2') + POSTJ('/3', '[1]'));
  const rs = parseResponses(c.data, { ended: true }).responses;
  assert.equal(
    rs.map((r) => JSON.parse(r.body.toString()).url),
    ['/1', '/2', '/3'],
  );
  assert.ok(c.ended);
});

test('~> a handler that throws gets a 500 and the connection closes', async () => {
  routes.set('/throw', () => {
    throw new Error('boom');
  });
  routes.set('/silent', async () => {});
  let c = await rawExchange(srv.tcp, GET('/throw'), { end: false });
  assert.is(parseResponses(c.data, { ended: true }).responses[0]!.status, 500);
  c = await RawClient.connect(srv.tcp);
  await c.write(GET('/silent'));
  const [r] = await c.waitResponses(1);
  assert.is(r!.status, 500);
  assert.match(r!.body.toString(), /without responding/);
  c.destroy();
  routes.delete('/throw');
  routes.delete('/silent');
});

test('~> slow reader: a streamed response pauses its source until the client reads', async () => {
  const total = 32 << 20;
  const chunk = 64 * 1024;
  let produced = 0;
  let done!: () => void;
  const finished = new Promise<void>((r) => (done = r));
  routes.set('/big', async (_req, res) => {
    const source = new Readable({
      highWaterMark: chunk,
      read() {
        if (produced >= total) return void this.push(null);
        const b = Buffer.alloc(chunk, (produced / chunk) & 0xff);
        produced += chunk;
        this.push(b);
      },
    });
    await pipeline(source, res.stream(200, { 'Content-Type': 'application/octet-stream' }));
    done();
  });
  const c = await RawClient.connect(srv.unix);
  c.socket.pause();
  await c.write(GET('/big'));
  await delay(400);
  const whilePaused = produced;
  assert.ok(whilePaused < 4 << 20, `produced ${whilePaused} bytes while the client read nothing`);
  // Read the rest without keeping it all (RawClient would copy 32 MiB on every read).
  c.socket.removeAllListeners('data');
  const raw: Buffer[] = [];
  c.socket.on('data', (d: Buffer) => raw.push(d));
  c.socket.resume();
  await finished;
  await new Promise<void>((resolve) => {
    const check = () =>
      Buffer.concat(raw.slice(-2)).toString('latin1').endsWith('\r\n0\r\n\r\n') ? resolve() : setTimeout(check, 20);
    check();
  });
  const [r] = parseResponses(Buffer.concat([c.data, ...raw])).responses;
  assert.is(r!.body.length, total);
  for (let i = 0; i < total; i += chunk) if (r!.body[i] !== ((i / chunk) & 0xff)) throw new Error(`corrupt at ${i}`);
  c.destroy();
  routes.delete('/big');
});

test('~> slow handler: an unread request body stops the socket from reading', async () => {
  let body: Request['body'] | undefined;
  let resp: Response | undefined;
  let responded!: () => void;
  routes.set('/slowbody', (req, res) => {
    body = req.body;
    resp = res;
    // a handler resolves once it has answered
    return new Promise<void>((r) => (responded = r));
  });
  const c = await RawClient.connect(srv.tcp);
  await c.write('POST /slowbody HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n');
  const part = Buffer.alloc(256 * 1024, 1);
  let sent = 0;
  // keep writing while the client's socket accepts; stop when the kernel buffers are full
  for (let i = 0; i < 400; i++) {
    c.socket.write(`${part.length.toString(16)}\r\n`);
    c.socket.write(part);
    const ok = c.socket.write('\r\n');
    sent += part.length;
    if (!ok) break;
  }
  await delay(300);
  assert.ok(body, 'handler ran');
  assert.ok(body!.readableLength <= 2 << 20, `server buffered ${body!.readableLength} bytes of an unread body`);
  assert.ok(sent < 400 * part.length, 'the client was pushed back');
  let got = 0;
  body!.on('data', (d: Buffer) => (got += d.length));
  c.socket.write('0\r\n\r\n');
  await new Promise((r) => body!.once('end', r));
  assert.is(got, sent);
  resp!.json(200, { got });
  responded();
  const [r] = await c.waitResponses(1);
  assert.equal(JSON.parse(r!.body.toString()), { got: sent });
  c.destroy();
  routes.delete('/slowbody');
});

test.run();
