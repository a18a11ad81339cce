/**
 * @module stream/channel-reader
 * The one reader of what the apiserver sends on an exec/attach WebSocket (the channel protocol:
 * k8s.io/apimachinery pkg/util/remotecommand/constants.go, client-go tools/remotecommand
 * v4.go/v5.go, KEP-4006 for v5). Every user goes through it: the stream bridge (attach, exec),
 * a detached exec, the engine's short commands (containers/exec-run.ts) and the archive's exec
 * (archive/exec.ts). It routes channel 1/2 payloads to `onOutput`, collects channel 3 and ends once:
 *
 * - `closed`: the session's status, decoded as client-go does (k8s-channel.ts parseStatus), as
 *   soon as it is one whole Status object: the server writes it last, in one message, and then
 *   waits for the client to close (StatusCollector.whole). The socket is then still open
 *   (`closeCode` absent) and the caller closes it; waiting for the server's close frame and the
 *   TCP close first cost every exec a round trip to the apiserver before its client saw the end
 *   (bench/optimisations.md 12). Otherwise it ends at the socket's close (client-go reads the
 *   error stream to EOF, errorstream.go): the status collected, or none: a clean close is exit 0,
 *   any other close without one is an error carrying the socket's error when there was one;
 * - `error`: a text message, which v4/v5 never send (client-go kills the session on one too).
 *
 * Empty messages and the empty `[1]` the server sends when the session is established carry
 * nothing and are skipped. Other channels never flow server -> client; client-go drops them, so
 * does this.
 */
import type { Buffer } from 'node:buffer';
import type { Emitter } from './backpressure.js';
import {
  CHANNEL_ERROR,
  CHANNEL_STDERR,
  CHANNEL_STDOUT,
  StatusCollector,
  exitFromClose,
  toBuffer,
  type ChannelStatus,
} from './k8s-channel.js';

export type ChannelEnd =
  /** `closeCode`: the WebSocket's, when it closed; absent when the whole status came first. */
  { reason: 'closed'; status: ChannelStatus; closeCode?: number } | { reason: 'error'; error: Error };

export type OutputChannel = typeof CHANNEL_STDOUT | typeof CHANNEL_STDERR;

/** A reading in progress. */
export interface ChannelReading {
  /** Stop listening (idempotent); `onEnd` is not called after it. */
  stop(): void;
  /** Some channel-3 (status) bytes arrived: the session is ending. */
  readonly statusReceived: boolean;
}

/**
 * Listen on `ws` until the session ends (`onEnd`, called once) or `stop()` is called.
 * `onOutput` gets payload views into the received message (no copy). After the end a no-op
 * 'error' listener stays, so that a late socket error cannot crash the process.
 */
export function readChannels(
  ws: Emitter,
  onOutput: (channel: OutputChannel, payload: Buffer) => void,
  onEnd: (end: ChannelEnd) => void,
): ChannelReading {
  const status = new StatusCollector();
  let wsError: Error | undefined;
  let ended = false;
  const onMessage = (data: Buffer | ArrayBuffer | Buffer[], isBinary?: boolean): void => {
    if (isBinary === false)
      return end({ reason: 'error', error: new Error('exec stream protocol error: unexpected text message') });
    const b = toBuffer(data);
    if (b.length <= 1) return;
    const ch = b[0]!;
    if (ch === CHANNEL_STDOUT || ch === CHANNEL_STDERR) onOutput(ch, b.subarray(1));
    else if (ch === CHANNEL_ERROR) {
      status.push(b.subarray(1));
      const whole = status.whole();
      if (whole) end({ reason: 'closed', status: whole });
    }
  };
  const onError = (err: Error): void => {
    wsError = err; // ws emits 'close' (1006) right after 'error'
  };
  const onClose = (code: number): void => {
    let s = status.finish();
    if (!s && code !== 1000 && wsError) s = { kind: 'error', message: wsError.message };
    end({ reason: 'closed', status: exitFromClose(s, code), closeCode: code });
  };
  const noop = (): void => {};
  function stop(): void {
    if (ended) return;
    ended = true;
    ws.removeListener('message', onMessage);
    ws.removeListener('close', onClose);
    ws.removeListener('error', onError);
    ws.on('error', noop);
  }
  function end(e: ChannelEnd): void {
    if (ended) return;
    stop();
    onEnd(e);
  }
  ws.on('message', onMessage);
  ws.on('error', onError);
  ws.on('close', onClose);
  return {
    stop,
    get statusReceived() {
      return status.received;
    },
  };
}
