/**
 * @module stream/stdcopy
 * Docker's multiplexed stream ("stdcopy") framing: an 8-byte header `[stream, 0, 0, 0, len as
 * big-endian uint32]` and then `len` payload bytes (moby `pkg/stdcopy` / `daemon/server/stdcopymux`).
 * One write becomes one frame; zero-length frames are legal.
 *
 * {@link writeFrame} emits header + payload without copying large payloads; {@link StdcopyDemuxer}
 * parses a byte stream back into frames whatever the chunking, and fails like Go's `StdCopy`.
 */
import { EngineError } from '../errors.js';
import type { ByteSink } from './backpressure.js';

/** Stream ids of the header's byte 0 (moby stdcopy `StdType`). */
export const STDIN = 0;
export const STDOUT = 1;
export const STDERR = 2;
/** "systemerr": the daemon reports an error inside the stream; clients fail with its text. */
export const SYSTEMERR = 3;
export type StdStream = 0 | 1 | 2 | 3;

export const HEADER_LENGTH = 8;
/** The length field is a uint32, so one frame carries at most 2^32-1 bytes. */
export const MAX_FRAME_PAYLOAD = 0xffffffff;

/**
 * Payloads up to this size are copied behind their header into one buffer and written once;
 * larger ones are written as two chunks between `cork()`/`uncork()` so the socket sends both with
 * one writev and the payload is never copied.
 * Benchmark: bench/micro/stdcopy-write (loopback TCP, reader in a child process), writer MiB per
 * CPU-second relative to an unframed `socket.write`, two runs: copy 0.70-0.91 vs cork 0.64-0.82 up
 * to 1 KiB (one write beats the `_writev` bookkeeping); from 16 KiB cork 0.63-1.2 vs copy 0.40-0.72
 * (the copy costs more than the bookkeeping); 4 KiB in between. Hence the crossover at 2 KiB;
 * `setCopyThreshold(0)` makes every frame zero-copy.
 */
export let COPY_THRESHOLD = 2048;

/** For benchmarks only: change the copy/cork crossover. */
export function setCopyThreshold(n: number): void {
  COPY_THRESHOLD = n;
}

/** A fresh 8-byte header for `stream` and `length`. */
export function frameHeader(stream: StdStream, length: number): Buffer {
  // allocUnsafe(8) comes from Node's shared pool: no zero-fill, no new ArrayBuffer.
  const h = Buffer.allocUnsafe(HEADER_LENGTH);
  h.writeUInt32BE(0, 0);
  h[0] = stream;
  h.writeUInt32BE(length, 4);
  return h;
}

/** Header + payload in one new buffer (one copy of the payload). */
export function encodeFrame(stream: StdStream, payload: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(HEADER_LENGTH + payload.length);
  out.writeUInt32BE(0, 0);
  out[0] = stream;
  out.writeUInt32BE(payload.length, 4);
  out.set(payload, HEADER_LENGTH);
  return out;
}

/**
 * Write one frame (or several, see `maxFrame`) for `payload` on `sink`, returning `write()`'s
 * verdict: `false` means the caller must pause its source until the sink's `'drain'`.
 *
 * Small payloads are copied into one buffer (one write); large ones go out as header + the
 * caller's own buffer inside cork/uncork (one writev, no copy). A sink without cork() gets two
 * plain writes. The payload buffer must not be modified until the sink has consumed it (the usual
 * Writable rule).
 *
 * @param maxFrame split payloads longer than this into several frames (default and upper bound
 *   2^32-1, the header's limit).
 */
export function writeFrame(
  sink: ByteSink,
  stream: StdStream,
  payload: Uint8Array,
  maxFrame = MAX_FRAME_PAYLOAD,
): boolean {
  const n = payload.length;
  if (n > maxFrame || n > MAX_FRAME_PAYLOAD)
    return writeSplit(sink, stream, payload, Math.min(maxFrame, MAX_FRAME_PAYLOAD));
  if (n <= COPY_THRESHOLD) return sink.write(encodeFrame(stream, payload));
  return writeCorked(sink, stream, payload);
}

/** Header and payload as two writes inside cork/uncork: one writev, zero copies. */
export function writeCorked(sink: ByteSink, stream: StdStream, payload: Uint8Array): boolean {
  const header = frameHeader(stream, payload.length);
  if (sink.cork === undefined || sink.uncork === undefined) {
    sink.write(header);
    return sink.write(payload);
  }
  sink.cork();
  sink.write(header);
  const ok = sink.write(payload);
  sink.uncork();
  return ok;
}

