/**
 * @module sim/kubelet/log-store
 * The container log of one container instance, kept on disk as the CRI runtime keeps
 * /var/log/pods/<ns>_<pod>_<uid>/<container>/<restart>.log — but in a compact binary record format
 * so that serving 1 GiB is a few large reads and writes, not a per-line parse:
 *
 *   record = [stream u8][0 0 0][len u32 LE][ts u64 LE, ns since the epoch] payload[len] [len u32 LE]
 *
 * One record is one pipe read (up to 64 KiB, many lines); its timestamp applies to every line that
 * starts in it (CRI stamps each line with the time the runtime read it: same idea, chunk grained).
 * The trailing length lets `tailLines` walk backwards from the end. A sparse in-memory index (one
 * entry per 256 KiB) lets `sinceTime` seek. Records are committed (visible to readers) only once
 * written, so a follower never reads half a record.
 */
import { promises as fsp } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';

export const STDOUT = 1;
export const RECORD_OVERHEAD = 20;
export const STDERR = 2;
const HDR = 16;
const TRL = 4;
const OVERHEAD = HDR + TRL;
const INDEX_EVERY = 256 * 1024;
/** Three iovecs per record; Linux IOV_MAX is 1024. */
const MAX_RECORDS_PER_WRITE = 341;

/** Wall clock in ns with sub-ms resolution and never going backwards (log order = time order). */
const wallBase = BigInt(Date.now()) * 1_000_000n - process.hrtime.bigint();
let lastNow = 0n;
export function nowNs(): bigint {
  let t = wallBase + process.hrtime.bigint();
  if (t <= lastNow) t = lastNow + 1n;
  lastNow = t;
  return t;
}

export interface LogRecord {
  stream: number;
  ts: bigint;
  payload: Buffer;
  /** File offset of the record start. */
  offset: number;
}

export class LogFile {
  /** Committed bytes: readers never read past this. */
  size = 0;
  /** No more records and every appended one is committed (or the writer failed): readers may finish. */
  ended = false;
  /** end() was called: appends are refused while the last queued records are written. */
  private closing = false;
  private fh: FileHandle | undefined;
  private opening: Promise<void> | undefined;
  private queue: Buffer[] = [];
  private queuedRecords: Array<{ off: number; ts: bigint }> = [];
  private queuedBytes = 0;
  /** End of everything appended (committed or still queued). */
  private writeOffset = 0;
  /** Followers that are caught up receive new records straight from memory (no disk round trip). */
  private readonly live = new Set<(rec: LogRecord) => void>();
  private writing = false;
  private lastIndexOff = -INDEX_EVERY;
  private readonly index: Array<{ off: number; ts: bigint }> = [];
  private readonly listeners = new Set<() => void>();
  private drainWaiters: Array<() => void> = [];
  private endWaiters: Array<() => void> = [];
  private failed: Error | undefined;

  constructor(
    readonly path: string,
    private readonly highWaterMark = 4 << 20,
  ) {}

  async open(): Promise<void> {
    this.opening ??= (async () => {
      await fsp.mkdir(dirname(this.path), { recursive: true });
      this.fh = await fsp.open(this.path, 'w');
    })();
    return this.opening;
  }

  /** Queue a chunk. Returns false when the writer is behind: pause the source until `onDrain`. */
  append(stream: number, data: Buffer): boolean {
    if (this.closing || !data.length) return this.queuedBytes < this.highWaterMark;
    const ts = nowNs();
    const frame = Buffer.allocUnsafe(OVERHEAD);
    frame[0] = stream;
    frame[1] = frame[2] = frame[3] = 0;
    frame.writeUInt32LE(data.length, 4);
    frame.writeBigUInt64LE(ts, 8);
    frame.writeUInt32LE(data.length, HDR);
    const off = this.writeOffset;
    this.queuedRecords.push({ off, ts });
    this.queue.push(frame.subarray(0, HDR), data, frame.subarray(HDR));
    this.writeOffset += data.length + OVERHEAD;
    if (this.live.size) {
      const rec: LogRecord = { stream, ts, payload: data, offset: off };
      for (const cb of [...this.live]) cb(rec);
    }
    this.queuedBytes += data.length + OVERHEAD;
    this.flush();
    return this.queuedBytes < this.highWaterMark;
  }

