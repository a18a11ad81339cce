/**
 * @module stream/log-frames
 * One pods/log body -> Docker log output (moby api/server/httputils/write_log_stream.go): stdcopy
 * frames on one stream for a non-TTY container, raw bytes for a TTY one.
 *
 * - Pass-through (no timestamps asked of Kubernetes, or kept and nothing to filter): each chunk
 *   becomes one frame, no per-line work at all. Frame boundaries carry no meaning for Docker
 *   clients (StdCopy concatenates), so whole chunks are fine where moby writes a frame per line.
 * - Per line (Kubernetes timestamps present and either stripped or filtered by since/until): lines
 *   split across chunks are joined, the 31-byte prefix is kept or dropped, and every run of output
 *   lines of a chunk still goes out as one frame.
 */
import { Buffer } from 'node:buffer';
import { HEADER_LENGTH, writeFrame } from './stdcopy.js';
import { PauseGate, HOLD_SINK, HOLD_USER, type ByteSink, type DrainableSink, type Pausable } from './backpressure.js';
import { LineSplitter, hasTimestamp, compareTs, lineEnd, strippedLength, stripInto, MAX_LINE } from './log-lines.js';
import type { Emitter } from './bridge.js';

/** Options of {@link LogFramer}. */
export interface LogFramerOptions {
  /** The stdcopy stream for these bytes (default 1, stdout). Ignored with `tty`. */
  stream?: 1 | 2;
  /** A TTY container's logs are raw bytes, no frames (moby getContainersLogs: stdcopy only without a TTY). */
  tty?: boolean;
  /** The body carries Kubernetes timestamps (the request had `timestamps=true`). */
  timestamped?: boolean;
  /** Keep the prefix (`docker logs -t`); otherwise it is stripped. Only with `timestamped`. */
  keepTimestamps?: boolean;
  /** Drop lines before this key (moby: `Timestamp.Before(since)`), see `timestampKey`. */
  since?: Buffer;
  /** End at the first line after this key (moby: `Timestamp.After(until)` stops the stream). */
  until?: Buffer;
  maxLine?: number;
}

/**
 * Turns log body chunks into Docker log writes on `sink`. `push()`/`end()` return the sink's
 * verdict (false: pause the source until 'drain'); {@link LogFramer.done} turns true once a line
 * after `until` was seen (the caller closes the upstream request).
 */
export class LogFramer {
  done = false;
  /** Bytes handed to the sink, headers excluded. */
  bytes = 0;
  readonly #sink: ByteSink;
  readonly #stream: 1 | 2;
  readonly #tty: boolean;
  readonly #perLine: boolean;
  readonly #keep: boolean;
  readonly #since: Buffer | undefined;
  readonly #until: Buffer | undefined;
  readonly #splitter: LineSplitter | undefined;
  #pastSince: boolean;
  #ok = true;
  // The last timestamp seen (a view, pins one segment), for lines that have none (a cut long
  // line's continuation).
  #lastTsBuf: Buffer | undefined;
  #lastTsOff = 0;
  readonly #stamps: number[] = [];
  readonly #onSeg = (seg: Buffer): void => this.#segment(seg);

  constructor(sink: ByteSink, opts: LogFramerOptions = {}) {
    this.#sink = sink;
    this.#stream = opts.stream ?? 1;
    this.#tty = opts.tty ?? false;
    this.#keep = opts.keepTimestamps ?? false;
    this.#since = opts.since;
    this.#until = opts.until;
    this.#pastSince = this.#since === undefined;
    this.#perLine =
      (opts.timestamped ?? false) && (!this.#keep || this.#since !== undefined || this.#until !== undefined);
    this.#splitter = this.#perLine ? new LineSplitter(opts.maxLine ?? MAX_LINE) : undefined;
  }

  /** Whether this framer looks at lines at all (false: chunk pass-through). */
  get perLine(): boolean {
    return this.#perLine;
  }

  /** Feed a body chunk. Returns false when the sink asked to pause. */
  push(chunk: Buffer): boolean {
    if (this.done) return true;
    if (!this.#perLine) {
      if (chunk.length !== 0) this.#out(chunk);
      return this.#take();
    }
    this.#splitter!.push(chunk, this.#onSeg);
    return this.#take();
  }

  /** The body ended: flush an unterminated last line. */
  end(): boolean {
    if (!this.done) this.#splitter?.end(this.#onSeg);
    return this.#take();
  }

  #take(): boolean {
    const ok = this.#ok;
    this.#ok = true;
    return ok;
  }

