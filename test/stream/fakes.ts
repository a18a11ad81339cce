/**
 * @module test/stream/fakes
 * Fakes for the stream layer's structural interfaces: a slow real Writable (the Docker client),
 * a ws-like WebSocket that delivers messages in "socket reads", and a pausable byte source.
 */
import { EventEmitter } from 'node:events';
import { Writable } from 'node:stream';
import { StdcopyDemuxer } from '../../src/stream/stdcopy.js';

/**
 * A real Node Writable that accepts one write (or one writev batch) every `delayMs`: a slow Docker
 * client. Tracks the peak of bytes buffered in it and keeps everything written.
 */
export class SlowSink extends Writable {
  chunks: Buffer[] = [];
  received = 0;
  peakBuffered = 0;
  writeCalls = 0;
  delayMs: number;
  /** `writev: false` makes it take exactly one chunk per delay (no batching). */
  constructor(opts: { highWaterMark?: number; delayMs?: number; writev?: boolean } = {}) {
    super({ highWaterMark: opts.highWaterMark ?? 16384 });
    this.delayMs = opts.delayMs ?? 0;
    if (opts.writev === false) (this as unknown as { _writev: undefined })._writev = undefined;
  }
  override write(chunk: any, ...rest: any[]): boolean {
    const ok = super.write(chunk, ...rest);
    // writableLength counts what is queued plus the chunk being written.
    if (this.writableLength > this.peakBuffered) this.peakBuffered = this.writableLength;
    return ok;
  }
  override _write(chunk: Buffer, _enc: string, cb: (err?: Error | null) => void): void {
    this.#take([chunk], cb);
  }
  override _writev(chunks: { chunk: Buffer }[], cb: (err?: Error | null) => void): void {
    this.#take(
      chunks.map((c) => c.chunk),
      cb,
    );
  }
  #take(bufs: Buffer[], cb: (err?: Error | null) => void): void {
    this.writeCalls++;
    for (const b of bufs) {
      this.chunks.push(Buffer.from(b));
      this.received += b.length;
    }
    if (this.delayMs > 0) setTimeout(cb, this.delayMs);
    else setImmediate(cb);
  }
  /** Everything written so far, concatenated. */
  all(): Buffer {
    return Buffer.concat(this.chunks);
  }
}

/** Parse a whole stdcopy byte string into per-stream concatenations. */
export function demuxAll(buf: Buffer): { 1: Buffer; 2: Buffer; frames: number; order: number[] } {
  const parts: Record<number, Buffer[]> = { 0: [], 1: [], 2: [] };
  const order: number[] = [];
  const d = new StdcopyDemuxer((s, data, end) => {
    parts[s]!.push(Buffer.from(data));
    if (end) order.push(s);
  });
  d.push(buf);
  if (d.end() !== 0) throw new Error(`truncated frame: ${d.end()} bytes`);
  return { 1: Buffer.concat(parts[1]!), 2: Buffer.concat(parts[2]!), frames: d.frames, order };
}

/** Counts pause()/resume() and checks they alternate. */
export class PauseCounter extends EventEmitter {
  paused = false;
  pauses = 0;
  resumes = 0;
  unpaired = 0;
  pause(): this {
    if (this.paused) this.unpaired++;
    this.paused = true;
    this.pauses++;
    return this;
  }
  resume(): this {
    if (!this.paused) this.unpaired++;
    this.paused = false;
    this.resumes++;
    this.emit('resumed');
    return this;
  }
}

/**
 * A ws-like WebSocket: `feed(messages)` delivers them `perRead` at a time, one "socket read" per
 * setImmediate, and like ws it stops reading when paused but still emits the rest of the current
 * read. `send()` queues into `bufferedAmount`, which drains `drainPerTick` bytes per timer tick,
 * calling each send's callback as its bytes leave.
 */