  /** Resolves once the writer has caught up below its high-water mark. */
  onDrain(cb: () => void): void {
    if (this.queuedBytes < this.highWaterMark) cb();
    else this.drainWaiters.push(cb);
  }

  /** No more records; resolves when everything queued is on disk. Followers then finish. */
  async end(): Promise<void> {
    if (this.closing) return this.endedP;
    this.closing = true;
    this.endedP = (async () => {
      if (this.queue.length || this.writing) await new Promise<void>((r) => this.endWaiters.push(r));
      await this.fh?.close().catch(() => {});
      this.fh = undefined;
      // Only now: a follower that sees `ended` has every record on disk to read.
      this.ended = true;
      this.notify();
    })();
    return this.endedP;
  }

  private endedP: Promise<void> = Promise.resolve();

  get appendedSize(): number {
    return this.writeOffset;
  }

  /** Same as `ended` (kept for callers that asked for "ended and fully committed"). */
  get complete(): boolean {
    return this.ended;
  }

  /**
   * Receive every record appended from now on, synchronously and in order (a follower that has
   * read everything appended so far). Returns an unsubscribe function.
   */
  tail(cb: (rec: LogRecord) => void): () => void {
    this.live.add(cb);
    return () => this.live.delete(cb);
  }

  /** Called (without arguments) after every commit and at the end. Returns an unsubscribe function. */
  subscribe(cb: () => void): () => void {
    this.listeners.add(cb);
    return () => this.listeners.delete(cb);
  }

  /** Offset of a record at or before the first record with ts >= since (a seek hint). */
  seekHint(since: bigint): number {
    let lo = 0,
      hi = this.index.length - 1,
      best = 0;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (this.index[mid]!.ts < since) {
        best = this.index[mid]!.off;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return best;
  }

  private flush(): void {
    if (this.writing || !this.queue.length || this.failed) return;
    this.writing = true;
    void this.writeLoop();
  }

  private async writeLoop(): Promise<void> {
    try {
      await this.open();
      while (this.queue.length) {
        const nrec = Math.min(this.queuedRecords.length, MAX_RECORDS_PER_WRITE);
        const bufs = this.queue.splice(0, nrec * 3);
        const recs = this.queuedRecords.splice(0, nrec);
        let bytes = 0;
        for (const b of bufs) bytes += b.length;
        const at = this.size;
        let done = 0;
        while (done < bytes) {
          const { bytesWritten } = await this.fh!.writev(done ? sliceBufs(bufs, done) : bufs, at + done);
          done += bytesWritten;
        }
        for (const r of recs) {
          if (r.off - this.lastIndexOff >= INDEX_EVERY) {
            this.index.push(r);
            this.lastIndexOff = r.off;
          }
        }
        this.size += bytes;
        this.queuedBytes -= bytes;
        this.notify();
        if (this.queuedBytes < this.highWaterMark && this.drainWaiters.length) {
          const w = this.drainWaiters;
          this.drainWaiters = [];
          for (const cb of w) cb();
        }
      }
    } catch (err) {
      // A full or vanished disk: stop logging (as a kubelet whose log write fails), never block the container.
      this.failed = err as Error;
      this.queue = [];
      this.queuedRecords = [];
      this.queuedBytes = 0;
      this.notify();
      for (const cb of this.drainWaiters.splice(0)) cb();
    } finally {
      this.writing = false;
      if (this.queue.length && !this.failed) this.flush();
      else for (const cb of this.endWaiters.splice(0)) cb();
    }
  }

  private notify(): void {
    for (const cb of [...this.listeners]) cb();
  }

  async remove(): Promise<void> {
    await this.end();
    await fsp.rm(this.path, { force: true });
  }
}

function sliceBufs(bufs: Buffer[], skip: number): Buffer[] {
  const out: Buffer[] = [];
  for (const b of bufs) {
    if (skip >= b.length) {
      skip -= b.length;
      continue;
    }
    out.push(skip ? b.subarray(skip) : b);
    skip = 0;
  }
  return out;
}

/**
 * Sequential record reader over a committed prefix of a log file. `next()` returns the next
 * record, or undefined when it reaches `limit` (the committed size when called).
 */
export class RecordReader {
  private block = Buffer.alloc(0);
  private blockStart = 0;

  constructor(
    private readonly fh: FileHandle,
    public offset: number,
    private readonly blockSize = 1 << 20,
  ) {}

