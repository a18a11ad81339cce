/**
 * @module stream/k8s-channel
 * The Kubernetes remotecommand WebSocket channel protocol (KEP-4006 for v5;
 * k8s.io/apimachinery `pkg/util/remotecommand/constants.go`, client-go `tools/remotecommand`):
 * one binary WebSocket message = one channel byte + payload. Channels: 0 stdin, 1 stdout,
 * 2 stderr, 3 error/status, 4 resize, 255 close (v5 only).
 *
 * Parsing never copies a payload; building a client message copies the payload once behind its
 * channel byte, which costs nothing extra: a client-side WebSocket frame is masked (RFC 6455 §5.3),
 * so `ws` copies the payload while masking anyway.
 */
import { Buffer } from 'node:buffer';

export const CHANNEL_STDIN = 0;
export const CHANNEL_STDOUT = 1;
export const CHANNEL_STDERR = 2;
export const CHANNEL_ERROR = 3;
export const CHANNEL_RESIZE = 4;
/** v5 only: `[255, n]` closes channel n (stdin EOF), KEP-4006. */
export const CHANNEL_CLOSE = 255;

/** Subprotocols, preferred first. v5 adds the CLOSE signal (stdin half-close); v4 has JSON status. */
export const PROTOCOL_V5 = 'v5.channel.k8s.io';
export const PROTOCOL_V4 = 'v4.channel.k8s.io';
export const SUBPROTOCOLS: readonly string[] = [PROTOCOL_V5, PROTOCOL_V4];

/** One decoded message. `payload` is a view into the received buffer. */
export interface ChannelMessage {
  channel: number;
  payload: Buffer;
}

/**
 * Normalise what `ws` hands to a `'message'` listener (a Buffer with the default binaryType, an
 * ArrayBuffer, or fragments as Buffer[]) into one Buffer.
 */
export function toBuffer(data: Buffer | ArrayBuffer | Buffer[] | Uint8Array): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return data.length === 1 ? data[0]! : Buffer.concat(data);
  if (data instanceof ArrayBuffer) return Buffer.from(data);
  return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}

/**
 * Split a binary message into its channel and payload (no copy). A zero-length message carries no
 * channel and yields `null` (the server skips those: apimachinery pkg/util/httpstream/wsstream/conn.go).
 */
export function parseChannelMessage(data: Buffer): ChannelMessage | null {
  if (data.length === 0) return null;
  return { channel: data[0]!, payload: data.subarray(1) };
}

/** A message for `channel` carrying `payload` (one copy, see the module comment). */
export function channelMessage(channel: number, payload: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(1 + payload.length);
  out[0] = channel;
  out.set(payload, 1);
  return out;
}

/** `[0] + data`: bytes for the process's stdin. */
export function stdinMessage(data: Uint8Array): Buffer {
  return channelMessage(CHANNEL_STDIN, data);
}

/**
 * `[4] + {"Width":W,"Height":H}`: a terminal resize, in client-go's shape (a Go struct with no JSON
 * tags; the Go server decodes keys case-insensitively). Only meaningful on a TTY session: on a
 * non-TTY session nothing drains the resize channel (only a TTY session consumes resize events:
 * kubelet cri/streaming/remotecommand), so don't send it there.
 */
export function resizeMessage(width: number, height: number): Buffer {
  const w = clampU16(width);
  const h = clampU16(height);
  return Buffer.from(`\x04{"Width":${w},"Height":${h}}`, 'latin1');
}

function clampU16(n: number): number {
  // TerminalSize fields are uint16 in Go; a larger value fails the server's decode.
  if (!Number.isFinite(n) || n < 0) return 0;
  return Math.min(Math.floor(n), 0xffff);
}

/** `[255, 0]`: close the process's stdin (v5 only; on v4 there is no way to send EOF, §1.7). */
export function closeStdinMessage(): Buffer {
  return Buffer.from([CHANNEL_CLOSE, CHANNEL_STDIN]);
}

/** True when the negotiated subprotocol can half-close stdin. */
export function canCloseStdin(protocol: string | undefined): boolean {
  return protocol === PROTOCOL_V5;
}

// ---------------------------------------------------------------------------------------------
// Channel 3: the session's final status (kubelet pkg/kubelet/cri/streaming/remotecommand/exec.go;
// client-go tools/remotecommand/v4.go `errorDecoderV4`).

/** The outcome carried on channel 3. */
export type ChannelStatus =
  /** The command ran: `Success` is exit 0, `Failure`/`NonZeroExitCode` carries the code (0-255). */
  | { kind: 'exit'; exitCode: number }
  /** The session failed (container not found, CRI error, bad status): surface as a Docker 500. */
  | { kind: 'error'; message: string; reason?: string; code?: number };

interface StatusJson {
  status?: string;
  message?: string;
  reason?: string;
  code?: number;
  details?: { causes?: { reason?: string; type?: string; message?: string }[] };
}

/**
 * Decode the complete channel-3 text as client-go does: Success -> exit 0; Failure with reason
 * NonZeroExitCode -> the cause whose reason (Go `StatusCause.Type`) is `ExitCode`, its message
 * parsed as an 8-bit unsigned decimal; any other Failure -> an error with the Status message.
 * Pre-v4 protocols send plain text (failures only): text that is not JSON becomes an error with
 * that text.
 */
