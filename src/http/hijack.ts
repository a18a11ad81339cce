/**
 * @module http/hijack
 * A connection taken over for docker's raw streams (attach, exec start). Rules (moby
 * api/server/router/container/container_routes.go postContainersAttach and exec.go
 * postContainerExecStart write the head by hand; docker/cli cli/command/container/hijack.go reads it):
 * - the head (101 UPGRADED or 200 raw-stream) is written in its own write, and no stream byte is
 *   written before that write has been flushed: docker-py loses frames that share a read with the
 *   head (docker-py #425, #2466);
 * - `input` gets every byte the client sends after its request (the unparsed rest first);
 * - the client's FIN ends `input` only: output goes on (the docker CLI half-closes as soon as it
 *   has no more stdin, `hijackedIOStreamer.beginInputStream`);
 * - ending `output` is our FIN (`closeWrite`, moby's CloseStreams); the socket stays readable.
 */
import { Readable, Writable } from 'node:stream';
import type { Socket } from 'node:net';

export interface Hijacked {
  /** Stream bytes to the client. write() false -> pause your source; 'drain' resumes. end() = closeWrite(). */
  readonly output: Writable;
  /** Bytes from the client (leftover first); ends on the client's FIN. */
  readonly input: Readable;
  /** Our FIN (write-side shutdown) once queued output is written; the socket stays readable. */
  closeWrite(): void;
  /** Close both directions now. */
  destroy(): void;
  /** `cb` runs once when the socket is fully closed (both sides, or an error). */
  onClose(cb: () => void): void;
  /** The socket is fully closed. */
  readonly closed: boolean;
}

function resetError(): Error {
  return Object.assign(new Error('the client closed the connection'), { code: 'ECONNRESET' });
}

class Input extends Readable {
  constructor(private readonly wanted: () => void) {
    super({ highWaterMark: 64 * 1024 });
  }
  override _read(): void {
    this.wanted();
  }
}

/**
 * Default bytes a streamed or hijacked output may hold in the socket before its writer waits for
 * 'drain' (src/config.ts `--stream-batch-bytes`). It bounds what each open stream holds when the
 * client reads slower than the source: 256 KiB made ~250 KiB per stream with 300 concurrent log
 * streams, 64 KiB ~57 KiB (bench/optimisations.md 7).
 */
export const DEFAULT_STREAM_BATCH_BYTES = 64 * 1024;

class Output extends Writable {
  private headFlushed = false;
  private held: { chunks: Buffer[]; cb: (err?: Error | null) => void } | undefined;

  constructor(
    private readonly socket: Socket,
    head: string,
    /** Bytes the output may hold in the corked socket before its writer waits for 'drain'. */
    private readonly batchBytes: number,
  ) {
    super({ highWaterMark: 64 * 1024 });
    socket.write(head, () => {
      this.headFlushed = true;
      const held = this.held;
      this.held = undefined;
      if (held) this.send(held.chunks, held.cb);
    });
  }

  /**
   * Writes of one event-loop turn leave in one writev: the socket stays corked until
   * setImmediate. A log-backed attach writes one frame per 16 KiB TLS record of the pods/log
   * body, several per socket read, each its own syscall before (bench/RESULTS.md, "Optimisations
   * kept"). Above batchBytes buffered the callback waits for 'drain', so the source is paused as
   * before and memory stays bounded.
   */
  private send(chunks: Buffer[], cb: (err?: Error | null) => void): void {
    const s = this.socket;
    if (s.destroyed || s.writableEnded) return cb(resetError());
    if (!this.batching) {
      this.batching = true;
      s.cork();
      setImmediate(this.flush);
    }
    let ok = true;
    for (const c of chunks) ok = s.write(c);
    // A false only means more than the socket's 16 KiB high-water mark is buffered: while corked
    // that is every turn. Wait for 'drain' above batchBytes.
    if (ok || (s.writableLength ?? Infinity) < this.batchBytes) cb();
    else s.once('drain', () => cb());
  }

  private batching = false;
  private readonly flush = (): void => {
    this.batching = false;
    this.socket.uncork();
  };

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    if (!this.headFlushed) this.held = { chunks: [chunk], cb };
    else this.send([chunk], cb);
  }

  override _writev(chunks: { chunk: Buffer }[], cb: (err?: Error | null) => void): void {
    const list = chunks.map((c) => c.chunk);
    if (!this.headFlushed) this.held = { chunks: list, cb };
    else this.send(list, cb);
  }

  override _final(cb: (err?: Error | null) => void): void {
    // Everything queued has been handed to the socket; end() adds the FIN after it.
    if (!this.socket.destroyed) this.socket.end();
    cb();
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    // The client going away is routine: an 'error' only for whoever listens (pipeline() does).
    cb(err && this.listenerCount('error') > 0 ? err : null);
  }
}

export class HijackedStream implements Hijacked {
  readonly input: Readable;
  readonly output: Writable;
  private closeCbs: (() => void)[] = [];
  private isClosed = false;
  private inputEnded = false;

  constructor(
    private readonly socket: Socket,
    head: string,
    wanted: () => void,
    batchBytes = DEFAULT_STREAM_BATCH_BYTES,
  ) {
    this.input = new Input(wanted);
    this.output = new Output(socket, head, batchBytes);
  }

  get closed(): boolean {
    return this.isClosed;
  }

  /** @internal bytes from the client; false asks the connection to pause the socket. */
  pushInput(chunk: Buffer): boolean {
    if (this.inputEnded || this.input.destroyed) return true; // after the end: dropped
    return this.input.push(chunk);
  }

  /** @internal the client's FIN (or the end of a request body that carried the input). */
  endInput(): void {
    if (this.inputEnded) return;
    this.inputEnded = true;
    if (!this.input.destroyed) this.input.push(null);
  }

  /** @internal the socket closed. */
  socketClosed(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    this.endInput();
    if (!this.output.writableFinished && !this.output.destroyed) this.output.destroy(resetError());
    const cbs = this.closeCbs;
    this.closeCbs = [];
    for (const cb of cbs) cb();
  }

  closeWrite(): void {
    if (!this.output.writableEnded) this.output.end();
  }

  destroy(): void {
    this.socket.destroy();
  }

  onClose(cb: () => void): void {
    if (this.isClosed) process.nextTick(cb);
    else this.closeCbs.push(cb);
  }
}
