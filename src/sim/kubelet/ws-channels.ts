/**
 * @module sim/kubelet/ws-channels
 * The Kubernetes channel protocol over WebSocket, server side (k8s.io/apimachinery wsstream/conn.go
 * and the apiserver's v5 translator): subprotocol negotiation (first client-offered protocol we
 * support, echoed; the bearer-token pseudo protocol stripped), one channel byte + payload per
 * binary message (base64 protocols: text frames with an ASCII digit channel), channel 3 Status,
 * v5 `[255, channel]` half-close, close code 1000, and explicit backpressure both ways: `send()`
 * returns false above a `bufferedAmount` high-water mark and `onDrain` fires when the socket
 * drained; `pause()`/`resume()` stop reading client frames.
 */
import type { WsEndpoint } from './ws-server.js';

export const V5 = 'v5.channel.k8s.io';
export const V4 = 'v4.channel.k8s.io';
export const V4_BASE64 = 'v4.base64.channel.k8s.io';
export const V1 = 'channel.k8s.io';
export const V1_BASE64 = 'base64.channel.k8s.io';

/** remotecommand protocols in our preference order (the client's order decides). */
export const EXEC_PROTOCOLS = [V5, V4, V4_BASE64, V1, V1_BASE64];
/** The kubelet's port-forward WebSocket server registers "", v4 and v4.base64 only (no v5). */
export const PORTFORWARD_PROTOCOLS = [V4, V4_BASE64];

const BEARER_PREFIX = 'base64url.bearer.authorization.k8s.io.';

export function offeredProtocols(header: string | string[] | undefined): string[] {
  const raw = Array.isArray(header) ? header.join(',') : (header ?? '');
  return raw
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p && !p.startsWith(BEARER_PREFIX));
}

/**
 * wsstream handshake(): the first offered protocol that is supported; no offer at all means ""
 * (the binary channel protocol). Returns undefined when nothing offered is supported.
 */
export function negotiate(offered: string[], supported: string[]): string | undefined {
  if (!offered.length) return '';
  return offered.find((p) => supported.includes(p));
}

export function isBase64(protocol: string): boolean {
  return protocol === V4_BASE64 || protocol === V1_BASE64;
}

export interface ChannelConnOptions {
  highWaterMark: number;
  /** Fault injection: destroy the connection after this many payload bytes were sent. */
  dropAfterBytes?: number;
}

const CHANNEL_BYTE = Array.from({ length: 256 }, (_, i) => Buffer.from([i]));

export class ChannelConn {
  readonly base64: boolean;
  readonly v5: boolean;
  /** v4/v5 carry a JSON Status on channel 3; older protocols a plain-text error only. */
  readonly jsonStatus: boolean;
  private sent = 0;
  private drainWaiters: Array<() => void> = [];
  private closed = false;
  private readonly closeCbs: Array<() => void> = [];
  private handler: ((channel: number, payload: Buffer) => void) | undefined;
  private protocolError: ((why: string) => void) | undefined;
  private early: Array<[number, Buffer]> = [];
  /** The channel of the message being received (-1: its first byte has not arrived yet). */
  private channel = -1;
  private pending: Buffer[] | undefined;

