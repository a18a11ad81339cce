/**
 * @module stream/log-lines
 * Line handling for Kubernetes log bodies with `timestamps=true`: every line starts with
 * `2006-01-02T15:04:05.000000000Z ` (RFC 3339, UTC, exactly 9 fractional digits, one space:
 * kubelet pkg/kubelet/kuberuntime/logs/logs.go, RFC3339NanoFixed). Docker's `logs -t` prints the
 * same format (moby api/server/httputils/write_log_stream.go, `jsonmessage.RFC3339NanoFixed`), so
 * keeping a prefix costs nothing and stripping it is a byte slice.
 *
 * The timestamps are fixed width and UTC, so byte order is time order: comparisons are plain byte
 * compares of 30 bytes, never Date objects on the hot path.
 */
import { Buffer } from 'node:buffer';

/** `2006-01-02T15:04:05.000000000Z`: the timestamp's length. */
export const TS_LENGTH = 30;
/** Timestamp plus the separating space. */
export const PREFIX_LENGTH = 31;
/** A line longer than this (no newline yet) is cut and handled as a line (bounds memory). */
export const MAX_LINE = 1 << 20;

const NL = 0x0a;

/**
 * True when `buf[at..end)` starts with a well-formed timestamp prefix. Checks the separators only
 * (cheap; the kubelet writes these, we just guard against a line cut by {@link MAX_LINE} or a
 * stream that is not timestamped).
 */
export function hasTimestamp(buf: Uint8Array, at: number, end: number): boolean {
  return (
    end - at >= PREFIX_LENGTH &&
    buf[at + 30] === 0x20 && // ' '
    buf[at + 29] === 0x5a && // 'Z'
    buf[at + 19] === 0x2e && // '.'
    buf[at + 10] === 0x54 && // 'T'
    buf[at + 4] === 0x2d && // '-'
    buf[at + 13] === 0x3a // ':'
  );
}

/** Compare two 30-byte timestamps (byte order = time order). Negative, 0, positive. */
export function compareTs(a: Uint8Array, ai: number, b: Uint8Array, bi: number): number {
  for (let i = 0; i < TS_LENGTH; i++) {
    const d = a[ai + i]! - b[bi + i]!;
    if (d !== 0) return d;
  }
  return 0;
}

/**
 * The 30-byte comparison key for a Docker `since`/`until` value: unix seconds with an optional
 * fraction (`1700000000`, `1700000000.5`, what moby's `timetypes.ParseTimestamps` reads) or an
 * RFC 3339 time (with any offset). Returns `undefined` for an empty or zero value (moby: unset).
 * Throws a RangeError on anything else. Not for the hot path (it uses Date once).
 */
export function timestampKey(value: string): Buffer | undefined {
  const v = value.trim();
  if (v === '') return undefined;
  let sec: number;
  let nanos: string;
  const unix = /^(-?\d+)(?:\.(\d*))?$/.exec(v);
  if (unix) {
    sec = Number(unix[1]);
    // moby scales the fraction to nanoseconds: ".5" is 500000000.
    nanos = (unix[2] ?? '').slice(0, 9).padEnd(9, '0');
    if (sec === 0 && /^0*$/.test(nanos)) return undefined;
  } else {
    const m = /^(\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2})(?:\.(\d+))?([Zz]|[+-]\d{2}:?\d{2})$/.exec(v);
    if (!m) throw new RangeError(`invalid time value: ${value}`);
    const ms = Date.parse(`${m[1]!.replace(' ', 'T')}${m[3]!.toUpperCase()}`);
    if (Number.isNaN(ms)) throw new RangeError(`invalid time value: ${value}`);
    sec = Math.floor(ms / 1000);
    nanos = (m[2] ?? '').slice(0, 9).padEnd(9, '0');
  }
  return formatKey(sec, nanos);
}

/** The key for `sec` seconds and a 9-digit nanosecond string, clamped to years 0000..9999. */
export function formatKey(sec: number, nanos = '000000000'): Buffer {
  const min = -62167219200; // 0000-01-01T00:00:00Z
  const max = 253402300799; // 9999-12-31T23:59:59Z
  if (sec < min) return Buffer.from('0000-01-01T00:00:00.000000000Z', 'latin1');
  if (sec > max) return Buffer.from('9999-12-31T23:59:59.999999999Z', 'latin1');
  const iso = new Date(sec * 1000).toISOString(); // 2023-11-14T22:13:20.000Z
  return Buffer.from(`${iso.slice(0, 19)}.${nanos}Z`, 'latin1');
}