function writeSplit(sink: ByteSink, stream: StdStream, payload: Uint8Array, maxFrame: number): boolean {
  if (maxFrame < 1) throw new RangeError('stdcopy: maxFrame must be at least 1');
  // Cork around the whole run so the pieces still leave in one writev.
  sink.cork?.();
  let ok = true;
  for (let off = 0; off < payload.length; off += maxFrame) {
    const piece = payload.subarray(off, Math.min(off + maxFrame, payload.length));
    ok = piece.length <= COPY_THRESHOLD ? sink.write(encodeFrame(stream, piece)) : writeCorked(sink, stream, piece);
  }
  sink.uncork?.();
  return ok;
}

/**
 * Packs many small frames into one buffer and hands it to the sink in one `write()` at
 * {@link FrameBatcher.flush}: for producers that emit runs of short frames in one go (the log merge
 * writes a frame per line when stdout and stderr alternate). Payloads above COPY_THRESHOLD are not
 * copied: the batch is flushed and they go out as header + view.
 * Benchmark: bench/micro/log-lines "merge alternating" rows.
 */
export class FrameBatcher {
  readonly #sink: ByteSink;
  readonly #size: number;
  #buf: Buffer | undefined;
  #w = 0;
  #failed = false;

  constructor(sink: ByteSink, size = 64 * 1024) {
    this.#sink = sink;
    this.#size = size;
  }

  /** True once a write made on the way returned false (reset by flush()). */
  get failed(): boolean {
    return this.#failed;
  }

