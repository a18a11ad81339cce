/**
 * @module stream/log-merge
 * Merge two timestamped pods/log bodies (split streams: `stream=Stdout` and `stream=Stderr`,
 * KEP-3288, gate PodLogsQuerySplitStreams) into one Docker log stream in timestamp
 * order, line by line, each line on its own stdcopy stream (1 stdout, 2 stderr).
 *
 * Ordering: a side's lines go out while they are not later than the other side's next line; ties
 * go to stdout first (a stable merge). A run of lines is written as one frame per segment, and when
 * the other side has ended a side's whole backlog goes out in one go. In `follow` mode a quiet side
 * would hold the other back forever, so `holdMs` bounds the wait: after it, what is queued goes out
 * even though the quiet side might later show an earlier line (written down as the one
 * out-of-order case), and while that side stays quiet (nothing for holdMs) the other flows without
 * waiting. dockerd gives no stronger order: its stdout and stderr are separate pipes copied by
 * separate goroutines. The same bound applies to an unfinished line (a prompt such as `name? `
 * written without a newline): after `holdMs` with no newline it goes out as it is, and the rest of
 * the line follows as a continuation (the kubelet prefixes only the start of a line, kuberuntime
 * logs/logs.go, so the continuation carries no timestamp and is ordered by the last one seen).
 *
 * Backpressure: the sink's false pauses both sources until 'drain'; a side whose queue passes
 * `highWater` while it waits for the other is paused on its own. Memory per side is bounded by
 * highWater + one chunk + one unfinished line (at most MAX_LINE).
 */