  #out(payload: Buffer): void {
    this.bytes += payload.length;
    const ok = this.#tty ? this.#sink.write(payload) : writeFrame(this.#sink, this.#stream, payload);
    if (!ok) this.#ok = false;
  }

  #segment(seg: Buffer): void {
    if (this.done) return;
    const n = seg.length;
    const keep = this.#keep;
    const since = this.#since;
    const until = this.#until;
    const stamps = this.#stamps;
    stamps.length = 0;
    let from = 0; // lines before `from` were dropped by since (always a prefix: since flips once)
    let tsBuf = this.#lastTsBuf;
    let tsOff = this.#lastTsOff;
    let i = 0;
    while (i < n) {
      const e = lineEnd(seg, i);
      const stamped = hasTimestamp(seg, i, e);
      if (stamped) {
        tsBuf = seg;
        tsOff = i;
      }
      if (tsBuf !== undefined && !this.#pastSince) {
        if (compareTs(tsBuf, tsOff, since!, 0) < 0) {
          i = from = e;
          stamps.length = 0;
          continue;
        }
        this.#pastSince = true;
      }
      if (until !== undefined && tsBuf !== undefined && compareTs(tsBuf, tsOff, until, 0) > 0) {
        this.done = true;
        break;
      }
      if (stamped && !keep) stamps.push(i);
      i = e;
    }
    this.#lastTsBuf = tsBuf;
    this.#lastTsOff = tsOff;
    if (i <= from) return;
    if (stamps.length === 0) {
      this.#out(from === 0 && i === n ? seg : seg.subarray(from, i));
      return;
    }
    // Strip: the kept bytes in one buffer with room for the frame header in front.
    const len = strippedLength(from, i, stamps);
    if (len === 0) return;
    const head = this.#tty ? 0 : HEADER_LENGTH;
    // Room for the whole run: stripInto copies it, then squeezes the prefixes out in place.
    const out = Buffer.allocUnsafe(head + i - from);
    stripInto(seg, from, i, stamps, out, head);
    this.bytes += len;
    if (!this.#tty) {
      out.writeUInt32BE(0, 0);
      out[0] = this.#stream;
      out.writeUInt32BE(len, 4);
    }
    if (!this.#sink.write(out.subarray(0, head + len))) this.#ok = false;
  }
}

/** A readable log body (an `IncomingMessage` fits). */
export interface LogSource extends Pausable, Emitter {}

/** How a log pump ended. */
export type LogPumpEnd = 'end' | 'until' | 'client-closed' | 'stopped' | { error: Error };

/** A running {@link pumpLog}. */
export interface LogPump {
  /** Settles once; listeners are removed by then. On anything but 'end' close the upstream. */
  readonly done: Promise<LogPumpEnd>;
  readonly gate: PauseGate;
  stop(): void;
}

/**
 * Feed `source` through `framer` into `sink` with backpressure: a false from the sink pauses the
 * source until 'drain'. Resolves 'end' when the body ended (the caller then ends the response),
 * 'until' when the framer passed `until`, 'client-closed' when the sink closed.
 */
export function pumpLog(source: LogSource, sink: DrainableSink & Emitter, framer: LogFramer): LogPump {
  const gate = new PauseGate(source);
  let settled = false;
  let resolveDone!: (e: LogPumpEnd) => void;
  const done = new Promise<LogPumpEnd>((r) => (resolveDone = r));
  const onDrain = (): void => gate.release(HOLD_SINK);
  const blocked = (): void => {
    if (gate.holds(HOLD_SINK)) return;
    gate.hold(HOLD_SINK);
    sink.once('drain', onDrain);
  };
  const onData = (chunk: Buffer): void => {
    if (!framer.push(chunk)) blocked();
    if (framer.done) finish('until');
  };
  const onEnd = (): void => {
    framer.end();
    finish('end');
  };
  const onError = (error: Error): void => finish({ error });
  const onClose = (): void => finish('client-closed');
  function finish(end: LogPumpEnd): void {
    if (settled) return;
    settled = true;
    source.removeListener('data', onData);
    source.removeListener('end', onEnd);
    source.removeListener('error', onError);
    sink.removeListener('close', onClose);
    sink.removeListener('drain', onDrain);
    // Anything but a normal end leaves the body paused: the caller closes the upstream request,
    // and until then it must not keep flowing to nobody.
    if (end !== 'end') gate.hold(HOLD_USER);
    gate.close(end === 'end');
    resolveDone(end);
  }
  source.on('data', onData);
  source.on('end', onEnd);
  source.on('error', onError);
  sink.on('close', onClose);
  return { done, gate, stop: () => finish('stopped') };
}