  /** Queue one frame. */
  frame(stream: StdStream, payload: Uint8Array): void {
    if (payload.length > COPY_THRESHOLD) {
      this.#flushBuf();
      if (!writeCorked(this.#sink, stream, payload)) this.#failed = true;
      return;
    }
    const at = this.reserve(stream, payload.length);
    this.#buf!.set(payload, at);
  }

  /**
   * Room for a frame of `len` payload bytes: the header is written; fill `buffer` from the returned
   * offset with exactly `len` bytes before the next call. `room` (at least `len`) bytes from that
   * offset may be used as scratch on the way (a strip copies whole lines, then squeezes them).
   */
  reserve(stream: StdStream, len: number, room = len): number {
    const need = HEADER_LENGTH + len;
    if (this.#buf === undefined || this.#w + HEADER_LENGTH + room > this.#buf.length) {
      this.#flushBuf();
      this.#buf = Buffer.allocUnsafe(Math.max(this.#size, HEADER_LENGTH + room));
    }
    const b = this.#buf;
    const w = this.#w;
    b.writeUInt32BE(0, w);
    b[w] = stream;
    b.writeUInt32BE(len, w + 4);
    this.#w = w + need;
    return w + HEADER_LENGTH;
  }

  /** The batch buffer that {@link reserve} offsets point into. */
  get buffer(): Buffer {
    return this.#buf!;
  }

  /** Write what is batched. Returns false if this or any earlier write since the last flush did. */
  flush(): boolean {
    this.#flushBuf();
    const ok = !this.#failed;
    this.#failed = false;
    return ok;
  }

  #flushBuf(): void {
    if (this.#w === 0) return;
    const b = this.#buf!;
    const out = b.subarray(0, this.#w);
    // The rest of the buffer stays ours for the next frames; the sink only holds `out`.
    this.#buf = this.#w + HEADER_LENGTH < b.length ? b.subarray(this.#w) : undefined;
    this.#w = 0;
    if (!this.#sink.write(out)) this.#failed = true;
  }
}

/**
 * Receives demultiplexed bytes. `data` is a view into the pushed chunk (valid until the callback
 * returns if the caller reuses its buffers); a frame may arrive in several pieces, `frameEnd` marks
 * its last one. A zero-length frame is reported once with an empty `data`.
 */
export type DemuxCallback = (stream: 0 | 1 | 2, data: Buffer, frameEnd: boolean) => void;

const EMPTY = Buffer.alloc(0);
/** The systemerr text is kept up to this size for the error message. */
const MAX_SYSTEMERR = 64 * 1024;

/**
 * Streaming stdcopy parser: survives frames split at any byte and many frames per chunk, never
 * copies stdout/stderr payload. Errors follow Go's `stdcopy.StdCopy`: a type-3 frame fails with
 * "error from daemon in stream: <text>", any type above 3 with "Unrecognized input header: <n>".
 * Type 0 (stdin) is reported as 0; Go writes it to stdout, and {@link demuxToStreams} does so too.
 */
export class StdcopyDemuxer {
  readonly #onData: DemuxCallback;
  readonly #header = Buffer.allocUnsafe(HEADER_LENGTH);
  #headerFill = 0;
  #stream: StdStream = 1;
  #remaining = -1; // -1: reading a header; >= 0: payload bytes still due
  #errParts: Buffer[] = [];
  #errLen = 0;
  #failed: EngineError | undefined;
  /** Number of complete frames seen. */
  frames = 0;

  constructor(onData: DemuxCallback) {
    this.#onData = onData;
  }

  /** Bytes of an unfinished frame (header or payload) held at this point; 0 on a frame boundary. */
  get pending(): number {
    return this.#remaining < 0 ? this.#headerFill : HEADER_LENGTH + this.#remaining;
  }

  /** Feed bytes. Throws an `EngineError` (category system) on a systemerr or unknown frame. */
  push(chunk: Buffer): void {
    if (this.#failed) throw this.#failed;
    let pos = 0;
    const len = chunk.length;
    while (pos < len) {
      if (this.#remaining < 0) {
        // Fast path: a whole header inside this chunk needs no scratch copy.
        let h: Buffer;
        let base: number;
        if (this.#headerFill === 0 && len - pos >= HEADER_LENGTH) {
          h = chunk;
          base = pos;
          pos += HEADER_LENGTH;
        } else {
          const take = Math.min(HEADER_LENGTH - this.#headerFill, len - pos);
          chunk.copy(this.#header, this.#headerFill, pos, pos + take);
          this.#headerFill += take;
          pos += take;
          if (this.#headerFill < HEADER_LENGTH) return;
          this.#headerFill = 0;
          h = this.#header;
          base = 0;
        }
        const type = h[base]!;
        if (type > SYSTEMERR) throw this.#fail(`Unrecognized input header: ${type}`);
        this.#stream = type as StdStream;
        this.#remaining = h.readUInt32BE(base + 4);
        if (this.#remaining === 0) this.#frameDone(EMPTY);
        continue;
      }
      const take = Math.min(this.#remaining, len - pos);
      const piece = chunk.subarray(pos, pos + take);
      pos += take;
      this.#remaining -= take;
      if (this.#remaining === 0) this.#frameDone(piece);
      else if (this.#stream === SYSTEMERR) this.#keepErr(piece);
      else this.#onData(this.#stream as 0 | 1 | 2, piece, false);
    }
  }

  /**
   * The source ended. Returns the bytes of a truncated last frame (0 when the stream ended on a
   * frame boundary); Go's StdCopy ignores such a tail silently, callers may treat it as an error.
   */
  end(): number {
    if (this.#failed) throw this.#failed;
    return this.pending;
  }

  #frameDone(last: Buffer): void {
    this.#remaining = -1;
    this.frames++;
    if (this.#stream === SYSTEMERR) {
      this.#keepErr(last);
      const text = Buffer.concat(this.#errParts, this.#errLen).toString('utf8');
      throw this.#fail(`error from daemon in stream: ${text}`);
    }
    this.#onData(this.#stream as 0 | 1 | 2, last, true);
  }

  #keepErr(piece: Buffer): void {
    const room = MAX_SYSTEMERR - this.#errLen;
    if (room <= 0 || piece.length === 0) return;
    const kept = piece.length > room ? piece.subarray(0, room) : piece;
    this.#errParts.push(Buffer.from(kept));
    this.#errLen += kept.length;
  }

  #fail(message: string): EngineError {
    this.#failed = new EngineError('system', message, { code: 'KAPI_ERR_STDCOPY' });
    return this.#failed;
  }
}

/**
 * Go `StdCopy` semantics over a demuxer: stdin (0) and stdout (1) frames go to `stdout`, stderr to
 * `stderr`. Returns the demuxer to push into.
 */
export function demuxToStreams(stdout: (b: Buffer) => void, stderr: (b: Buffer) => void): StdcopyDemuxer {
  return new StdcopyDemuxer((stream, data) => {
    if (data.length === 0) return;
    if (stream === STDERR) stderr(data);
    else stdout(data);
  });
}

/** One parsed frame (test and client helper). */
export interface Frame {
  stream: 0 | 1 | 2;
  payload: Buffer;
}

/**
 * Parse a complete buffer into frames (copies pieces of split frames together). For tests and
 * small client reads; the hot path uses {@link StdcopyDemuxer} directly.
 */
export function parseFrames(buf: Buffer): { frames: Frame[]; pending: number } {
  const frames: Frame[] = [];
  let parts: Buffer[] = [];
  const d = new StdcopyDemuxer((stream, data, end) => {
    parts.push(data);
    if (end) {
      frames.push({ stream, payload: parts.length === 1 ? parts[0]! : Buffer.concat(parts) });
      parts = [];
    }
  });
  d.push(buf);
  return { frames, pending: d.end() };
}