  /** The next record if it is entirely in the loaded block (no I/O, no await); else undefined. */
  nextBuffered(limit: number): LogRecord | undefined {
    if (this.offset + OVERHEAD > limit) return undefined;
    const rel = this.offset - this.blockStart;
    if (rel < 0 || rel + HDR > this.block.length) return undefined;
    const len = this.block.readUInt32LE(rel + 4);
    if (rel + HDR + len + TRL > this.block.length || this.offset + len + OVERHEAD > limit) return undefined;
    return this.take(rel, len);
  }

  async next(limit: number): Promise<LogRecord | undefined> {
    if (this.offset + OVERHEAD > limit) return undefined;
    let rel = this.offset - this.blockStart;
    if (rel < 0 || rel + HDR > this.block.length) {
      await this.load(this.offset, limit);
      rel = 0;
    }
    const len = this.block.readUInt32LE(rel + 4);
    if (rel + HDR + len + TRL > this.block.length) {
      await this.load(this.offset, limit, len + OVERHEAD);
      rel = 0;
    }
    return this.take(rel, len);
  }

  /** The record at `rel` in the block (its payload `len` bytes), and the offset past it. */
  private take(rel: number, len: number): LogRecord {
    const rec: LogRecord = {
      stream: this.block[rel]!,
      ts: this.block.readBigUInt64LE(rel + 8),
      payload: this.block.subarray(rel + HDR, rel + HDR + len),
      offset: this.offset,
    };
    this.offset += len + OVERHEAD;
    return rec;
  }

  /** A fresh buffer per block: payload slices handed to a socket must stay valid until written. */
  private async load(at: number, limit: number, atLeast = 0): Promise<void> {
    const want = Math.min(Math.max(this.blockSize, atLeast), limit - at);
    const buf = Buffer.allocUnsafe(want);
    let got = 0;
    while (got < want) {
      const { bytesRead } = await this.fh.read(buf, got, want - got, at + got);
      if (!bytesRead) break;
      got += bytesRead;
    }
    this.block = buf.subarray(0, got);
    this.blockStart = at;
    if (got < Math.max(HDR, atLeast)) throw new Error(`log file truncated at ${at}`);
  }
}

/**
 * Where the last `n` lines start: returns { offset, skip } — the record to start at and how many
 * payload bytes of it to skip. Counts newlines backwards over the merged stream (a final newline
 * does not start a line).
 */
export async function tailStart(fh: FileHandle, size: number, n: number): Promise<{ offset: number; skip: number }> {
  if (n <= 0) return { offset: size, skip: 0 };
  const BLOCK = 1 << 20;
  let block = Buffer.alloc(0);
  let blockStart = size;
  const ensure = async (from: number, to: number) => {
    if (from >= blockStart && to <= blockStart + block.length) return;
    const start = Math.max(0, Math.min(from, to - BLOCK));
    const buf = Buffer.allocUnsafe(to - start);
    let got = 0;
    while (got < buf.length) {
      const { bytesRead } = await fh.read(buf, got, buf.length - got, start + got);
      if (!bytesRead) break;
      got += bytesRead;
    }
    block = buf;
    blockStart = start;
  };
  let end = size;
  let count = 0;
  let first = true;
  while (end > 0) {
    await ensure(end - TRL, end);
    const len = block.readUInt32LE(end - TRL - blockStart);
    const recStart = end - OVERHEAD - len;
    await ensure(recStart, end);
    const payloadStart = recStart + HDR - blockStart;
    for (let i = len - 1; i >= 0; i--) {
      if (block[payloadStart + i] === 0x0a) {
        if (first) {
          first = false;
          continue;
        }
        if (++count === n) return { offset: recStart, skip: i + 1 };
      } else first = false;
    }
    end = recStart;
  }
  return { offset: 0, skip: 0 };
}

const secondCache = new Map<bigint, string>();
/** RFC 3339 with exactly 9 fractional digits and a trailing space (crilogs timeFormatOut). */
export function formatTs(ts: bigint): Buffer {
  const sec = ts / 1_000_000_000n;
  let head = secondCache.get(sec);
  if (!head) {
    head = new Date(Number(sec) * 1000).toISOString().slice(0, 19);
    if (secondCache.size > 256) secondCache.clear();
    secondCache.set(sec, head);
  }
  const frac = (ts % 1_000_000_000n).toString().padStart(9, '0');
  return Buffer.from(`${head}.${frac}Z `, 'latin1');
}
