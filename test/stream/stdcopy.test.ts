import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  writeFrame,
  encodeFrame,
  frameHeader,
  StdcopyDemuxer,
  parseFrames,
  demuxToStreams,
  COPY_THRESHOLD,
  FrameBatcher,
} from '../../src/stream/stdcopy.js';
import { EngineError } from '../../src/errors.js';

/** A sink recording each write() call and cork depth. */
function recorder() {
  const writes: Buffer[] = [];
  const log: string[] = [];
  let corked = 0;
  return {
    writes,
    log,
    write(b: Uint8Array) {
      writes.push(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
      log.push(corked ? `w${b.length}(corked)` : `w${b.length}`);
      return true;
    },
    cork() {
      corked++;
      log.push('cork');
    },
    uncork() {
      corked--;
      log.push('uncork');
    },
  };
}

test('~> the header is [stream,0,0,0,len BE u32]', () => {
  assert.equal([...frameHeader(2, 0x01020304)], [2, 0, 0, 0, 1, 2, 3, 4]);
  assert.equal([...frameHeader(1, 0)], [1, 0, 0, 0, 0, 0, 0, 0]);
  assert.equal([...frameHeader(1, 0xffffffff)], [1, 0, 0, 0, 255, 255, 255, 255]);
  assert.equal([...encodeFrame(1, Buffer.from('hi'))], [1, 0, 0, 0, 0, 0, 0, 2, 104, 105]);
});

test('~> small payloads are one write of header+payload', () => {
  const r = recorder();
  assert.ok(writeFrame(r, 1, Buffer.from('hello')));
  assert.equal(r.log, ['w13']);
  assert.equal([...r.writes[0]!], [1, 0, 0, 0, 0, 0, 0, 5, ...Buffer.from('hello')]);
});

test('~> large payloads are header + the very same buffer inside cork/uncork (no copy)', () => {
  const r = recorder();
  const payload = Buffer.alloc(COPY_THRESHOLD + 1, 7);
  writeFrame(r, 2, payload);
  assert.equal(r.log, ['cork', 'w8(corked)', `w${payload.length}(corked)`, 'uncork']);
  assert.is(r.writes[1]!.buffer, payload.buffer, '~> the payload buffer itself was written');
  assert.is(r.writes[1]!.byteOffset, payload.byteOffset);
  assert.equal([...r.writes[0]!], [2, 0, 0, 0, 0, 0, 0x08, 0x01]);
});

test('~> a sink without cork gets two plain writes', () => {
  const writes: Buffer[] = [];
  writeFrame({ write: (b) => (writes.push(Buffer.from(b)), true) }, 1, Buffer.alloc(COPY_THRESHOLD + 10));
  assert.is(writes.length, 2);
  assert.is(writes[0]!.length, 8);
});

test('~> write() false is passed back', () => {
  assert.is(writeFrame({ write: () => false }, 1, Buffer.from('x')), false);
  assert.is(writeFrame({ write: () => false }, 1, Buffer.alloc(100000)), false);
});

test('~> payloads above maxFrame are split into several frames, in order', () => {
  const r = recorder();
  const payload = Buffer.from('abcdefghij');
  writeFrame(r, 1, payload, 4);
  const { frames, pending } = parseFrames(Buffer.concat(r.writes));
  assert.is(pending, 0);
  assert.equal(
    frames.map((f) => f.payload.toString()),
    ['abcd', 'efgh', 'ij'],
  );
  assert.ok(frames.every((f) => f.stream === 1));
  // Split large pieces still avoid copies: views of the original buffer.
  const r2 = recorder();
  const big = Buffer.alloc(3 * 10000, 1);
  writeFrame(r2, 2, big, 10000);
  const views = r2.writes.filter((w) => w.length === 10000);
  assert.is(views.length, 3);
  assert.ok(views.every((v) => v.buffer === big.buffer));
  assert.is(r2.log[0], 'cork');
  assert.is(r2.log.at(-1), 'uncork');
});

test('~> a maxFrame of exactly the payload length is one frame; zero-length is one empty frame', () => {
  const r = recorder();
  writeFrame(r, 1, Buffer.from('abcd'), 4);
  writeFrame(r, 2, Buffer.alloc(0));
  const { frames } = parseFrames(Buffer.concat(r.writes));
  assert.equal(
    frames.map((f) => [f.stream, f.payload.length]),
    [
      [1, 4],
      [2, 0],
    ],
  );
});

/** A stream of mixed frames, including empty ones and one larger than a socket read. */
function sampleStream(): { bytes: Buffer; expect: [number, string][] } {
  const expect: [number, string][] = [
    [1, 'hello\n'],
    [2, 'oops\n'],
    [1, ''],
    [2, ''],
    [1, 'x'.repeat(70000)],
    [0, 'in'],
    [1, 'é\u0000\n'],
    [2, 'z'],
  ];
  const bytes = Buffer.concat(expect.map(([s, p]) => encodeFrame(s as 0 | 1 | 2, Buffer.from(p))));
  return { bytes, expect };
}

function collect(d: (cb: (s: number, data: Buffer, end: boolean) => void) => StdcopyDemuxer) {
  const frames: [number, string][] = [];
  let cur: Buffer[] = [];
  const dm = d((s, data, end) => {
    cur.push(Buffer.from(data));
    if (end) {
      frames.push([s, Buffer.concat(cur).toString()]);
      cur = [];
    }
  });
  return { dm, frames };
}

test('~> the demuxer survives a split at every byte boundary', () => {
  const { bytes, expect } = sampleStream();
  // Two cuts anywhere would be O(n^2); every single cut plus every cut of a small prefix region.
  for (let cut = 0; cut <= bytes.length; cut += cut < 200 || cut > bytes.length - 200 ? 1 : 997) {
    const { dm, frames } = collect((cb) => new StdcopyDemuxer(cb));
    dm.push(bytes.subarray(0, cut));
    dm.push(bytes.subarray(cut));
    assert.is(dm.end(), 0);
    assert.equal(frames, expect, `cut at ${cut}`);
  }
});

test('~> the demuxer survives byte-at-a-time input and one coalesced buffer', () => {
  const { bytes, expect } = sampleStream();
  const a = collect((cb) => new StdcopyDemuxer(cb));
  for (let i = 0; i < bytes.length; i++) a.dm.push(bytes.subarray(i, i + 1));
  assert.equal(a.frames, expect);
  const b = collect((cb) => new StdcopyDemuxer(cb));
  b.dm.push(bytes);
  assert.equal(b.frames, expect);
  assert.is(b.dm.frames, expect.length);
});

test('~> payload pieces are views of the input (no copy)', () => {
  const frame = encodeFrame(1, Buffer.from('abcdef'));
  let seen: Buffer | undefined;
  new StdcopyDemuxer((_s, data) => (seen = data)).push(frame);
  assert.is(seen!.buffer, frame.buffer);
});

test('~> a max-size length field is parsed as 2^32-1 and streamed without buffering', () => {
  const d = new StdcopyDemuxer(() => {});
  d.push(frameHeader(1, 0xffffffff));
  d.push(Buffer.alloc(1000));
  assert.is(d.pending, 8 + 0xffffffff - 1000);
  assert.is(d.end(), 8 + 0xffffffff - 1000, '~> a truncated tail is reported, not thrown');
});

test('~> type 3 fails with "error from daemon in stream" even when split', () => {
  const msg = 'container exploded';
  const bytes = Buffer.concat([encodeFrame(1, Buffer.from('ok')), encodeFrame(3, Buffer.from(msg))]);
  for (let cut = 0; cut <= bytes.length; cut++) {
    const out: string[] = [];
    const d = new StdcopyDemuxer((_s, data) => out.push(data.toString()));
    let err: unknown;
    try {
      d.push(bytes.subarray(0, cut));
      d.push(bytes.subarray(cut));
    } catch (e) {
      err = e;
    }
    assert.instance(err, EngineError, `cut ${cut}`);
    assert.is((err as Error).message, `error from daemon in stream: ${msg}`);
    assert.is(out.join(''), 'ok');
    assert.throws(() => d.push(Buffer.alloc(1)), /error from daemon/, '~> the demuxer stays failed');
  }
});

test('~> unknown stream types are rejected like Go StdCopy', () => {
  const d = new StdcopyDemuxer(() => {});
  assert.throws(() => d.push(Buffer.from([4, 0, 0, 0, 0, 0, 0, 1, 65])), /Unrecognized input header: 4/);
  const d2 = new StdcopyDemuxer(() => {});
  d2.push(Buffer.from([200, 0, 0]));
  assert.throws(() => d2.push(Buffer.from([0, 0, 0, 0, 0])), /Unrecognized input header: 200/);
});

test('~> demuxToStreams sends stdin frames to stdout, as StdCopy does', () => {
  let out = '';
  let err = '';
  const d = demuxToStreams(
    (b) => (out += b),
    (b) => (err += b),
  );
  d.push(
    Buffer.concat([
      encodeFrame(0, Buffer.from('a')),
      encodeFrame(1, Buffer.from('b')),
      encodeFrame(2, Buffer.from('c')),
    ]),
  );
  assert.is(out, 'ab');
  assert.is(err, 'c');
});

test('~> FrameBatcher: small frames share one write at flush; large ones are not copied', () => {
  const r = recorder();
  const b = new FrameBatcher(r, 64);
  b.frame(1, Buffer.from('ab'));
  b.frame(2, Buffer.from('cd'));
  const at = b.reserve(1, 3);
  b.buffer.write('xyz', at);
  assert.is(r.writes.length, 0, '~> nothing written before flush');
  assert.ok(b.flush());
  assert.is(r.writes.length, 1);
  const big = Buffer.alloc(COPY_THRESHOLD + 1, 5);
  b.frame(1, Buffer.from('s'));
  b.frame(2, big);
  assert.ok(
    r.writes.some((w) => w.buffer === big.buffer),
    '~> the large payload went out as a view',
  );
  b.frame(1, Buffer.alloc(100, 0x61)); // bigger than the batch size: its own buffer
  b.flush();
  const { frames } = parseFrames(Buffer.concat(r.writes));
  assert.equal(
    frames.map((f) => [f.stream, f.payload.length]),
    [
      [1, 2],
      [2, 2],
      [1, 3],
      [1, 1],
      [2, COPY_THRESHOLD + 1],
      [1, 100],
    ],
  );
  assert.is(frames[2]!.payload.toString(), 'xyz');
});

test('~> FrameBatcher: a false from the sink is reported once by flush()', () => {
  let n = 0;
  const b = new FrameBatcher({ write: () => ++n > 1 }, 16);
  b.frame(1, Buffer.alloc(6)); // 14 bytes
  b.frame(1, Buffer.alloc(6)); // does not fit: the first batch is written (false)
  assert.ok(b.failed);
  assert.is(b.flush(), false);
  b.frame(1, Buffer.alloc(1));
  assert.is(b.flush(), true);
});

test.run();
