/**
 * @module stream/log-merge
 * Merge two timestamped pods/log bodies (split streams: `stream=Stdout` and `stream=Stderr`,
 * k8s-streams.md §3.1, gate PodLogsQuerySplitStreams) into one Docker log stream in timestamp
 * order, line by line, each line on its own stdcopy stream (1 stdout, 2 stderr).
 *
 * Ordering: a side's lines go out while they are not later than the other side's next line; ties
 * go to stdout first (a stable merge). A run of lines is written as one frame per segment, and when
 * the other side has ended a side's whole backlog goes out in one go. In `follow` mode a quiet side
 * would hold the other back forever, so `holdMs` bounds the wait: after it, what is queued goes out
 * even though the quiet side might later show an earlier line (written down as the one
 * out-of-order case).
 *
 * Backpressure: the sink's false pauses both sources until 'drain'; a side whose queue passes
 * `highWater` while it waits for the other is paused on its own. Memory per side is bounded by
 * highWater + one chunk + one unfinished line (at most MAX_LINE).
 */
import { Buffer } from 'node:buffer';
import { HEADER_LENGTH, writeFrame } from './stdcopy.js';
import { PauseGate, HOLD_SINK, HOLD_PEER, HOLD_USER, type DrainableSink, type Pausable } from './backpressure.js';
import { LineSplitter, hasTimestamp, compareTs, lineEnd, PREFIX_LENGTH, TS_LENGTH, MAX_LINE } from './log-lines.js';
import type { Emitter } from './bridge.js';

/** Options of {@link LogMerger}. */
export interface LogMergeOptions {
  /** Keep the timestamp prefix (`docker logs -t`); otherwise strip it. */
  keepTimestamps?: boolean;
  /** Drop lines before this key (see `timestampKey`). */
  since?: Buffer;
  /** A side ends at its first line after this key. */
  until?: Buffer;
  /** Queued bytes per side above which that side is paused while it waits (default 1 MiB). */
  highWater?: number;
  /** follow mode: the longest a side's lines wait for a quiet other side (ms); 0 waits forever. */
  holdMs?: number;
  maxLine?: number;
}

/** Default per-side queue bound before that side is paused. */
export const MERGE_HIGH_WATER = 1 << 20;

interface Side {
  readonly stream: 1 | 2;
  readonly gate: PauseGate;
  readonly splitter: LineSplitter;
  readonly queue: Buffer[]; // whole-line segments
  pos: number; // read offset in queue[0]
  queued: number; // unread bytes in queue
  ended: boolean;
  cut: boolean; // passed `until`
  pastSince: boolean;
  readonly lastTs: Buffer; // for lines without a prefix (a cut long line's continuation)
  haveTs: boolean;
  readonly onSeg: (seg: Buffer) => void;
}

/** How a merge ended. */
export type MergeEnd = 'end' | 'until';

/**
 * The merge state machine. Feed it with {@link LogMerger.push}/{@link LogMerger.end} per side
 * (0 stdout, 1 stderr); it writes to `sink` and pauses/resumes `sources` itself.
 */