import { Buffer } from 'node:buffer';
import { FrameBatcher } from './stdcopy.js';
import { PauseGate, HOLD_SINK, HOLD_PEER, HOLD_USER, type DrainableSink, type Pausable } from './backpressure.js';
import {
  LineSplitter,
  hasTimestamp,
  compareTs,
  lineEnd,
  lastLineStart,
  strippedLength,
  stripInto,
  MAX_LINE,
  PREFIX_LENGTH,
} from './log-lines.js';
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
  // The last timestamp seen (a view into a segment, no copy), for lines without a prefix (a cut
  // long line's continuation). Pins at most that one segment.
  lastTsBuf: Buffer | undefined;
  lastTsOff: number;
  // The head line (queue[0] at pos), computed once: its end, -1 when not known yet.
  headEnd: number;
  headStamped: boolean;
  // When this side last delivered bytes (ms, monotonic): a side quiet for holdMs is idle.
  lastPush: number;
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
  readonly #batch: FrameBatcher;
  readonly #keep: boolean;
  readonly #since: Buffer | undefined;
  readonly #until: Buffer | undefined;
  readonly #high: number;
  readonly #holdMs: number;
  #blocked = false;
  #forced = false;
  // After run(x, y) stopped at y's head, y goes next: no need to compare the heads again.
  #next: Side | undefined;
  // Starts of the stamped lines of the current run (reused; strip copies around them).
  readonly #stamps: number[] = [];
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
    this.#batch = new FrameBatcher(sink);
    this.#keep = opts.keepTimestamps ?? false;
    this.#since = opts.since;
    this.#until = opts.until;
    this.#high = opts.highWater ?? MERGE_HIGH_WATER;
    this.#holdMs = opts.holdMs ?? 0;
    const maxLine = opts.maxLine ?? MAX_LINE;
    const side = (stream: 1 | 2, src: Pausable): Side => {
      const s: Side = {
        stream,
        gate: new PauseGate(src),
        splitter: new LineSplitter(maxLine),
        queue: [],
        pos: 0,
        queued: 0,
        ended: false,
        cut: false,
        pastSince: this.#since === undefined,
        lastTsBuf: undefined,
        lastTsOff: 0,
        headEnd: -1,
        headStamped: false,
        lastPush: performance.now(),
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
    if (this.#holdMs > 0) s.lastPush = performance.now();
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

  /**
   * Stop without finishing: timers cleared, the drain listener dropped, both sources left paused
   * (the caller closes the upstream requests; until then they must not flow to nobody).
   */
  stop(): void {
    if (this.#finished) return;
    this.#finished = true;
    this.#clearTimer();
    this.#sink.removeListener('drain', this.#onDrain);
    for (const s of this.sides) {
      s.gate.hold(HOLD_USER);
      s.gate.close(false);
    }
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
        const x = this.#next ?? (headCompare(a, b) <= 0 ? a : b);
        const y = x === a ? b : a;
        this.#next = this.#run(x, y) ? y : undefined;
      } else {
        this.#next = undefined;
        if (aq && (b.ended || b.cut || this.#forced || this.#idle(b))) this.#run(a, undefined);
        else if (bq && (a.ended || a.cut || this.#forced || this.#idle(a))) this.#run(b, undefined);
        else break;
      }
      if (this.#batch.failed) this.#block();
    }
    // Everything this pass produced goes to the sink in one write (small frames are batched).
    if (!this.#batch.flush()) this.#block();
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
    // One side has lines, the other is quiet and still open: wait, at most holdMs. Likewise for
    // an unfinished line (a prompt): it goes out after holdMs without its newline.
    const stalled = !this.#blocked && (a.queue.length !== 0) !== (b.queue.length !== 0);
    const partial = !this.#blocked && (hasPartial(a) || hasPartial(b));
    if ((stalled || partial) && this.#holdMs > 0 && this.#timer === undefined) {
      this.#timer = setTimeout(() => {
        this.#timer = undefined;
        if (this.#finished) return;
        // A partial shorter than a timestamp prefix may be a prefix cut by a chunk boundary: wait.
        for (const s of this.sides) if (hasPartial(s)) s.splitter.flushPartial(s.onSeg, PREFIX_LENGTH + 1);
        // The side that kept us waiting has now been quiet for holdMs by the timer's clock: say so in
        // #idle's clock too. libuv fires timers by the loop's cached time, which can run a few ms
        // behind performance.now(), so the next push could otherwise still find that side "not
        // quiet yet" and hold a line the timer had just let through (seen under load).
        for (const s of this.sides)
          if (s.queue.length === 0) s.lastPush = Math.min(s.lastPush, performance.now() - this.#holdMs);
        this.#forced = true;
        this.#pump();
        this.#forced = false;
      }, this.#holdMs);
    } else if (!stalled && !partial) this.#clearTimer();
  }

  /**
   * Write side `x`'s lines while they are not later than `other`'s head (strictly earlier for
   * stderr, so ties go to stdout), or all of them with no `other`. Returns true when it stopped
   * because `other`'s head is next.
   */
  #run(x: Side, other: Side | undefined): boolean {
    let boundBuf: Buffer | undefined;
    let boundOff = 0;
    if (other !== undefined) {
      head(other);
      if (other.headStamped) {
        boundBuf = other.queue[0]!;
        boundOff = other.pos;
      } else if (other.lastTsBuf !== undefined) {
        boundBuf = other.lastTsBuf;
        boundOff = other.lastTsOff;
      }
    }
    const strict = x.stream === 2;
    const stamps = this.#stamps;
    // Nothing to compare, cut or strip: segments go out whole, no line is looked at.
    const whole = other === undefined && this.#keep && this.#until === undefined;
    while (x.queue.length !== 0 && !this.#blocked) {
      const seg = x.queue[0]!;
      const n = seg.length;
      const start = x.pos;
      if (whole && x.pastSince && this.#wholeSegment(x, seg, start)) continue;
      let from = start; // output starts here (lines before were dropped by since)
      let i = start;
      let tsBuf = x.lastTsBuf;
      let tsOff = x.lastTsOff;
      let stop = false;
      stamps.length = 0;
      // Pass 1: find where the run ends, applying since/until on the way.
      while (i < n) {
        let e: number;
        let stamped: boolean;
        if (i === start && x.headEnd >= 0) {
          e = x.headEnd;
          stamped = x.headStamped;
        } else {
          e = lineEnd(seg, i);
          stamped = hasTimestamp(seg, i, e);
        }
        if (boundBuf !== undefined && (stamped || tsBuf !== undefined)) {
          const c = stamped ? compareTs(seg, i, boundBuf, boundOff) : compareTs(tsBuf!, tsOff, boundBuf, boundOff);
          if (strict ? c >= 0 : c > 0) {
            x.headEnd = e; // this line is x's next head: keep what we learnt about it
            x.headStamped = stamped;
            stop = true;
            break;
          }
        }
        if (stamped) {
          tsBuf = seg;
          tsOff = i;
        }
        if (tsBuf !== undefined && !x.pastSince) {
          if (compareTs(tsBuf, tsOff, this.#since!, 0) < 0) {
            i = from = e;
            stamps.length = 0;
            continue;
          }
          x.pastSince = true;
        }
        if (this.#until !== undefined && tsBuf !== undefined && compareTs(tsBuf, tsOff, this.#until, 0) > 0) {
          x.cut = true;
          break;
        }
        if (stamped) stamps.push(i);
        i = e;
      }
      if (!stop) x.headEnd = -1;
      x.lastTsBuf = tsBuf;
      x.lastTsOff = tsOff;
      // Pass 2: one frame for the run's part of this segment.
      if (i > from) {
        if (this.#keep || stamps.length === 0) {
          this.bytes += i - from;
          this.#batch.frame(x.stream, from === 0 && i === n ? seg : seg.subarray(from, i));
        } else this.#writeStripped(x, seg, from, i, stamps);
      }
      x.queued -= i - start;
      if (i === n) {
        x.queue.shift();
        x.pos = 0;
      } else x.pos = i;
      if (x.cut) {
        this.#cut(x);
        return false;
      }
      if (stop) return true;
    }
    return false;
  }

  /**
   * Write the rest of `seg` as one frame without a per-line pass; only its last line's timestamp is
   * kept (the bound for the other side's lines later). False, with nothing done, when that last
   * line carries none (a cut long line's continuation): the per-line pass finds the one before.
   */
  #wholeSegment(x: Side, seg: Buffer, start: number): boolean {
    const n = seg.length;
    const last = lastLineStart(seg, start);
    if (!hasTimestamp(seg, last, n)) return false;
    x.lastTsBuf = seg;
    x.lastTsOff = last;
    x.headEnd = -1;
    this.bytes += n - start;
    this.#batch.frame(x.stream, start === 0 ? seg : seg.subarray(start));
    x.queued -= n - start;
    x.queue.shift();
    x.pos = 0;
    return true;
  }

  /**
   * follow mode: the side has sent nothing for holdMs. Its next line can only be later than what
   * the other side queues now (unless it is delayed in transit by more than holdMs), so the other
   * side flows without waiting: a producer writing only stdout (the common case) is not held back
   * holdMs per chunk by a silent stderr.
   */
  #idle(s: Side): boolean {
    return this.#holdMs > 0 && performance.now() - s.lastPush >= this.#holdMs;
  }

  #cut(x: Side): void {
    // Past `until`: nothing more from this side. Keep its source paused; the caller closes it.
    x.queue.length = 0;
    x.pos = 0;
    x.queued = 0;
    x.headEnd = -1;
    x.gate.hold(HOLD_USER);
  }

  /** One frame: the lines `[from, to)` of `seg` without the prefixes at `stamps`. */
  #writeStripped(x: Side, seg: Buffer, from: number, to: number, stamps: number[]): void {
    const len = strippedLength(from, to, stamps);
    if (len === 0) return;
    this.bytes += len;
    const at = this.#batch.reserve(x.stream, len, to - from);
    stripInto(seg, from, to, stamps, this.#batch.buffer, at);
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

/** The side is open and holds an unfinished line. */
function hasPartial(s: Side): boolean {
  return !s.ended && !s.cut && s.splitter.pending > 0;
}

/** Learn the end and prefix of `s`'s head line once. */
function head(s: Side): void {
  if (s.headEnd >= 0) return;
  const seg = s.queue[0]!;
  s.headEnd = lineEnd(seg, s.pos);
  s.headStamped = hasTimestamp(seg, s.pos, s.headEnd);
}

/** Compare the two sides' next lines; a side with no known timestamp sorts first. */
function headCompare(a: Side, b: Side): number {
  head(a);
  head(b);
  const ab = a.headStamped ? a.queue[0]! : a.lastTsBuf;
  const bb = b.headStamped ? b.queue[0]! : b.lastTsBuf;
  if (ab === undefined) return -1;
  if (bb === undefined) return 1;
  return compareTs(ab, a.headStamped ? a.pos : a.lastTsOff, bb, b.headStamped ? b.pos : b.lastTsOff);
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
  stdout: MergeSource,
  stderr: MergeSource,
  sink: DrainableSink & Emitter,
  opts: LogMergeOptions = {},
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
