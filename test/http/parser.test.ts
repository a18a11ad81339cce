/**
 * Raw-bytes tests of src/http/parser.ts: every split point, coalesced and pipelined messages,
 * chunked bodies, upgrades, limits and malformed input.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { RequestParser, HttpParseError, type RequestHead } from '../../src/http/parser.js';

interface Msg {
  head: RequestHead;
  body: Buffer;
  complete: boolean;
}

function collector(max = 1 << 20) {
  const msgs: Msg[] = [];
  const parser = new RequestParser(
    {
      onHead: (head) => msgs.push({ head, body: Buffer.alloc(0), complete: false }),
      onBody: (c) => {
        const m = msgs.at(-1)!;
        m.body = Buffer.concat([m.body, c]);
      },
      onComplete: () => {
        msgs.at(-1)!.complete = true;
      },
    },
    max,
  );
  /** Feed like the connection does: keep unparsed bytes and re-feed them after each message. */
  const feed = (buf: Buffer) => {
    let rest = buf;
    while (rest.length) {
      const at = parser.execute(rest);
      rest = rest.subarray(at);
    }
  };
  return { msgs, parser, feed };
}

const GET =
  'GET /v1.51/containers/json?all=1&filters=%7B%22label%22%3A%5B%22a%3Db%22%5D%7D HTTP/1.1\r\nHost: api.moby.localhost\r\nUser-Agent: Docker-Client/28.2.2 (linux)\r\n\r\n';
const POST =
  'POST /containers/create?name=x HTTP/1.1\r\nHost: docker\r\nContent-Type: application/json\r\nContent-Length: 16\r\n\r\n{"Image":"busy"}';
const CHUNKED =
  'PUT /containers/x/archive?path=%2F HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/tar\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n';

test('~> a GET parses into method, url, headers, keep-alive', () => {
  const { msgs, feed } = collector();
  feed(Buffer.from(GET));
  assert.is(msgs.length, 1);
  const h = msgs[0]!.head;
  assert.is(h.method, 'GET');
  assert.is(h.url, '/v1.51/containers/json?all=1&filters=%7B%22label%22%3A%5B%22a%3Db%22%5D%7D');
  assert.equal(h.rawHeaders, ['Host', 'api.moby.localhost', 'User-Agent', 'Docker-Client/28.2.2 (linux)']);
  assert.is(h.keepAlive, true);
  assert.is(h.upgrade, false);
  assert.is(h.contentLength, -1);
  assert.ok(msgs[0]!.complete);
});

for (const [name, raw, body] of [
  ['GET', GET, ''],
  ['POST with Content-Length', POST, '{"Image":"busy"}'],
  ['chunked PUT', CHUNKED, 'hello world'],
] as const) {
  test(`~> ${name} split at every byte boundary parses the same`, () => {
    const buf = Buffer.from(raw);
    for (let i = 1; i < buf.length; i++) {
      const { msgs, feed } = collector();
      feed(buf.subarray(0, i));
      feed(buf.subarray(i));
      assert.is(msgs.length, 1, `split at ${i}`);
      assert.ok(msgs[0]!.complete, `complete when split at ${i}`);
      assert.is(msgs[0]!.body.toString(), body, `body when split at ${i}`);
    }
    // and one byte at a time
    const { msgs, feed } = collector();
    for (let i = 0; i < buf.length; i++) feed(buf.subarray(i, i + 1));
    assert.is(msgs[0]!.body.toString(), body);
    assert.ok(msgs[0]!.complete);
  });
}

test('~> coalesced requests: the parser stops after each message and reports where', () => {
  const { msgs, parser } = collector();
  const buf = Buffer.from(POST + GET + CHUNKED);
  const first = parser.execute(buf);
  assert.is(first, POST.length, 'stops right after the first message');
  assert.is(msgs.length, 1);
  const second = parser.execute(buf, first);
  assert.is(second, POST.length + GET.length);
  assert.is(msgs.length, 2);
  const third = parser.execute(buf, second);
  assert.is(third, buf.length);
  assert.is(msgs.length, 3);
  assert.is(msgs[2]!.body.toString(), 'hello world');
  assert.ok(msgs.every((m) => m.complete));
});

test('~> pipelined requests split across writes all parse, in order', () => {
  const all = Buffer.from(GET + POST + CHUNKED + GET);
  for (const cut of [1, 17, GET.length - 1, GET.length + 3, all.length - 2]) {
    const { msgs, feed } = collector();
    feed(all.subarray(0, cut));
    feed(all.subarray(cut));
    assert.equal(
      msgs.map((m) => m.head.method),
      ['GET', 'POST', 'PUT', 'GET'],
    );
  }
});