export class FakeWs extends PauseCounter {
  protocol: string;
  sent: Buffer[] = [];
  bufferedAmount = 0;
  peakBuffered = 0;
  drainPerTick: number;
  #pending: { len: number; cb?: (err?: Error) => void }[] = [];
  #draining = false;
  #queue: Buffer[] = [];
  #perRead = 1;
  #reading = false;
  closed = false;
  get isPaused(): boolean {
    return this.paused;
  }
  constructor(opts: { protocol?: string; drainPerTick?: number } = {}) {
    super();
    this.protocol = opts.protocol ?? 'v5.channel.k8s.io';
    this.drainPerTick = opts.drainPerTick ?? Infinity;
    this.on('resumed', () => this.#schedule());
  }
  send(data: Buffer, cb?: (err?: Error) => void): void {
    if (this.closed) {
      if (cb) queueMicrotask(() => cb(new Error('WebSocket is not open')));
      return;
    }
    this.sent.push(Buffer.from(data));
    this.bufferedAmount += data.length;
    if (this.bufferedAmount > this.peakBuffered) this.peakBuffered = this.bufferedAmount;
    this.#pending.push({ len: data.length, cb });
    this.#drain();
  }
  #drain(): void {
    if (this.#draining) return;
    this.#draining = true;
    setTimeout(() => {
      this.#draining = false;
      let budget = this.drainPerTick;
      while (this.#pending.length && budget > 0) {
        const p = this.#pending[0]!;
        const take = Math.min(p.len, budget);
        p.len -= take;
        budget -= take;
        this.bufferedAmount -= take;
        if (p.len === 0) {
          this.#pending.shift();
          p.cb?.();
        }
      }
      if (this.#pending.length) this.#drain();
    }, 1);
  }
  /** Deliver messages from the "apiserver", `perRead` per simulated socket read. */
  feed(messages: Buffer[], perRead = 1): Promise<void> {
    this.#queue.push(...messages);
    this.#perRead = perRead;
    this.#schedule();
    return new Promise((resolve) => {
      const check = () => (this.#queue.length === 0 ? resolve() : setTimeout(check, 1));
      check();
    });
  }
  #schedule(): void {
    if (this.#reading || this.paused || this.#queue.length === 0) return;
    this.#reading = true;
    setImmediate(() => {
      this.#reading = false;
      if (this.paused) return;
      // One socket read: all its messages are emitted even if a listener pauses midway.
      const batch = this.#queue.splice(0, this.#perRead);
      for (const m of batch) this.emit('message', m, true);
      this.#schedule();
    });
  }
  /** The server closes (after the queue is delivered). */
  async closeWith(code: number): Promise<void> {
    while (this.#queue.length || this.paused) await new Promise((r) => setTimeout(r, 1));
    this.closed = true;
    this.emit('close', code, Buffer.alloc(0));
  }
}

/** A pausable byte source (client stdin, a log body): `feed()` pushes chunks while not paused. */
export class FakeSource extends PauseCounter {
  #queue: (Buffer | null)[] = [];
  #scheduled = false;
  perTick: number;
  peakQueued = 0;
  constructor(perTick = 1) {
    super();
    this.perTick = perTick;
    this.on('resumed', () => this.#schedule());
  }
  feed(chunks: Buffer[], end = false): void {
    this.#queue.push(...chunks);
    if (end) this.#queue.push(null);
    this.#schedule();
  }
  get idle(): boolean {
    return this.#queue.length === 0;
  }
  #schedule(): void {
    if (this.#scheduled || this.paused || this.#queue.length === 0) return;
    this.#scheduled = true;
    setImmediate(() => {
      this.#scheduled = false;
      for (let i = 0; i < this.perTick && !this.paused && this.#queue.length; i++) {
        const c = this.#queue.shift()!;
        if (c === null) this.emit('end');
        else this.emit('data', c);
      }
      this.#schedule();
    });
  }
}

/** Wait until `cond()` holds (polling), failing after `ms`. */
export async function until(cond: () => boolean, ms = 5000): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error('timed out waiting for condition');
    await new Promise((r) => setTimeout(r, 1));
  }
}
