/**
 * @module stream/bridge
 * Joins a Kubernetes exec/attach WebSocket (channel protocol: k8s.io/apimachinery
 * pkg/util/remotecommand/constants.go, KEP-4006) to a Docker client's hijacked connection (moby
 * api/server/router/container/container_routes.go postContainersAttach), with backpressure both ways:
 *
 * - output: channel 1/2 messages become stdcopy frames (non-TTY) or raw bytes (TTY: a terminal
 *   has one stream, the kubelet drops stderr). When the client's `write()` returns false the
 *   WebSocket is paused (`ws.pause()` stops reading its socket, so TCP pushes back on the
 *   apiserver) until the client's `'drain'`.
 * - input: client stdin becomes channel-0 messages. `ws` has no drain event, so the client's
 *   socket is paused while `ws.bufferedAmount` is above a high-water mark and resumed from the
 *   send callbacks once it falls below a low-water mark. In TTY mode the detach keys are scanned.
 *
 * The bridge owns no socket: it listens, pauses/resumes, writes, and reports how the session ended
 * through {@link Bridge.done}. The caller closes the WebSocket (`close(1000)`) and half-closes the
 * client afterwards, and records the exit status first (clients inspect right after EOF).
 */
import type { Buffer } from 'node:buffer';
import { PauseGate, HOLD_SINK, HOLD_PEER, type DrainableSink, type Emitter, type Pausable } from './backpressure.js';
import { writeFrame } from './stdcopy.js';
import { stdinMessage, closeStdinMessage, resizeMessage, canCloseStdin, type ChannelStatus } from './k8s-channel.js';
import { readChannels, type OutputChannel } from './channel-reader.js';
import { DetachScanner, DEFAULT_DETACH_KEYS } from './detach-keys.js';

export type { Emitter };

/** The send side of the apiserver WebSocket (`ws` WebSocket fits). */
export interface ChannelSender {
  readonly bufferedAmount: number;
  send(data: Buffer, cb?: (err?: Error) => void): void;
}

/** The whole apiserver WebSocket as the bridge uses it (`ws` WebSocket fits). */
export interface ChannelSocket extends ChannelSender, Pausable, Emitter {
  /** The negotiated subprotocol (`v5.channel.k8s.io` can half-close stdin). */
  readonly protocol: string;
  /** ws >= 8.3: true while paused. A WebSocket handed over paused is resumed by the bridge. */
  readonly isPaused?: boolean;
}

/** The Docker client's output side (the hijacked `output` Writable). */
export interface ClientOutput extends DrainableSink, Emitter {}
/** The Docker client's stdin (the hijacked `input` Readable). */
export interface ClientInput extends Pausable, Emitter {}

/** Default stdin watermarks on `ws.bufferedAmount`: 1 MiB high, 256 KiB low. */
export const STDIN_HIGH_WATER = 1 << 20;
export const STDIN_LOW_WATER = 256 << 10;

/**
 * K8s -> Docker: turns channel payloads (stream/channel-reader.ts) into client writes and pauses
 * `source` while the client is full.
 */
export class OutputPump {
  readonly gate: PauseGate;
  /** stdout+stderr payload bytes written to the client. */
  bytes = 0;
  readonly #sink: DrainableSink;
  readonly #tty: boolean;
  readonly #onDrain = (): void => this.gate.release(HOLD_SINK);
  #corked = false;
  readonly #uncork = (): void => {
    this.#corked = false;
    this.#sink.uncork!();
  };

  constructor(source: Pausable, sink: DrainableSink, tty: boolean) {
    this.gate = new PauseGate(source);
    this.#sink = sink;
    this.#tty = tty;
  }

  /**
   * One stdout/stderr payload to the client: the one place framing is decided (moby
   * container/stream attach: raw with a TTY, a stdcopy frame otherwise, pkg/stdcopy). Also used
   * after the session for what the engine itself writes on the stream (an exec start failure).
   */
  write(channel: OutputChannel, payload: Buffer): void {
    this.bytes += payload.length;
    // ws emits every message of one socket read in the same tick: cork for the rest of the tick
    // so they leave in one writev. bench/micro/stdcopy-write "pump" vs "auto": 10-25x for frames
    // up to 1 KiB, ~1x from 16 KiB. The uncork runs before any I/O, so no latency is added.
    if (!this.#corked && this.#sink.cork !== undefined && this.#sink.uncork !== undefined) {
      this.#corked = true;
      this.#sink.cork();
      process.nextTick(this.#uncork);
    }
    const ok = this.#tty ? this.#sink.write(payload) : writeFrame(this.#sink, channel, payload);
    if (!ok && !this.gate.holds(HOLD_SINK)) {
      this.gate.hold(HOLD_SINK);
      this.#sink.once('drain', this.#onDrain);
    }
  }

  /** Stop: forget the pending drain; `resume` gives the source its paired resume. */
  stop(resume: boolean): void {
    this.#sink.removeListener('drain', this.#onDrain);
    this.gate.close(resume);
  }
}