export class LogMerger {
  /** Settles when both sides are done and everything queued was written. */
  readonly done: Promise<MergeEnd>;
  /** Bytes written (headers excluded). */
  bytes = 0;
  readonly sides: [Side, Side];
  readonly #sink: DrainableSink;
  readonly #keep: boolean;
  readonly #since: Buffer | undefined;
  readonly #until: Buffer | undefined;
  readonly #high: number;
  readonly #holdMs: number;
  #blocked = false;
  #forced = false;
  #running = false;
  #finished = false;
  #timer: NodeJS.Timeout | undefined;
  #resolve!: (e: MergeEnd) => void;
  readonly #onDrain = (): void => {
    this.#blocked = false;
    for (const s of this.sides) s.gate.release(HOLD_SINK);
    this.#pump();
  };

  constructor(sink: DrainableSink, sources: [Pausable, Pausable], opts: LogMergeOptions = {}) {
    this.#sink = sink;
    this.#keep = opts.keepTimestamps ?? false;
    this.#since = opts.since;
    this.#until = opts.until;
    this.#high = opts.highWater ?? MERGE_HIGH_WATER;
    this.#holdMs = opts.holdMs ?? 0;
    const maxLine = opts.maxLine ?? MAX_LINE;
    const side = (stream: 1 | 2, src: Pausable): Side => {
      const s: Side = {
        stream, gate: new PauseGate(src), splitter: new LineSplitter(maxLine), queue: [], pos: 0, queued: 0,
        ended: false, cut: false, pastSince: this.#since === undefined, lastTs: Buffer.alloc(TS_LENGTH), haveTs: false,
        onSeg: (seg) => {
          s.queue.push(seg);
          s.queued += seg.length;
        },
      };
      return s;
    };
    this.sides = [side(1, sources[0]), side(2, sources[1])];
    this.done = new Promise((r) => (this.#resolve = r));
  }

  /** A chunk of side `i`'s body (0 stdout, 1 stderr). */
  push(i: 0 | 1, chunk: Buffer): void {
    const s = this.sides[i];
    if (s.cut || s.ended || this.#finished) return;
    s.splitter.push(chunk, s.onSeg);
    this.#pump();
  }

  /** Side `i`'s body ended. */
  end(i: 0 | 1): void {
    const s = this.sides[i];
    if (s.ended) return;
    s.splitter.end(s.onSeg);
    s.ended = true;
    this.#pump();
  }

  /** Stop without finishing: timers cleared, listeners dropped, sources left as they are. */
  stop(): void {
    this.#finished = true;
    this.#clearTimer();
    this.#sink.removeListener('drain', this.#onDrain);
    for (const s of this.sides) s.gate.close(false);
  }

  #pump(): void {
    if (this.#running || this.#finished) return;
    this.#running = true;
    const [a, b] = this.sides;
    while (!this.#blocked) {
      const aq = a.queue.length !== 0;
      const bq = b.queue.length !== 0;
      if (aq && bq) {
        // Stable: on equal timestamps stdout goes first.
        if (headCompare(a, b) <= 0) this.#run(a, b);
        else this.#run(b, a);
      } else if (aq && (b.ended || b.cut || this.#forced)) this.#run(a, undefined);
      else if (bq && (a.ended || a.cut || this.#forced)) this.#run(b, undefined);
      else break;
    }
    this.#running = false;
    for (const s of this.sides) {
      if (s.queued > this.#high) s.gate.hold(HOLD_PEER);
      else if (s.queued <= this.#high >> 1) s.gate.release(HOLD_PEER);
    }
    const aDone = (a.ended || a.cut) && a.queue.length === 0;
    const bDone = (b.ended || b.cut) && b.queue.length === 0;
    if (aDone && bDone && !this.#blocked) {
      this.#finish(a.cut || b.cut ? 'until' : 'end');
      return;
    }
    // One side has lines, the other is quiet and still open: wait, at most holdMs.
    const stalled = !this.#blocked && (a.queue.length !== 0) !== (b.queue.length !== 0);
    if (stalled && this.#holdMs > 0 && this.#timer === undefined) {
      this.#timer = setTimeout(() => {
        this.#timer = undefined;
        this.#forced = true;
        this.#pump();
        this.#forced = false;
      }, this.#holdMs);
    } else if (!stalled) this.#clearTimer();
  }

  /**
   * Write side `x`'s lines while they are not later than `other`'s head (strictly earlier for
   * stderr, so ties go to stdout), or all of them with no `other`.
   */
  #run(x: Side, other: Side | undefined): void {
    let boundBuf: Buffer | undefined;
    let boundOff = 0;
    if (other !== undefined) {
      const seg = other.queue[0]!;
      if (hasTimestamp(seg, other.pos, lineEnd(seg, other.pos))) {
        boundBuf = seg;
        boundOff = other.pos;
      } else if (other.haveTs) boundBuf = other.lastTs;
    }
    const strict = x.stream === 2;
    const keep = this.#keep;
    while (x.queue.length !== 0 && !this.#blocked) {
      const seg = x.queue[0]!;
      const n = seg.length;
      const out = keep ? undefined : Buffer.allocUnsafe(HEADER_LENGTH + n - x.pos);
      let w = HEADER_LENGTH;
      let i = x.pos;
      let runStart = i;
      let tsBuf: Buffer = x.lastTs;
      let tsOff = 0;
      let have = x.haveTs;
      let stop = false;
      while (i < n) {
        const e = lineEnd(seg, i);
        const stamped = hasTimestamp(seg, i, e);
        if (boundBuf !== undefined && (stamped || have)) {
          const c = stamped ? compareTs(seg, i, boundBuf, boundOff) : compareTs(tsBuf, tsOff, boundBuf, boundOff);
          if (strict ? c >= 0 : c > 0) {
            stop = true;
            break;
          }
        }
        if (stamped) {
          tsBuf = seg;
          tsOff = i;
          have = true;
        }
        if (have && !x.pastSince) {
          if (compareTs(tsBuf, tsOff, this.#since!, 0) < 0) {
            if (keep && i > runStart) this.#write(x, seg.subarray(runStart, i));
            i = e;
            runStart = e;
            continue;
          }
          x.pastSince = true;
        }
        if (this.#until !== undefined && have && compareTs(tsBuf, tsOff, this.#until, 0) > 0) {
          stop = true;
          x.cut = true;
          break;
        }
        if (out !== undefined) {
          const from = stamped ? i + PREFIX_LENGTH : i;
          seg.copy(out, w, from, e);
          w += e - from;
        }
        i = e;
      }
      if (have && tsBuf !== x.lastTs) tsBuf.copy(x.lastTs, 0, tsOff, tsOff + TS_LENGTH);
      x.haveTs = have;
      if (keep) {
        if (i > runStart) this.#write(x, runStart === 0 && i === n ? seg : seg.subarray(runStart, i));
      } else if (w > HEADER_LENGTH) this.#writeStripped(x, out!, w);
      x.queued -= i - x.pos;
      if (i === n) {
        x.queue.shift();
        x.pos = 0;
      } else x.pos = i;
      if (x.cut) {
        this.#cut(x);
        return;
      }
      if (stop) return;
    }
  }

  #cut(x: Side): void {
    // Past `until`: nothing more from this side. Keep its source paused; the caller closes it.
    x.queue.length = 0;
    x.pos = 0;
    x.queued = 0;
    x.gate.hold(HOLD_USER);
  }

  #write(x: Side, payload: Buffer): void {
    this.bytes += payload.length;
    if (!writeFrame(this.#sink, x.stream, payload)) this.#block();
  }

  #writeStripped(x: Side, out: Buffer, w: number): void {
    const len = w - HEADER_LENGTH;
    this.bytes += len;
    out.writeUInt32BE(0, 0);
    out[0] = x.stream;
    out.writeUInt32BE(len, 4);
    if (!this.#sink.write(out.subarray(0, w))) this.#block();
  }

  #block(): void {
    if (this.#blocked) return;
    this.#blocked = true;
    for (const s of this.sides) s.gate.hold(HOLD_SINK);
    this.#sink.once('drain', this.#onDrain);
  }

  #clearTimer(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #finish(end: MergeEnd): void {
    if (this.#finished) return;
    this.#finished = true;
    this.#clearTimer();
    // Ended sources get their paired resume; a cut one stays paused for the caller to close.
    for (const s of this.sides) s.gate.close(!s.cut);
    this.#resolve(end);
  }
}

/** Compare the two sides' next lines; a side with no known timestamp sorts first. */
function headCompare(a: Side, b: Side): number {
  const sa = a.queue[0]!;
  const sb = b.queue[0]!;
  const ta = hasTimestamp(sa, a.pos, lineEnd(sa, a.pos));
  const tb = hasTimestamp(sb, b.pos, lineEnd(sb, b.pos));
  const ab = ta ? sa : a.haveTs ? a.lastTs : undefined;
  const bb = tb ? sb : b.haveTs ? b.lastTs : undefined;
  if (ab === undefined) return -1;
  if (bb === undefined) return 1;
  return compareTs(ab, ta ? a.pos : 0, bb, tb ? b.pos : 0);
}

/** A log body source (an `IncomingMessage` fits). */
export interface MergeSource extends Pausable, Emitter {}

/** How {@link mergeLogs} ended. */
export type MergePumpEnd = MergeEnd | 'client-closed' | 'stopped' | { error: Error };

/**
 * Wire two log bodies into a {@link LogMerger}. Settles once; on anything but 'end' the caller
 * closes both upstream requests.
 */
export function mergeLogs(
  stdout: MergeSource, stderr: MergeSource, sink: DrainableSink & Emitter, opts: LogMergeOptions = {},
): { done: Promise<MergePumpEnd>; merger: LogMerger; stop(): void } {
  const merger = new LogMerger(sink, [stdout, stderr], opts);
  const srcs = [stdout, stderr] as const;
  let settled = false;
  let resolveDone!: (e: MergePumpEnd) => void;
  const done = new Promise<MergePumpEnd>((r) => (resolveDone = r));
  const handlers = srcs.map((_, i) => ({
    data: (chunk: Buffer) => merger.push(i as 0 | 1, chunk),
    end: () => merger.end(i as 0 | 1),
    error: (error: Error) => finish({ error }),
  }));
  const onClose = (): void => finish('client-closed');
  function finish(end: MergePumpEnd): void {
    if (settled) return;
    settled = true;
    srcs.forEach((s, i) => {
      s.removeListener('data', handlers[i]!.data);
      s.removeListener('end', handlers[i]!.end);
      s.removeListener('error', handlers[i]!.error);
    });
    sink.removeListener('close', onClose);
    if (typeof end !== 'string' || (end !== 'end' && end !== 'until')) merger.stop();
    resolveDone(end);
  }
  srcs.forEach((s, i) => {
    s.on('data', handlers[i]!.data);
    s.on('end', handlers[i]!.end);
    s.on('error', handlers[i]!.error);
  });
  sink.on('close', onClose);
  void merger.done.then(finish);
  return { done, merger, stop: () => finish('stopped') };
}
