/**
 * src/http/hijack.ts with a recording fake socket: the head goes out in its own write and no
 * stream byte is written before that write completes (docker-py #425/#2466); backpressure;
 * closeWrite; close.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { EventEmitter } from 'node:events';
import { createServer, connect, type Socket } from 'node:net';
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { DEFAULT_STREAM_BATCH_BYTES, HijackedStream } from '../../src/http/hijack.js';

class FakeSocket extends EventEmitter {
  writes: string[] = [];
  pendingCbs: (() => void)[] = [];
  destroyed = false;
  writableEnded = false;
  full = false;
  corked = 0;
  write(chunk: string | Buffer, cb?: () => void): boolean {
    this.writes.push((this.corked ? '[corked]' : '') + chunk.toString());
    if (cb) this.pendingCbs.push(cb);
    return !this.full;
  }
  cork() {
    this.corked++;
  }
  uncork() {
    this.corked--;
  }
  end() {
    this.writableEnded = true;
    this.writes.push('<FIN>');
  }
  destroy() {
    this.destroyed = true;
    this.emit('close');
  }
  flush() {
    const cbs = this.pendingCbs;
    this.pendingCbs = [];
    for (const cb of cbs) cb();
  }
}

const tick = () => new Promise((r) => setImmediate(r));

test('~> the head is the first write, alone; output waits until it is flushed', async () => {
  const s = new FakeSocket();
  const h = new HijackedStream(s as unknown as Socket, 'HTTP/1.1 101 UPGRADED\r\n\r\n', () => {});
  assert.equal(s.writes, ['HTTP/1.1 101 UPGRADED\r\n\r\n']);
  h.output.write('frame-1');
  h.output.write('frame-2');
  await tick();
  assert.equal(s.writes, ['HTTP/1.1 101 UPGRADED\r\n\r\n'], 'nothing before the head write completed');
  s.flush();
  await tick();
  assert.is(s.writes[0], 'HTTP/1.1 101 UPGRADED\r\n\r\n');
  assert.equal(
    s.writes
      .slice(1)
      .join('')
      .replace(/\[corked\]/g, ''),
    'frame-1frame-2',
  );
});

test('~> output backpressure: a full socket holds the write callback until drain', async () => {
  const s = new FakeSocket();
  const h = new HijackedStream(s as unknown as Socket, 'HEAD\r\n\r\n', () => {});
  s.flush();
  s.full = true;
  let done = false;
  h.output.write(Buffer.alloc(10), () => (done = true));
  await tick();
  assert.not.ok(done, 'callback held while the socket is full');
  s.full = false;
  s.emit('drain');
  await tick();
  assert.ok(done);
});

test('~> input gets pushed bytes, reports backpressure, and ends on the FIN', async () => {
  const s = new FakeSocket();
  let wanted = 0;
  const h = new HijackedStream(s as unknown as Socket, 'H', () => wanted++);
  let ok = true;
  for (let i = 0; i < 100 && ok; i++) ok = h.pushInput(Buffer.alloc(4096));
  assert.not.ok(ok, 'push reports a full input (the connection pauses the socket)');
  const chunks: Buffer[] = [];
  h.input.on('data', (c: Buffer) => chunks.push(c));
  await tick();
  assert.ok(wanted > 0, 'draining the input asks for more (the connection resumes the socket)');
  h.endInput();
  await new Promise((r) => h.input.once('end', r));
  assert.ok(chunks.length > 0);
});

test('~> closeWrite is a FIN after the queued output; the socket stays readable', async () => {
  const s = new FakeSocket();
  const h = new HijackedStream(s as unknown as Socket, 'H', () => {});
  h.output.write('last');
  h.closeWrite();
  s.flush();
  await tick();
  await tick();
  assert.equal(
    s.writes.filter((w) => w !== 'H').map((w) => w.replace('[corked]', '')),
    ['last', '<FIN>'],
  );
  assert.not.ok(s.destroyed);
  h.pushInput(Buffer.from('still readable'));
  assert.is(String(h.input.read()), 'still readable');
});

test('~> a socket close ends input, fails pending output quietly, and runs onClose once', async () => {
  const s = new FakeSocket();
  const h = new HijackedStream(s as unknown as Socket, 'H', () => {});
  let closes = 0;
  h.onClose(() => closes++);
  h.output.write('never flushed');
  s.destroyed = true;
  h.socketClosed();
  h.socketClosed();
  assert.is(closes, 1);
  assert.ok(h.closed);
  assert.ok(h.output.destroyed);
  let late = false;
  h.onClose(() => (late = true));
  await tick();
  assert.ok(late, 'onClose after the close still runs');
});

/** 32 MiB in 16 KiB frames (one pods/log TLS record each) to a client taking one socket read (<= 64 KiB) per ms. */
async function slowReader(
  batchBytes?: number,
): Promise<{ bytes: number; total: number; exact: boolean; peak: number }> {
  const FRAME = 16 * 1024;
  const TOTAL = 32 * 1024 * 1024;
  let peak = 0;
  const sent = createHash('sha256');
  const server = createServer({ allowHalfOpen: true }, (sock) => {
    const h = new HijackedStream(sock, 'HTTP/1.1 101 UPGRADED\r\n\r\n', () => {}, batchBytes);
    let n = 0;
    const src = new Readable({
      read() {
        if (n >= TOTAL) return void this.push(null);
        const b = Buffer.alloc(FRAME, n / FRAME);
        n += FRAME;
        sent.update(b);
        this.push(b);
      },
    });
    const watch = setInterval(() => (peak = Math.max(peak, sock.writableLength)), 1);
    void pipeline(src, h.output).finally(() => clearInterval(watch));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  const c = connect(port, '127.0.0.1');
  const got = createHash('sha256');
  let head = '';
  let bytes = 0;
  await new Promise<void>((resolve, reject) => {
    c.on('data', (b: Buffer) => {
      let body = b;
      if (!head.endsWith('\r\n\r\n')) {
        const i = b.indexOf('\r\n\r\n');
        head += b.subarray(0, i + 4).toString();
        body = b.subarray(i + 4);
      }
      got.update(body);
      bytes += body.length;
      // One socket read (at most 64 KiB) per millisecond: far slower than the writer.
      c.pause();
      setTimeout(() => c.resume(), 1);
    });
    c.on('end', resolve);
    c.on('error', reject);
  });
  c.destroy();
  server.close();
  return { bytes, total: TOTAL, exact: got.digest('hex') === sent.digest('hex'), peak };
}

test('~> real socket, slow reader: writes of one turn are batched, the corked socket stays bounded, bytes exact', async () => {
  const r = await slowReader();
  assert.is(r.bytes, r.total);
  assert.ok(r.exact, 'every byte, in order');
  assert.ok(r.peak > 0, 'the reader was slower than the writer');
  // The default batch (64 KiB) plus the frame written when it was reached.
  assert.ok(r.peak <= DEFAULT_STREAM_BATCH_BYTES + 16 * 1024, `socket buffer stayed bounded (peak ${r.peak} bytes)`);
});

test('~> the bound is the batchBytes given (--stream-batch-bytes)', async () => {
  const r = await slowReader(256 * 1024);
  assert.is(r.bytes, r.total);
  assert.ok(r.exact, 'every byte, in order');
  assert.ok(r.peak > DEFAULT_STREAM_BATCH_BYTES + 16 * 1024, `more than the default is held (peak ${r.peak} bytes)`);
  assert.ok(r.peak <= 256 * 1024 + 16 * 1024, `at most the bound plus one frame (peak ${r.peak} bytes)`);
});

test.run();