test('~> chunked bodies: sizes in hex, extensions ignored, trailers consumed', () => {
  const { msgs, feed } = collector();
  feed(
    Buffer.from('POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nA\r\n0123456789\r\n1;a=b;c\r\n!\r\n0\r\n\r\n'),
  );
  assert.is(msgs[0]!.body.toString(), '0123456789!');
  assert.is(msgs[0]!.head.chunked, true);
});

test('~> an upgrade request with a Content-Length body: body parsed, the bytes after it are left', () => {
  const { msgs, parser } = collector();
  const req =
    'POST /v1.51/exec/abc/start HTTP/1.1\r\nHost: docker\r\nConnection: Upgrade\r\nUpgrade: tcp\r\nContent-Type: application/json\r\nContent-Length: 27\r\n\r\n{"Detach":false,"Tty":true}';
  const buf = Buffer.from(req + 'stdin bytes\x03');
  const at = parser.execute(buf);
  assert.is(at, req.length);
  assert.is(buf.subarray(at).toString(), 'stdin bytes\x03');
  assert.is(msgs[0]!.head.upgrade, true);
  assert.equal(JSON.parse(msgs[0]!.body.toString()), { Detach: false, Tty: true });
});

test('~> dockerode hijack: Upgrade + chunked with no body completes at the head; the terminator is leftover', () => {
  const { msgs, parser } = collector();
  const req =
    'POST /containers/x/attach?stream=true HTTP/1.1\r\nConnection: Upgrade\r\nUpgrade: tcp\r\nTransfer-Encoding: chunked\r\n\r\n';
  const buf = Buffer.from(req + '0\r\n\r\n');
  const at = parser.execute(buf);
  assert.is(at, req.length);
  assert.ok(msgs[0]!.complete);
  assert.is(msgs[0]!.head.chunked, false);
});

test('~> HTTP/1.0 is not keep-alive unless asked; Connection: close is honoured', () => {
  const { msgs, feed } = collector();
  feed(
    Buffer.from(
      'GET /a HTTP/1.0\r\n\r\nGET /b HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET /c HTTP/1.1\r\nConnection: close\r\n\r\n',
    ),
  );
  assert.equal(
    msgs.map((m) => m.head.keepAlive),
    [false, true, false],
  );
});

test('~> leading empty lines between pipelined requests are ignored (RFC 7230 §3.5)', () => {
  const { msgs, feed } = collector();
  feed(Buffer.from(GET + '\r\n' + GET));
  assert.is(msgs.length, 2);
});

test('~> absolute-form targets are accepted', () => {
  const { msgs, feed } = collector();
  feed(Buffer.from('GET http://docker/v1.51/version HTTP/1.1\r\n\r\n'));
  assert.is(msgs[0]!.head.url, 'http://docker/v1.51/version');
});

function parseError(raw: string | Buffer, max = 1 << 20): HttpParseError {
  const { feed } = collector(max);
  try {
    feed(Buffer.isBuffer(raw) ? raw : Buffer.from(raw, 'latin1'));
  } catch (err) {
    assert.instance(err, HttpParseError);
    return err as HttpParseError;
  }
  throw new assert.Assertion({
    message: `no error for ${JSON.stringify(String(raw))}`,
    generated: false,
    operator: 'throws',
    expects: 'error',
    actual: 'none',
  });
}

test('~> control bytes in the request target are 400, as Go net/url refuses them (found by the bench fuzz)', () => {
  for (const ctl of ['\x00', '\x01', '\x12', '\x1f', '\x7f']) {
    const raw = `PUT /containers/abc/archive?path=%2Ftmp${ctl}x HTTP/1.1\r\nHost: docker\r\nContent-Length: 0\r\n\r\n`;
    const err = parseError(raw);
    assert.is(err.status, 400, JSON.stringify(ctl));
    assert.match(err.message, /control character/);
  }
  // The percent-encoded forms are data, not control bytes: they parse (the handler judges them).
  const { msgs, feed } = collector();
  feed(Buffer.from('GET /containers/abc/archive?path=%2Ftmp%00x HTTP/1.1\r\nHost: docker\r\n\r\n', 'latin1'));
  assert.is(msgs[0]!.head.url, '/containers/abc/archive?path=%2Ftmp%00x');
});

