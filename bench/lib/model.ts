/**
 * @module bench/lib/model
 * The deterministic producer every byte-stream scenario uses, and its local model.
 *
 * The stream is made of 1 MiB blocks of 8192 lines of 128 bytes: lines 0..8190 are
 * `NNNNN <filler>\n` (the line number, zero-padded) and the last line of block n is
 * `B<n, 10 digits> <filler>\n`, so every block is different and a lost, duplicated or reordered
 * block is caught, not only a corrupted byte. Inside busybox the block is built once with awk and
 * then `cat` (sendfile) plus one `printf` per MiB write it, so the producer runs at several
 * hundred MiB/s and is not what a scenario measures. The local model generates the same bytes, and
 * the {@link Verifier} compares every received byte against it (memcmp on slices: an exact check,
 * stronger than a checksum, and ~40 ms per GiB so the consumer stays cheap). Variants:
 * - TTY: the pty's ONLCR turns each `\n` into `\r\n` (129-byte lines);
 * - timestamps: each line starts with a 31-byte RFC 3339 timestamp with 9 fractional digits and a
 *   space (Kubernetes and Docker both write exactly this); the verifier checks its shape and the
 *   line after it.
 */

export const LINE = 128;
export const LINES_PER_BLOCK = 8192;
export const BLOCK = LINE * LINES_PER_BLOCK; // 1 MiB
export const TS_LEN = 31; // "2006-01-02T15:04:05.000000000Z "
const FILL_A = 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ-kuber-api-bench-'
  .repeat(2)
  .slice(0, 121);
const FILL_B = FILL_A.slice(0, 115);

/** `sh -c SCRIPT sh BLOCKS`: writes BLOCKS MiB of the stream on stdout and exits 0. */
export const PRODUCER_SCRIPT =
  `f=${FILL_A}; g=${FILL_B}; b=/tmp/.kapi-bench.$$; ` +
  `awk -v f="$f" 'BEGIN{for(i=0;i<8191;i++) printf "%05d %s\\n", i, f}' > $b || exit 90; ` +
  `n=0; while [ $n -lt "$1" ]; do cat $b; printf 'B%010d %s\\n' $n "$g"; n=$((n+1)); done; rm -f $b`;

/** The producer's argv for a container's Cmd or an exec. */
export function producerCmd(blocks: number): string[] {
  return ['sh', '-c', PRODUCER_SCRIPT, 'sh', String(blocks)];
}

/** As producerCmd, but first wait for one line on stdin (so a direct attach misses nothing). */
export function triggeredProducerCmd(blocks: number, tty: boolean): string[] {
  // With a TTY the typed newline would be echoed: turn echo off first (the first output byte is
  // then the stream's first byte on every path).
  return ['sh', '-c', `${tty ? 'stty -echo; ' : ''}read x; ${PRODUCER_SCRIPT}`, 'sh', String(blocks)];
}

export interface StreamShape {
  blocks: number;
  /** Line terminator: '\n', or '\r\n' through a pty. */
  tty?: boolean;
  /** Lines carry a 31-byte timestamp prefix (logs with timestamps). */
  timestamps?: boolean;
}

const pad = (n: number, w: number) => String(n).padStart(w, '0');

/** The 8191 fixed lines of every block (the same for every block), with the given terminator. */
export function baseBlock(tty = false): Buffer {
  const eol = tty ? '\r\n' : '\n';
  const parts: string[] = [];
  for (let i = 0; i < LINES_PER_BLOCK - 1; i++) parts.push(`${pad(i, 5)} ${FILL_A}${eol}`);
  return Buffer.from(parts.join(''), 'latin1');
}

export function markerLine(n: number, tty = false): Buffer {
  return Buffer.from(`B${pad(n, 10)} ${FILL_B}${tty ? '\r\n' : '\n'}`, 'latin1');
}

/** The exact byte count of a stream. */
export function streamBytes(s: StreamShape): number {
  const line = LINE + (s.tty ? 1 : 0) + (s.timestamps ? TS_LEN : 0);
  return s.blocks * LINES_PER_BLOCK * line;
}

const baseCache = new Map<boolean, Buffer>();
function cachedBase(tty: boolean): Buffer {
  let b = baseCache.get(tty);
  if (!b) baseCache.set(tty, (b = baseBlock(tty)));
  return b;
}

/**
 * The model as a sequence of buffers (for the local raw producer): calls `emit` once per piece, in
 * order; with timestamps each block is materialised with the current time.
 */