/**
 * Cuts a byte stream into segments that hold only whole lines (each ending in `\n`), copying only
 * the pieces of a line that spans chunks. A line longer than `maxLine` is passed on cut (as if it
 * ended there); `end()` passes on a last line that has no newline.
 */
export class LineSplitter {
  readonly maxLine: number;
  #carry: Buffer[] = [];
  #carryLen = 0;

  constructor(maxLine = MAX_LINE) {
    this.maxLine = maxLine;
  }

  /** Bytes of an unfinished line held back. */
  get pending(): number {
    return this.#carryLen;
  }

  /** Feed a chunk; `emit` is called with zero or more whole-line segments, in order. */
  push(chunk: Buffer, emit: (seg: Buffer) => void): void {
    let start = 0;
    const len = chunk.length;
    if (this.#carryLen !== 0) {
      const nl = chunk.indexOf(NL);
      if (nl < 0) {
        this.#keep(chunk, emit);
        return;
      }
      this.#carry.push(chunk.subarray(0, nl + 1));
      emit(Buffer.concat(this.#carry, this.#carryLen + nl + 1));
      this.#carry = [];
      this.#carryLen = 0;
      start = nl + 1;
    }
    if (start >= len) return;
    const last = chunk.lastIndexOf(NL);
    if (last < start) {
      this.#keep(start === 0 ? chunk : chunk.subarray(start), emit);
      return;
    }
    emit(start === 0 && last === len - 1 ? chunk : chunk.subarray(start, last + 1));
    if (last + 1 < len) this.#keep(chunk.subarray(last + 1), emit);
  }

  /** The input ended: pass on the unterminated last line, if any. */
  end(emit: (seg: Buffer) => void): void {
    if (this.#carryLen === 0) return;
    const seg = this.#carry.length === 1 ? this.#carry[0]! : Buffer.concat(this.#carry, this.#carryLen);
    this.#carry = [];
    this.#carryLen = 0;
    emit(seg);
  }

  /**
   * Pass on the unfinished line now if it holds at least `minLen` bytes; the splitter goes on
   * (its next bytes continue that line). For a prompt written without a newline in follow mode.
   */
  flushPartial(emit: (seg: Buffer) => void, minLen = 1): boolean {
    if (this.#carryLen === 0 || this.#carryLen < minLen) return false;
    this.end(emit);
    return true;
  }

  #keep(piece: Buffer, emit: (seg: Buffer) => void): void {
    this.#carry.push(piece);
    this.#carryLen += piece.length;
    if (this.#carryLen >= this.maxLine) this.end(emit);
  }
}

/** Index just past the line that starts at `at` in a whole-line segment. */
export function lineEnd(seg: Buffer, at: number): number {
  const nl = seg.indexOf(NL, at);
  return nl < 0 ? seg.length : nl + 1;
}

/** Index where the last line of a whole-line segment starts, at or after `from`. */
export function lastLineStart(seg: Buffer, from: number): number {
  if (seg.length - from < 2) return from;
  return Math.max(from, seg.lastIndexOf(NL, seg.length - 2) + 1);
}

/** Length of the bytes `[from, to)` once the prefixes at `stamps` are removed. */
export function strippedLength(from: number, to: number, stamps: readonly number[]): number {
  return to - from - stamps.length * PREFIX_LENGTH;
}

/**
 * Copy the bytes `[from, to)` of `seg` without the 31-byte prefixes that start at `stamps` into
 * `out` at `w`; returns the end offset. `out` needs room for all `to - from` bytes at `w` (the
 * prefixes are copied first and squeezed out in place), though only the returned length is
 * meaningful. One copy of the run, then one `copyWithin` per line: no Buffer object is made per
 * line. bench/micro/log-lines measured this at ~0.25 CPU-s per GiB of ~100-byte lines against ~0.6
 * for a `set(seg.subarray())` per line, whose per-line view objects were also the garbage
 * collector's work in the split-stream `logs -f` profile (bench/optimisations.md, 9).
 */
export function stripInto(
  seg: Buffer,
  from: number,
  to: number,
  stamps: readonly number[],
  out: Buffer,
  w: number,
): number {
  out.set(from === 0 && to === seg.length ? seg : seg.subarray(from, to), w);
  const shift = w - from; // seg offset k sits at out offset k + shift
  let at = from;
  for (let k = 0; k < stamps.length; k++) {
    const s = stamps[k]!;
    if (s > at) {
      if (w !== at + shift) out.copyWithin(w, at + shift, s + shift);
      w += s - at;
    }
    at = s + PREFIX_LENGTH;
  }
  if (to > at) {
    if (w !== at + shift) out.copyWithin(w, at + shift, to + shift);
    w += to - at;
  }
  return w;
}
