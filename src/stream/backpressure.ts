/**
 * @module stream/backpressure
 * The structural interfaces every src/stream module works on, and {@link PauseGate}: paired
 * pause/resume of one source for several independent reasons. A Node `Writable` (the hijacked
 * socket, a chunked response), a `Readable` and a `ws` WebSocket fit these interfaces as they
 * are, so the engine passes real sockets and tests pass fakes.
 *
 * The rule (ws `createWebSocketStream`, node `stream.pipe`): a `false` from `write()` pauses the
 * source and the sink's `'drain'` resumes it. A source may be held for more than one reason at
 * once (the sink is full *and* the other half of a merge is behind), so pauses are counted by
 * reason and the source resumes only when the last reason is released.
 */

type Listener = (...args: any[]) => void;

/** An event source (`EventEmitter` shape). */
export interface Emitter {
  on(event: string, listener: Listener): unknown;
  removeListener(event: string, listener: Listener): unknown;
}

/** Anything that can stop and restart delivering data: `Readable`, ws `WebSocket`. */
export interface Pausable {
  pause(): unknown;
  resume(): unknown;
}

/** The write side the framing functions need: `Writable` and `net.Socket` fit. */
export interface ByteSink {
  /** Queue bytes; `false` means "stop producing until 'drain'" (Node Writable contract). */
  write(chunk: Uint8Array): boolean;
  /** Optional batching: writes between cork() and uncork() reach `_writev` together. */
  cork?(): void;
  uncork?(): void;
}

/** A {@link ByteSink} that announces `'drain'` (and `'close'` when it goes away). */
export interface DrainableSink extends ByteSink {
  once(event: string, listener: (...args: any[]) => void): unknown;
  removeListener(event: string, listener: (...args: any[]) => void): unknown;
  /** Bytes queued in the sink (`Writable.writableLength`); used only for accounting. */
  readonly writableLength?: number;
}

/** Reasons a source may be held; a bit each so a gate is one integer. */
export const HOLD_SINK = 1; // the downstream write() returned false
export const HOLD_PEER = 2; // the other side of a merge is behind / the WebSocket's send buffer is full
export const HOLD_USER = 4; // the engine asked (e.g. while a resize is applied)

/**
 * Pauses a source when the first reason appears and resumes it when the last one goes, so every
 * `pause()` is paired with exactly one `resume()` (tests assert the counters).
 */
export class PauseGate {
  /** How many times the source was paused / resumed through this gate. */
  pauses = 0;
  resumes = 0;
  #held = 0;
  #closed = false;
  readonly #source: Pausable;

  constructor(source: Pausable) {
    this.#source = source;
  }

  /** True while at least one reason holds the source. */
  get paused(): boolean {
    return this.#held !== 0;
  }

  /** Hold the source for `reason` (idempotent per reason). */
  hold(reason: number): void {
    if (this.#closed || (this.#held & reason) !== 0) return;
    const was = this.#held;
    this.#held |= reason;
    if (was === 0) {
      this.pauses++;
      this.#source.pause();
    }
  }

  /** Release `reason`; the source resumes when no reason is left. */
  release(reason: number): void {
    if ((this.#held & reason) === 0) return;
    this.#held &= ~reason;
    if (this.#held === 0 && !this.#closed) {
      this.resumes++;
      this.#source.resume();
    }
  }

  /** Whether `reason` currently holds the source. */
  holds(reason: number): boolean {
    return (this.#held & reason) !== 0;
  }

  /**
   * Stop managing the source. With `resume` the source gets its pending resume (keeps the pairing);
   * without, it stays as it is (the caller is about to destroy it).
   */
  close(resume: boolean): void {
    if (this.#closed) return;
    const held = this.#held !== 0;
    this.#held = 0;
    if (held && resume) {
      this.resumes++;
      this.#source.resume();
    }
    this.#closed = true;
  }
}