test('~> malformed request lines and headers are 400', () => {
  for (const raw of [
    'GARBAGE\r\n\r\n',
    'GET /\r\n\r\n',
    'get / HTTP/1.1\r\n\r\n',
    'GET / HTTP/1.1 extra\r\n\r\n',
    'FOO / HTTP/1.1\r\n\r\n',
    'GET nopath HTTP/1.1\r\n\r\n',
    'GET / HTTP/1.1\r\nBad Header\r\n\r\n',
    'GET / HTTP/1.1\r\n: empty\r\n\r\n',
    'GET / HTTP/1.1\r\nSpace Name: x\r\n\r\n',
    'GET / HTTP/1.1\r\nA: b\r\n folded\r\n\r\n',
    'GET / HTTP/1.1\r\nA: b\x00c\r\n\r\n',
    'GET / HTTP/1.1\r\nA: b\rc\r\n\r\n',
    'POST / HTTP/1.1\r\nContent-Length: abc\r\n\r\n',
    'POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n',
    'POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nxx',
    'POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n',
    'POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcX\r\n',
  ]) {
    assert.is(parseError(raw).status, 400, JSON.stringify(raw));
  }
});

test('~> unknown transfer codings are 501; HTTP/2.0 is 505 (as Go net/http)', () => {
  assert.is(parseError('POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n').status, 501);
  assert.is(parseError('POST / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n').status, 501);
  assert.is(parseError('GET / HTTP/2.0\r\n\r\n').status, 505);
});

test('~> Content-Length together with chunked is a 400, even on an upgrade request (RFC 7230 §3.3.3: the smuggling shape)', () => {
  const e = parseError(
    'POST / HTTP/1.1\r\nContent-Length: 100\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n',
  );
  assert.is(e.status, 400);
  assert.match(e.message, /Content-Length and Transfer-Encoding/);
  const up = parseError(
    'POST /exec/x/start HTTP/1.1\r\nConnection: Upgrade\r\nUpgrade: tcp\r\nTransfer-Encoding: chunked\r\nContent-Length: 2\r\n\r\n{}',
  );
  assert.is(up.status, 400);
});

test('~> repeated Content-Length: equal values pass (as Go), different values are a 400', () => {
  const { msgs, feed } = collector();
  feed(Buffer.from('POST / HTTP/1.1\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nok'));
  assert.is(msgs[0]!.body.toString(), 'ok');
  const e = parseError('POST / HTTP/1.1\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nokk');
  assert.is(e.status, 400);
});

test('~> the head limit is exact: a head of maxHeaderBytes passes, one byte more is 431', () => {
  const max = 1000;
  const base = 'GET /x HTTP/1.1\r\nX-Pad: ';
  const fill = (n: number) => base + 'a'.repeat(n - base.length - 4) + '\r\n\r\n';
  const ok = fill(max);
  assert.is(ok.length, max);
  {
    const { msgs, feed } = collector(max);
    feed(Buffer.from(ok + 'GET /next HTTP/1.1\r\n\r\n'));
    assert.is(msgs.length, 2, 'a head of exactly the limit parses');
  }
  assert.is(parseError(fill(max + 1), max).status, 431);
  // also when it arrives a byte at a time
  {
    const { feed } = collector(max);
    const buf = Buffer.from(fill(max + 1));
    let err: unknown;
    try {
      for (let i = 0; i < buf.length; i++) feed(buf.subarray(i, i + 1));
    } catch (e) {
      err = e;
    }
    assert.is((err as HttpParseError).status, 431);
  }
});

test('~> the head limit counts each message anew, and body bytes never count', () => {
  const max = 200;
  const { msgs, feed } = collector(max);
  const body = 'x'.repeat(5000);
  const req = `POST /a HTTP/1.1\r\nContent-Length: ${body.length}\r\n\r\n${body}`;
  feed(Buffer.from(req + req + req));
  assert.is(msgs.length, 3);
  assert.is(msgs[2]!.body.length, 5000);
});

test('~> a 1 MiB query string (dockerode puts create bodies in the URL) fits the default limit', () => {
  const q = 'a'.repeat(1000 * 1000);
  const { msgs, feed } = collector();
  feed(Buffer.from(`POST /containers/create?Env=${q} HTTP/1.1\r\nHost: x\r\n\r\n`));
  assert.is(msgs[0]!.head.url.length, 1000 * 1000 + '/containers/create?Env='.length);
});

test('~> reset() forgets a partial message', () => {
  const { msgs, parser, feed } = collector();
  feed(Buffer.from('GET /partial HTT'));
  parser.reset();
  assert.is(parser.pendingHeadBytes, 0);
  feed(Buffer.from(GET));
  assert.is(msgs.length, 1);
  assert.is(msgs[0]!.head.url.startsWith('/v1.51/containers/json'), true);
});

test.run();
