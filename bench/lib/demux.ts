/**
 * @module bench/lib/demux
 * The client side of Docker's stdcopy framing (moby pkg/stdcopy: `[stream,0,0,0,len u32 BE]`
 * then the payload), written for the benchmark rather than taken from src/stream: the harness must
 * not judge kuber-api with kuber-api's own code. Payloads are handed on as subarrays (no copy)
 * except when a header itself is split across reads.
 */

export type Sink = (payload: Buffer) => void;

export class StdcopyDemuxer {
  frames = 0;
  error: string | undefined;
  /** Bytes still to deliver of the current frame's payload. */
  private remaining = 0;
  private stream = 0;
  private header: Buffer | undefined;

  constructor(
    private readonly onStdout: Sink,
    private readonly onStderr: Sink,
  ) {}

  push(chunk: Buffer): void {
    let off = 0;
    const len = chunk.length;
    while (off < len) {
      if (this.remaining > 0) {
        const n = Math.min(this.remaining, len - off);
        this.deliver(off === 0 && n === len ? chunk : chunk.subarray(off, off + n));
        this.remaining -= n;
        off += n;
        continue;
      }
      let h: Buffer;
      let hOff: number;
      if (this.header) {
        const need = 8 - this.header.length;
        this.header = Buffer.concat([this.header, chunk.subarray(off, off + need)]);
        off += Math.min(need, len - off);
        if (this.header.length < 8) return;
        h = this.header;
        hOff = 0;
        this.header = undefined;
      } else if (len - off < 8) {
        this.header = Buffer.from(chunk.subarray(off));
        return;
      } else {
        h = chunk;
        hOff = off;
        off += 8;
      }
      const stream = h[hOff]!;
      if (stream > 3 || h[hOff + 1] !== 0 || h[hOff + 2] !== 0 || h[hOff + 3] !== 0) {
        this.error ??= `bad stdcopy header ${h.subarray(hOff, hOff + 8).toString('hex')} after ${this.frames} frames`;
        return;
      }
      if (stream === 3) this.error ??= 'systemerr frame (stream 3) from the daemon';
      this.stream = stream;
      this.remaining = h.readUInt32BE(hOff + 4);
      this.frames++;
    }
  }

  private deliver(b: Buffer): void {
    if (this.stream === 2 || this.stream === 3) this.onStderr(b);
    else this.onStdout(b);
  }

  /** True when the stream ended on a frame boundary. */
  get clean(): boolean {
    return this.remaining === 0 && !this.header && !this.error;
  }
}
