/**
 * @module engine/ports/portforward-session
 * One pods/portforward session for one published-port client (`v4.channel.k8s.io`, the
 * portforward subprotocol of kubernetes pkg/kubelet/cri/streaming/portforward/websocket.go): data
 * on channel 0 and errors on channel 1, each channel's first two bytes the little-endian port. The
 * protocol has no half-close (a client's FIN cannot be passed on). Backpressure both ways: a full
 * client pauses the WebSocket (`ws.pause()`), a WebSocket buffering `wsHighWaterMark` or more
 * pauses the client until its send callbacks bring it under half of that.
 *
 * The session ends 'retry' when the container refused before it sent a byte: the client's bytes
 * so far are kept (up to `replayBytes`, in the shared {@link Replay}) so that a new session can
 * replay them; 'done' otherwise.
 */
import type { Socket } from 'node:net';
import type { WebSocket } from 'ws';
import type { Logger } from '../../log.js';

/** What the client sent before the container's first byte (for a retried session). */
export interface Replay {
  chunks: Buffer[];
  bytes: number;
  overflow: boolean;
  ended: boolean;
}

export interface SessionLimits {
  replayBytes: number;
  wsHighWaterMark: number;
  /** A refused session is retried only before this time (epoch ms). */
  deadline: number;
}

export type SessionEnd = 'done' | 'retry';

/** Strips the 2-byte port prefix that starts each channel's stream (it may arrive split). */
export class PortPrefixed {
  private left = [2, 2];
  /** One message: its channel (0 data, 1 error) and payload without the prefix; undefined when nothing is left. */
  decode(data: Buffer): { channel: 0 | 1; payload: Buffer } | undefined {
    const ch = data[0];
    if (data.length < 2 || (ch !== 0 && ch !== 1)) return undefined;
    let payload = data.subarray(1);
    const n = Math.min(this.left[ch]!, payload.length);
    this.left[ch]! -= n;
    payload = payload.subarray(n);
    return payload.length ? { channel: ch, payload } : undefined;
  }
}

export class PortForwardSession {
  private ws: WebSocket | undefined;
  private settled = false;
  private received = false;
  private errorText = '';
  private clientPaused = false;
  private wsPaused = false;
  private readonly prefixes = new PortPrefixed();
  private resolve!: (r: SessionEnd) => void;
  private reject!: (e: Error) => void;
  readonly done: Promise<SessionEnd>;

  constructor(
    private readonly client: Socket,
    private readonly port: number,
    private readonly state: Replay,
    private readonly limits: SessionLimits,
    private readonly signal: AbortSignal,
    private readonly log: Logger,
  ) {
    this.done = new Promise<SessionEnd>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
    signal.addEventListener('abort', this.onAbort, { once: true });
    client.once('close', this.onClientClose);
  }

  /** Run on the WebSocket `dial` resolves with (handed over paused). */
  start(dial: Promise<WebSocket>): Promise<SessionEnd> {
    dial.then(
      (ws) => this.attach(ws),
      (err: Error) => {
        if (this.settled) return;
        if (Date.now() < this.limits.deadline && !this.state.overflow) return this.finish('retry');
        this.finish(err);
      },
    );
    return this.done;
  }

  private attach(ws: WebSocket): void {
    this.ws = ws;
    if (this.settled) return void ws.terminate();
    ws.on('error', () => {});
    ws.on('message', (data: Buffer) => this.onMessage(data));
    ws.on('close', () => this.onWsClose());
    ws.resume(); // the listeners are in place now
    // Replay what the client sent before an earlier session was refused, then go live.
    for (const c of this.state.chunks) this.send(c);
    this.client.on('data', this.onData);
    this.client.on('end', this.onEnd);
    if (!this.clientPaused) this.client.resume();
  }

  private onMessage(data: Buffer): void {
    const m = this.prefixes.decode(data);
    if (!m) return;
    if (m.channel === 1) {
      this.errorText += m.payload.toString('utf8');
      return;
    }
    if (!this.received) {
      this.received = true;
      this.state.chunks = [];
    }
    if (!this.client.write(m.payload) && !this.wsPaused) {
      this.wsPaused = true;
      this.ws!.pause();
      this.client.once('drain', this.onDrain);
    }
  }

  private onWsClose(): void {
    if (this.settled) return;
    const refused = this.errorText && !this.received;
    if (refused && /refused/i.test(this.errorText) && !this.state.overflow && Date.now() < this.limits.deadline)
      return this.finish('retry');
    if (refused) {
      this.log.debug({ port: this.port, error: this.errorText }, 'published port: pods/portforward failed');
      this.client.destroy();
    } else endThenDestroy(this.client);
    this.finish('done');
  }

  private send(d: Buffer): void {
    const ws = this.ws!;
    const frame = Buffer.allocUnsafe(d.length + 1);
    frame[0] = 0;
    d.copy(frame, 1);
    const hwm = this.limits.wsHighWaterMark;
    ws.send(frame, () => {
      if (this.clientPaused && ws.bufferedAmount < hwm / 2) {
        this.clientPaused = false;
        this.client.resume();
      }
    });
    if (ws.bufferedAmount >= hwm && !this.clientPaused) {
      this.clientPaused = true;
      this.client.pause();
    }
  }

  private readonly onData = (d: Buffer): void => {
    const st = this.state;
    if (!this.received && !st.overflow) {
      st.chunks.push(d);
      st.bytes += d.length;
      if (st.bytes > this.limits.replayBytes) {
        st.overflow = true;
        st.chunks = [];
      }
    }
    this.send(d);
  };
  private readonly onEnd = (): void => {
    this.state.ended = true; // v4 portforward cannot pass a half-close on: wait for the container's side
  };
  private readonly onClientClose = (): void => {
    this.ws?.close();
    this.finish('done');
  };
  private readonly onDrain = (): void => {
    this.wsPaused = false;
    this.ws?.resume();
  };
  private readonly onAbort = (): void => {
    this.ws?.terminate();
    this.finish('done');
  };

  private finish(r: SessionEnd | Error): void {
    if (this.settled) return;
    this.settled = true;
    const c = this.client;
    c.off('data', this.onData);
    c.off('end', this.onEnd);
    c.off('close', this.onClientClose);
    c.off('drain', this.onDrain);
    this.signal.removeEventListener('abort', this.onAbort);
    // Without a 'data' listener a flowing socket drops what it reads: hold the client's bytes
    // in its buffer until the next session (or the end) takes them.
    if (r === 'retry') c.pause();
    if (r instanceof Error) this.reject(r);
    else this.resolve(r);
  }
}

/** Close a socket once what was written has gone out. */
export function endThenDestroy(s: Socket): void {
  if (s.destroyed) return;
  if (s.writableFinished) return void s.destroy();
  s.once('finish', () => s.destroy());
  s.end();
}