export function* modelPieces(s: StreamShape, now: () => string = rfc3339NanoNow): Generator<Buffer> {
  const base = cachedBase(!!s.tty);
  const lineLen = LINE + (s.tty ? 1 : 0);
  for (let n = 0; n < s.blocks; n++) {
    const marker = markerLine(n, s.tty);
    if (!s.timestamps) {
      yield base;
      yield marker;
      continue;
    }
    const ts = Buffer.from(now() + ' ', 'latin1');
    const out = Buffer.allocUnsafe(LINES_PER_BLOCK * (lineLen + TS_LEN));
    let o = 0;
    for (let i = 0; i < LINES_PER_BLOCK - 1; i++) {
      ts.copy(out, o);
      base.copy(out, o + TS_LEN, i * lineLen, (i + 1) * lineLen);
      o += TS_LEN + lineLen;
    }
    ts.copy(out, o);
    marker.copy(out, o + TS_LEN);
    yield out;
  }
}

/** Wall time as `2006-01-02T15:04:05.000000000Z` (9 fractional digits, as Kubernetes and Docker). */
export function rfc3339NanoNow(): string {
  const ms = Date.now();
  return new Date(ms).toISOString().slice(0, 19) + '.' + pad((ms % 1000) * 1_000_000, 9) + 'Z';
}

/**
 * Compares a received stream with the model, byte for byte, as chunks arrive. `ok` once `end()`
 * returns true: every byte matched and the count is exact. The first mismatch is kept as an error
 * message with its offset; later bytes are only counted.
 */
export class Verifier {
  bytes = 0;
  error: string | undefined;
  private readonly base: Buffer;
  private readonly lineLen: number;
  private readonly total: number;
  private readonly blockLen: number;
  private ts: MaskedBlock | undefined;
  private marker: Buffer;
  private markerBlock = 0;
  /** Bytes to skip at the start (e.g. a TTY's echo of the trigger newline), at most this many. */
  private leading = 0;

  constructor(
    readonly shape: StreamShape,
    opts: { allowLeadingNewlines?: number } = {},
  ) {
    this.base = cachedBase(!!shape.tty);
    this.lineLen = LINE + (shape.tty ? 1 : 0);
    this.blockLen = LINES_PER_BLOCK * this.lineLen;
    this.total = streamBytes(shape);
    this.marker = markerLine(0, shape.tty);
    this.leading = opts.allowLeadingNewlines ?? 0;
  }

  get expected(): number {
    return this.total;
  }

  private markerFor(n: number): Buffer {
    if (n !== this.markerBlock) {
      this.marker = markerLine(n, this.shape.tty);
      this.markerBlock = n;
    }
    return this.marker;
  }

  private fail(msg: string): void {
    if (!this.error) this.error = msg;
  }

  push(chunk: Buffer): void {
    if (this.leading > 0 && this.bytes === 0) {
      let i = 0;
      while (i < chunk.length && this.leading > 0 && (chunk[i] === 0x0d || chunk[i] === 0x0a)) {
        i++;
        this.leading--;
      }
      if (i === chunk.length) return;
      this.leading = 0;
      if (i) chunk = chunk.subarray(i);
    } else this.leading = 0;
    if (this.error) {
      this.bytes += chunk.length;
      return;
    }
    if (this.bytes + chunk.length > this.total) this.fail(`more bytes than expected: over ${this.total}`);
    if (this.shape.timestamps) this.pushTimestamped(chunk);
    else this.pushPlain(chunk);
  }

  private pushPlain(chunk: Buffer): void {
    let off = 0;
    while (off < chunk.length && !this.error) {
      const pos = this.bytes;
      const block = Math.floor(pos / this.blockLen);
      const within = pos - block * this.blockLen;
      const baseLen = this.base.length;
      let exp: Buffer;
      let expOff: number;
      if (within < baseLen) {
        exp = this.base;
        expOff = within;
      } else {
        exp = this.markerFor(block);
        expOff = within - baseLen;
      }
      const n = Math.min(chunk.length - off, exp.length - expOff);
      if (chunk.compare(exp, expOff, expOff + n, off, off + n) !== 0) {
        this.fail(`mismatch in block ${block} at stream offset ${pos + firstDiff(chunk, off, exp, expOff, n)}`);
        this.bytes += chunk.length - off;
        return;
      }
      this.bytes += n;
      off += n;
    }
    if (off < chunk.length) this.bytes += chunk.length - off;
  }