export function parseStatus(text: string): ChannelStatus {
  let s: StatusJson;
  try {
    s = JSON.parse(text) as StatusJson;
  } catch {
    return { kind: 'error', message: text.trim() };
  }
  if (s === null || typeof s !== 'object') return { kind: 'error', message: text.trim() };
  return decodeStatus(s);
}

/** A parsed Status object as client-go decodes it (see {@link parseStatus}). */
function decodeStatus(s: StatusJson): ChannelStatus {
  if (s.status === 'Success') return { kind: 'exit', exitCode: 0 };
  if (s.status === 'Failure') {
    if (s.reason === 'NonZeroExitCode') {
      const causes = s.details?.causes;
      if (!Array.isArray(causes))
        return { kind: 'error', message: 'error stream protocol error: details must be set', reason: s.reason };
      for (const c of causes) {
        // JSON key is `reason` (Go field Type, tag "reason"); accept `type` as well.
        if ((c?.reason ?? c?.type) !== 'ExitCode') continue;
        const m = String(c.message ?? '');
        // Go: strconv.ParseUint(msg, 10, 8), so decimal digits only, 0..255.
        if (!/^\d+$/.test(m) || Number(m) > 255) {
          return {
            kind: 'error',
            message: `error stream protocol error: invalid exit code value ${JSON.stringify(m)}`,
            reason: s.reason,
          };
        }
        return { kind: 'exit', exitCode: Number(m) };
      }
      return { kind: 'error', message: 'error stream protocol error: no ExitCode cause given', reason: s.reason };
    }
    const out: ChannelStatus = { kind: 'error', message: s.message ?? 'error stream protocol error: unknown error' };
    if (s.reason !== undefined) out.reason = s.reason;
    if (typeof s.code === 'number') out.code = s.code;
    return out;
  }
  return {
    kind: 'error',
    message: 'error stream protocol error: unknown error',
    ...(s.reason ? { reason: s.reason } : {}),
  };
}

/** Channel-3 text is a small Status object; more than this is a protocol error, not a buffer to grow. */
export const MAX_STATUS_BYTES = 64 * 1024;

/**
 * Accumulates channel-3 payloads until the status is whole ({@link StatusCollector.whole}) or the
 * WebSocket closes (client-go reads the error stream to EOF: the status may span several
 * messages, `cg/errorstream.go`), then decodes them.
 */
export class StatusCollector {
  #parts: Buffer[] = [];
  #len = 0;
  #overflow = false;

  /** Add one channel-3 payload (copied: the message buffer may be reused). */
  push(payload: Buffer): void {
    if (payload.length === 0) return;
    if (this.#len + payload.length > MAX_STATUS_BYTES) {
      this.#overflow = true;
      return;
    }
    this.#parts.push(Buffer.from(payload));
    this.#len += payload.length;
  }

  /** True once any status byte arrived. */
  get received(): boolean {
    return this.#len > 0 || this.#overflow;
  }

  /**
   * The decoded status as soon as the bytes so far are one whole JSON object, else `undefined`
   * (nothing yet, a part of it, or pre-v4 plain text: those wait for the close). v4 and v5 servers
   * write the Status in one message (the kubelet's and the apiserver's `writeStatus` marshal it and
   * Write it once: k8s.io/apiserver pkg/util/proxy/websocket.go, kubelet
   * pkg/kubelet/cri/streaming/remotecommand/websocket.go), after all output (client-go
   * tools/remotecommand/v2.go copies stdout/stderr to the end before it returns the error stream's
   * result; the translator writes the status after that), and then wait for the client to close
   * (k8s.io/apiserver pkg/util/proxy/streamtranslator.go: "let it close the connection"). A prefix
   * of a JSON object never parses as one, so a split status still waits for its last part.
   */
  whole(): ChannelStatus | undefined {
    if (this.#overflow || this.#len === 0) return undefined;
    const text = (this.#parts.length === 1 ? this.#parts[0]! : Buffer.concat(this.#parts, this.#len)).toString('utf8');
    let s: unknown;
    try {
      s = JSON.parse(text);
    } catch {
      return undefined;
    }
    return s !== null && typeof s === 'object' && !Array.isArray(s) ? decodeStatus(s as StatusJson) : undefined;
  }

  /**
   * The decoded status, or `undefined` when channel 3 stayed empty (for v4/v5 a clean close with no
   * status means success; the caller decides with {@link exitFromClose}).
   */
  finish(): ChannelStatus | undefined {
    if (this.#overflow)
      return { kind: 'error', message: `error stream protocol error: status larger than ${MAX_STATUS_BYTES} bytes` };
    if (this.#len === 0) return undefined;
    return parseStatus(Buffer.concat(this.#parts, this.#len).toString('utf8'));
  }
}

/**
 * The session's outcome from the status (if any) and the WebSocket close code: a status wins;
 * no status and a clean close (1000) is exit 0 (client-go: "no status + normal close = success");
 * any other close without a status is an error (the stream was cut: kubernetes#124571).
 */
export function exitFromClose(status: ChannelStatus | undefined, closeCode: number): ChannelStatus {
  if (status) return status;
  if (closeCode === 1000) return { kind: 'exit', exitCode: 0 };
  return { kind: 'error', message: `exec stream closed without a status (WebSocket close ${closeCode})` };
}