/** Options of {@link InputPump}. */
export interface InputPumpOptions {
  /** Scan for detach keys (moby does so only with a TTY). */
  detachKeys?: Buffer | null;
  highWater?: number;
  lowWater?: number;
}

/**
 * Docker -> K8s: client stdin bytes become channel-0 messages; `source` is paused while the
 * WebSocket's send buffer is above the high-water mark.
 */
export class InputPump {
  readonly gate: PauseGate;
  readonly scanner: DetachScanner | undefined;
  /** stdin bytes sent. */
  bytes = 0;
  readonly #ws: ChannelSender;
  readonly #high: number;
  readonly #low: number;
  readonly #forward = (b: Buffer): void => this.#send(b);
  // Called as each send leaves ws's buffer; the last one of a backlog always sees it empty.
  readonly #afterSend = (err?: Error): void => {
    if (this.gate.holds(HOLD_PEER) && (err !== undefined || this.#ws.bufferedAmount <= this.#low))
      this.gate.release(HOLD_PEER);
  };

  constructor(ws: ChannelSender, source: Pausable, opts: InputPumpOptions = {}) {
    this.#ws = ws;
    this.gate = new PauseGate(source);
    this.scanner = opts.detachKeys ? new DetachScanner(opts.detachKeys) : undefined;
    this.#high = opts.highWater ?? STDIN_HIGH_WATER;
    this.#low = Math.min(opts.lowWater ?? STDIN_LOW_WATER, this.#high);
  }

  /** A chunk of client stdin. Returns true when it completed the detach sequence. */
  data(chunk: Buffer): boolean {
    if (this.scanner) return this.scanner.push(chunk, this.#forward);
    if (chunk.length) this.#send(chunk);
    return false;
  }

  /**
   * The client half-closed. Releases held detach-key bytes, then with `closeStdin` sends the v5
   * CLOSE for channel 0 when `protocol` allows it. Returns whether stdin EOF reached the process.
   */
  end(closeStdin: boolean, protocol: string): boolean {
    this.scanner?.end(this.#forward);
    if (!closeStdin || !canCloseStdin(protocol)) return false;
    this.#ws.send(closeStdinMessage(), this.#afterSend);
    return true;
  }

  stop(resume: boolean): void {
    this.gate.close(resume);
  }

  #send(b: Buffer): void {
    this.bytes += b.length;
    this.#ws.send(stdinMessage(b), this.#afterSend);
    if (this.#ws.bufferedAmount > this.#high) this.gate.hold(HOLD_PEER);
  }
}

/** How a bridged session ended. */
export type BridgeEnd =
  /**
   * The session's status arrived (the process exited, or the apiserver gave up); `status` is final.
   * `closeCode` is the WebSocket's when it had closed; absent, the socket is still open: close it.
   */
  | { reason: 'closed'; status: ChannelStatus; closeCode?: number }
  /** The detach keys were typed (TTY). Leave the container running. */
  | { reason: 'detach' }
  /** The client half-closed stdin in end-session mode (TTY, or attach without StdinOnce). */
  | { reason: 'stdin-eof' }
  /** The Docker client went away: a detach, never a stop. */
  | { reason: 'client-closed' }
  /** The caller called stop(). */
  | { reason: 'stopped' }
  /** The WebSocket broke the protocol (e.g. a text message on a binary channel protocol). */
  | { reason: 'error'; error: Error };

/** Options of {@link bridgeStreams}. */
export interface BridgeOptions {
  ws: ChannelSocket;
  output: ClientOutput;
  /** The client's stdin, only when stdin is attached (without it the client's FIN is ignored). */
  input?: ClientInput;
  tty: boolean;
  /**
   * What the client's half-close means (moby `container/stream` CopyStreams): `close-stdin` for exec
   * and for attach with StdinOnce and no TTY (the process sees EOF; v5 only, on v4 stdin stays open);
   * `end-session` otherwise (the attach ends, the container keeps running). Default `close-stdin`.
   */
  stdinEof?: 'close-stdin' | 'end-session';
  /** Detach keys for TTY sessions (default ctrl-p,ctrl-q); `null` disables scanning. */
  detachKeys?: Buffer | null;
  stdinHighWater?: number;
  stdinLowWater?: number;
}

/** A running bridge. */
export interface Bridge {
  /** Settles once, when the session ends; all listeners are removed by then. */
  readonly done: Promise<BridgeEnd>;
  readonly output: OutputPump;
  readonly input: InputPump | undefined;
  /** True after the client's half-close reached the process as stdin EOF (v5 CLOSE sent). */
  readonly stdinClosed: boolean;
  /** Send a terminal resize (TTY sessions only; ignored otherwise, see resizeMessage). */
  resize(width: number, height: number): void;
  /** End the bridge now (e.g. the caller is tearing down); `done` settles with `stopped`. */
  stop(): void;
}

/**
 * Wire a WebSocket and a hijacked client together. See the module comment.
 *
 * A message emitted before the bridge listens is lost, and `ws` emits the ones that came with the
 * 101 on the next tick, before an awaited promise resumes. So either call it synchronously in the
 * 'open' listener, or `ws.pause()` in that listener and hand the paused WebSocket over (dial, then
 * hijack, then bridge): the bridge resumes it once it listens. (Not before 'open': `ws.send()`
 * throws while CONNECTING.)
 * On teardown the WebSocket gets its paired resume, so that the caller's `close(1000)` handshake
 * can read the server's close frame.
 */
export function bridgeStreams(opts: BridgeOptions): Bridge {
  const { ws, output: out, input: inp, tty } = opts;
  const outPump = new OutputPump(ws, out, tty);
  const detachKeys = tty ? (opts.detachKeys === undefined ? DEFAULT_DETACH_KEYS : opts.detachKeys) : null;
  const inPump = inp
    ? new InputPump(ws, inp, { detachKeys, highWater: opts.stdinHighWater, lowWater: opts.stdinLowWater })
    : undefined;
  const closeStdin = (opts.stdinEof ?? 'close-stdin') === 'close-stdin';
  let settled = false;
  let stdinClosed = false;
  let resolveDone!: (e: BridgeEnd) => void;
  const done = new Promise<BridgeEnd>((r) => (resolveDone = r));

  const onInputData = (chunk: Buffer): void => {
    if (inPump!.data(chunk)) finish({ reason: 'detach' }, false);
  };
  const onInputEnd = (): void => {
    if (closeStdin) stdinClosed = inPump!.end(true, ws.protocol);
    else {
      inPump!.end(false, ws.protocol);
      finish({ reason: 'stdin-eof' }, false);
    }
  };
  const onClientClose = (): void => finish({ reason: 'client-closed' }, false);

  function finish(end: BridgeEnd, wsClosed: boolean): void {
    if (settled) return;
    settled = true;
    reading.stop();
    out.removeListener('close', onClientClose);
    if (inp) {
      inp.removeListener('data', onInputData);
      inp.removeListener('end', onInputEnd);
    }
    // Pairing: the client input gets its resume back (the caller may keep reading it); the
    // WebSocket too unless it is closed (then there is nothing left to resume).
    outPump.stop(!wsClosed);
    inPump?.stop(true);
    resolveDone(end);
  }

  const reading = readChannels(
    ws,
    (ch, payload) => outPump.write(ch, payload),
    (end) => finish(end, end.reason === 'closed' && end.closeCode !== undefined),
  );
  out.on('close', onClientClose);
  if (inp) {
    inp.on('data', onInputData);
    inp.on('end', onInputEnd);
  }
  // Handed over paused (so nothing was emitted to nobody): start the flow now that we listen.
  if (ws.isPaused === true) ws.resume();

  return {
    done,
    output: outPump,
    input: inPump,
    get stdinClosed() {
      return stdinClosed;
    },
    resize(width, height) {
      if (tty && !settled) ws.send(resizeMessage(width, height));
    },
    stop() {
      finish({ reason: 'stopped' }, false);
    },
  };
}