  constructor(
    readonly ep: WsEndpoint,
    readonly protocol: string,
    private readonly opts: ChannelConnOptions,
  ) {
    this.base64 = isBase64(protocol);
    this.v5 = protocol === V5;
    this.jsonStatus = protocol === V5 || protocol === V4 || protocol === V4_BASE64;
    ep.on('drain', () => this.checkDrain());
    ep.on('close', () => this.onClosed());
    ep.on('data', (op: number, piece: Buffer, first: boolean, last: boolean) => this.onPiece(op, piece, first, last));
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Send one message on a channel. Returns false when the caller should pause its source. */
  send(channel: number, data: Buffer | string): boolean {
    if (this.closed) return true;
    const payload = typeof data === 'string' ? Buffer.from(data) : data;
    if (this.base64)
      this.ep.send(1, undefined, Buffer.from(String.fromCharCode(48 + channel) + payload.toString('base64'), 'latin1'));
    else this.ep.send(2, CHANNEL_BYTE[channel], payload);
    this.sent += payload.length;
    const drop = this.opts.dropAfterBytes;
    if (drop !== undefined && this.sent >= drop) {
      this.ep.terminate();
      return true;
    }
    return this.ep.bufferedAmount < this.opts.highWaterMark;
  }

  /** Calls `cb` once the outbound buffer is below the high-water mark (or the connection closed). */
  onDrain(cb: () => void): void {
    if (this.closed || this.ep.bufferedAmount < this.opts.highWaterMark) {
      cb();
      return;
    }
    this.drainWaiters.push(cb);
  }

  private checkDrain(): void {
    if (!this.drainWaiters.length) return;
    if (this.closed || this.ep.bufferedAmount < this.opts.highWaterMark) {
      const w = this.drainWaiters;
      this.drainWaiters = [];
      for (const cb of w) cb();
    }
  }

  /**
   * Incoming data as (channel, payload): large messages arrive in pieces, each tagged with the
   * message's channel (boundaries carry no meaning for stdin). Empty messages are skipped as
   * wsstream does. Data that arrives before a handler is set (stdin written while the process is
   * being spawned) is queued, and reading paused, until then.
   */
  onMessage(cb: (channel: number, payload: Buffer) => void, onProtocolError?: (why: string) => void): void {
    this.handler = cb;
    this.protocolError = onProtocolError;
    const q = this.early;
    this.early = [];
    for (const [ch, p] of q) cb(ch, p);
    this.ep.resume();
  }

  private dispatch(ch: number, payload: Buffer): void {
    if (ch === 255) {
      if (!this.v5) return;
      if (payload.length !== 1) {
        this.protocolError?.('CLOSE frame must carry exactly one channel');
        return;
      }
    }
    if (this.handler) this.handler(ch, payload);
    else {
      this.early.push([ch, payload]);
      this.ep.pause();
    }
  }

  private onPiece(op: number, piece: Buffer, first: boolean, last: boolean): void {
    if (this.closing) return;
    if (first) {
      this.channel = -1;
      this.pending = undefined;
    }
    const whole = this.base64 || this.channel === 255 || (this.channel === -1 && piece[0] === 255);
    if (this.base64) {
      // Text frames: '0'+channel then base64 of the payload; decoded once the message is complete.
      if (op !== 1) return;
      (this.pending ??= []).push(piece);
      if (!last) return;
      const text = Buffer.concat(this.pending).toString('latin1');
      this.pending = undefined;
      if (!text.length) return;
      const ch = text.charCodeAt(0) - 48;
      if (ch < 0 || ch > 9) return;
      this.dispatch(ch, Buffer.from(text.slice(1), 'base64'));
      return;
    }
    if (op !== 2) return; // client-go and client-node send binary only; text is ignored
    if (whole) {
      (this.pending ??= []).push(piece);
      if (this.channel === -1 && piece.length) this.channel = piece[0]!;
      if (!last) return;
      const all = Buffer.concat(this.pending);
      this.pending = undefined;
      if (all.length) this.dispatch(all[0]!, all.subarray(1));
      return;
    }
    let p = piece;
    if (this.channel === -1) {
      if (!p.length) return;
      this.channel = p[0]!;
      p = p.subarray(1);
    }
    if (p.length) this.dispatch(this.channel, p);
  }

  onClose(cb: () => void): void {
    if (this.closed) cb();
    else this.closeCbs.push(cb);
  }

  private onClosed(): void {
    if (this.closed) return;
    this.closed = true;
    const w = this.drainWaiters;
    this.drainWaiters = [];
    for (const cb of w) cb();
    for (const cb of this.closeCbs.splice(0)) cb();
  }

  pause(): void {
    if (!this.closed) this.ep.pause();
  }

  resume(): void {
    if (!this.closed) this.ep.resume();
  }

  /** Write the one status message on channel 3 (v4/v5 JSON; older protocols: text, failures only). */
  sendStatus(status: Record<string, unknown>): void {
    if (this.jsonStatus) this.send(3, JSON.stringify(status));
    else if (status.status !== 'Success') this.send(3, String(status.message ?? ''));
  }

  /**
   * Close 1000 and wait for the client's close frame (the apiserver's finish()). Reading resumes
   * (the close frame must be read) and any further data from the client is dropped.
   */
  close(): void {
    if (this.closed || this.closing) return;
    this.closing = true;
    this.early = [];
    this.ep.close(1000);
    this.ep.resume();
  }

  private closing = false;
}

/** Resize messages: JSON TerminalSize objects, either key casing, several per frame or split across frames. */
export class ResizeDecoder {
  private buf = '';
  constructor(private readonly cb: (rows: number, cols: number) => void) {}

  push(chunk: Buffer): void {
    this.buf += chunk.toString('utf8');
    for (;;) {
      const start = this.buf.indexOf('{');
      if (start < 0) {
        this.buf = '';
        return;
      }
      let depth = 0;
      let end = -1;
      let inStr = false;
      for (let i = start; i < this.buf.length; i++) {
        const c = this.buf[i];
        if (inStr) {
          if (c === '\\') i++;
          else if (c === '"') inStr = false;
        } else if (c === '"') inStr = true;
        else if (c === '{') depth++;
        else if (c === '}' && --depth === 0) {
          end = i;
          break;
        }
      }
      if (end < 0) {
        this.buf = this.buf.slice(start);
        if (this.buf.length > 65536) this.buf = '';
        return;
      }
      const text = this.buf.slice(start, end + 1);
      this.buf = this.buf.slice(end + 1);
      try {
        const o = JSON.parse(text) as Record<string, unknown>;
        let w = 0,
          h = 0;
        for (const [k, v] of Object.entries(o)) {
          if (k.toLowerCase() === 'width') w = Number(v);
          else if (k.toLowerCase() === 'height') h = Number(v);
        }
        if (w > 0 && h > 0) this.cb(h, w);
      } catch {
        /* not JSON: ignored, as json.Decoder would fail only this session's resizes */
      }
    }
  }
}

export type StatusObject = Record<string, unknown>;

export const SUCCESS: StatusObject = { metadata: {}, status: 'Success' };

export function exitStatus(code: number, message: string): StatusObject {
  return {
    metadata: {},
    status: 'Failure',
    message,
    reason: 'NonZeroExitCode',
    details: { causes: [{ reason: 'ExitCode', message: String(code) }] },
  };
}

/** apierrors.NewInternalError as the v5 translator writes it for kubelet/runtime failures. */
export function internalStatus(err: string): StatusObject {
  return {
    metadata: {},
    status: 'Failure',
    message: `Internal error occurred: ${err}`,
    reason: 'InternalError',
    details: { causes: [{ message: err }] },
    code: 500,
  };
}