  /**
   * Timestamped lines: a per-line native call costs ~0.4 µs (3 s per GiB of 128-byte lines: more
   * than the paths being measured), so the block is compared 32 bits at a time against an
   * expected block and a mask that hides the timestamps' digits (their separators `-`, `T`, `:`,
   * `.`, `Z` and the space are compared). The piece is first copied into a scratch buffer at the
   * same alignment (mod 4) as its place in the expected block.
   */
  private pushTimestamped(chunk: Buffer): void {
    const t = (this.ts ??= new MaskedBlock(this.base, this.lineLen));
    let off = 0;
    while (off < chunk.length && !this.error) {
      const pos = this.bytes;
      const block = Math.floor(pos / t.length);
      const phase = pos - block * t.length;
      const n = Math.min(chunk.length - off, t.length - phase);
      t.setMarker(block, this.markerFor(block));
      const bad = t.check(chunk, off, phase, n);
      if (bad >= 0) {
        const lineNo = Math.floor((pos + bad) / (TS_LEN + this.lineLen));
        this.fail(
          `mismatch in line ${lineNo} (block ${block}) at stream offset ${pos + bad}: ${JSON.stringify(chunk.toString('latin1', off + Math.max(0, bad - 40), off + bad + 40))}`,
        );
      }
      this.bytes += n;
      off += n;
    }
    if (off < chunk.length) this.bytes += chunk.length - off;
  }

  /** The stream ended: true when every byte matched and none is missing. */
  end(): boolean {
    if (!this.error && this.bytes !== this.total) this.fail(`got ${this.bytes} bytes, expected ${this.total}`);
    return !this.error;
  }
}

/** One block of timestamped lines as expected bytes plus a mask (0 where a timestamp digit is). */
class MaskedBlock {
  readonly length: number;
  private readonly exp: Buffer;
  private readonly mask: Buffer;
  private readonly e32: Int32Array;
  private readonly m32: Int32Array;
  private scratch = Buffer.alloc(0);
  private s32 = new Int32Array(0);
  private marker = -1;
  private readonly markerAt: number;

  constructor(
    base: Buffer,
    private readonly lineLen: number,
  ) {
    const full = TS_LEN + lineLen;
    this.length = LINES_PER_BLOCK * full;
    // +8: room for the last partial word. Buffer.alloc above the pool size is 8-byte aligned.
    this.exp = Buffer.alloc(this.length + 8);
    this.mask = Buffer.alloc(this.length + 8);
    const sample = Buffer.from('2006-01-02T15:04:05.000000000Z ', 'latin1');
    for (let i = 0; i < LINES_PER_BLOCK; i++) {
      const o = i * full;
      sample.copy(this.exp, o);
      for (const k of [4, 7, 10, 13, 16, 19, 29, 30]) this.mask[o + k] = 0xff;
      if (i < LINES_PER_BLOCK - 1) base.copy(this.exp, o + TS_LEN, i * lineLen, (i + 1) * lineLen);
      this.mask.fill(0xff, o + TS_LEN, o + full);
    }
    this.markerAt = (LINES_PER_BLOCK - 1) * full + TS_LEN;
    this.e32 = new Int32Array(this.exp.buffer, this.exp.byteOffset, this.exp.length >> 2);
    this.m32 = new Int32Array(this.mask.buffer, this.mask.byteOffset, this.mask.length >> 2);
  }

  setMarker(block: number, marker: Buffer): void {
    if (block === this.marker) return;
    marker.copy(this.exp, this.markerAt, 0, this.lineLen);
    this.marker = block;
  }

  /** Offset (within the piece) of the first wrong byte, or -1. */
  check(chunk: Buffer, off: number, phase: number, n: number): number {
    const lead = phase & 3;
    const need = lead + n + 4;
    if (this.scratch.length < need) {
      this.scratch = Buffer.alloc(Math.max(need, 256 * 1024));
      this.s32 = new Int32Array(this.scratch.buffer, this.scratch.byteOffset, this.scratch.length >> 2);
    }
    const sc = this.scratch;
    // Neutral bytes around the piece: the expected ones.
    this.exp.copy(sc, 0, phase - lead, phase);
    chunk.copy(sc, lead, off, off + n);
    this.exp.copy(sc, lead + n, phase + n, phase + n + 4);
    const words = (lead + n + 3) >> 2;
    const base = (phase - lead) >> 2;
    const s32 = this.s32;
    const e32 = this.e32;
    const m32 = this.m32;
    let acc = 0;
    for (let i = 0; i < words; i++) acc |= (s32[i]! ^ e32[base + i]!) & m32[base + i]!;
    if (acc === 0) return -1;
    for (let k = 0; k < n; k++) {
      const e = phase + k;
      if (((chunk[off + k]! ^ this.exp[e]!) & this.mask[e]!) !== 0) return k;
    }
    return -1;
  }
}

function firstDiff(a: Buffer, aOff: number, b: Buffer, bOff: number, n: number): number {
  for (let i = 0; i < n; i++) if (a[aOff + i] !== b[bOff + i]) return i;
  return n;
}
