/**
 * @module http/connection
 * The per-socket HTTP/1.1 state machine.
 *
 *   HEAD ──head parsed──> ACTIVE ──response done + message done──> HEAD (keep-alive) or CLOSING
 *                           │ hijack()
 *                           v
 *                        HIJACKED (raw bytes both ways until the socket closes)
 *
 * - One request at a time: the parser stops after each message, and bytes after it (pipelined
 *   requests, or stdin after an exec-start body) stay in `pending` until the response is done,
 *   or go to the hijacked stream's input (RFC 7230 §6.3.2).
 * - The request body streams into the handler with backpressure; a body the handler did not read
 *   is drained after the response (up to {@link DISCARD_LIMIT}, as Go's net/http does), else the
 *   connection closes.
 * - The client's FIN (allowHalfOpen) is not an abort: queued requests are still answered; for a
 *   request that did not ask to upgrade it cancels the response (`onClose`), as Go's
 *   net/http cancels the request context on EOF; an upgrade request keeps it as the end of its input.
 * - Protocol errors get a canned status with `Connection: close`; the socket then lingers
 *   half-closed briefly so the client reads the answer before the close (Go's rstAvoidanceDelay).
 */
import type { Socket } from 'node:net';
import type { Logger } from '../log.js';
import { HttpParseError, RequestParser, type RequestHead } from './parser.js';
import type { ConnectionPort } from './port.js';
import { Request } from './request.js';
import { Response } from './response.js';
import { DEFAULT_STREAM_BATCH_BYTES, HijackedStream, type Hijacked } from './hijack.js';
import { cannedResponse } from './canned.js';

export type Handler = (req: Request, res: Response) => void | Promise<void>;

export interface ConnectionLimits {
  maxHeaderBytes: number;
  maxBodyBytes: number;
  headerTimeoutMs: number;
  idleTimeoutMs: number;
  /** A handler waiting for body bytes that do not come for this long: 408 + close (0 or absent = never). */
  bodyTimeoutMs?: number;
  /** Streamed and hijacked output: bytes buffered in the socket before the writer waits for 'drain' (default 64 KiB). */
  streamBatchBytes?: number;
}

/** Never aborted: the signal of connections made outside an {@link HttpServer} (tests). */
const NEVER = new AbortController().signal;

/** Unread body bytes drained after a response before the connection is given up (Go: maxPostHandlerReadBytes). */
export const DISCARD_LIMIT = 256 * 1024;
/** Bytes held (pipelined) while a response is pending before the socket is paused. */
export const HOLD_LIMIT = 256 * 1024;
/** After our FIN on a connection we are done with, how long to wait for the client's before destroying it. */
export const LINGER_MS = 1000;

const enum State {
  Head,
  Active,
  Hijacked,
  Closing,
  Closed,
}

// Reasons the socket is paused; it reads again when none is left.
const PAUSE_BODY = 1;
const PAUSE_HOLD = 2;
const PAUSE_INPUT = 4;

class HttpBodyTimeout extends Error {
  constructor(limitMs: number) {
    super(`no request body bytes for ${limitMs} ms`);
    this.name = 'HttpBodyTimeout';
  }
}

const CONTINUE = Buffer.from('HTTP/1.1 100 Continue\r\n\r\n');

export class Connection implements ConnectionPort {
  readonly maxBodyBytes: number;
  readonly streamBatchBytes: number;
  /** Epoch ms since which the handler has waited for body bytes (0: not waiting). */
  bodyWaitSince = 0;
  /** Epoch ms when the current head's first byte arrived (0: no head in progress). */
  headStart = 0;
  /** Epoch ms since which the connection has been idle between requests (0: not idle). */
  idleSince: number;
  private state = State.Head;
  private readonly parser: RequestParser;
  private pending: Buffer | null = null;
  private pumping = false;
  private newRequest = false;
  private req: Request | null = null;
  private res: Response | null = null;
  private msgDone = false;
  private resDone = false;
  private closeAfter = false;
  private readEnded = false;
  private paused = 0;
  private discarded = 0;
  private continued = false;
  private hij: HijackedStream | null = null;
  private lingerTimer: NodeJS.Timeout | undefined;

  private _log: Logger | undefined;

  constructor(
    readonly socket: Socket,
    private readonly handler: Handler,
    private readonly limits: ConnectionLimits,
    private readonly baseLog: Logger,
    readonly id: number,
    private readonly onClosed: (c: Connection) => void,
    readonly shutdownSignal: AbortSignal = NEVER,
  ) {
    this.maxBodyBytes = limits.maxBodyBytes;
    this.streamBatchBytes = limits.streamBatchBytes ?? DEFAULT_STREAM_BATCH_BYTES;
    this.idleSince = Date.now();
    this.parser = new RequestParser(
      {
        onHead: (h) => this.onHead(h),
        onBody: (c) => this.onBody(c),
        onComplete: () => this.onComplete(),
      },
      limits.maxHeaderBytes,
    );
    socket.setNoDelay?.(true);
    socket.on('data', (c: Buffer) => this.onData(c));
    socket.on('end', () => this.onEnd());
    socket.on('error', (err) => this.log.debug({ err: err.message }, 'socket error'));
    socket.on('close', () => this.onSocketClose());
  }

  /** The connection's logger (`conn` id), created on first use. */
  get log(): Logger {
    return (this._log ??= this.baseLog.child({ conn: this.id }));
  }

  logs(level: 'trace' | 'debug' | 'info' | 'warn' | 'error'): boolean {
    return this.baseLog.isLevelEnabled(level);
  }

  /** Between requests with nothing buffered (safe to close for shutdown). */
  get idle(): boolean {
    return this.state === State.Head && this.pending === null && this.parser.pendingHeadBytes === 0;
  }

  get hijacked(): boolean {
    return this.state === State.Hijacked;
  }

  // ---- socket events ----

  private onData(chunk: Buffer): void {
    const st = this.state;
    if (st === State.Hijacked && this.msgDone) {
      if (!this.hij!.pushInput(chunk)) this.pause(PAUSE_INPUT);
      return;
    }
    if (st === State.Closing || st === State.Closed) return; // lingering: drop what the client still sends
    this.pending = this.pending === null ? chunk : Buffer.concat([this.pending, chunk]);
    this.pump();
  }

  private onEnd(): void {
    this.readEnded = true;
    switch (this.state) {
      case State.Head:
        // Nothing in flight (a partial head can never complete now): close our side.
        this.endSocket();
        break;
      case State.Active: {
        const req = this.req!;
        if (!this.msgDone) req._abort(new Error('the client closed the connection before the request body ended'));
        if (this.resDone) {
          // answered, and the rest of the body can never arrive: done
          this.endSocket();
          break;
        }
        // As Go's net/http cancels the request on EOF; an upgrade request keeps it as the end of its input.
        if (!req.upgrade) this.res!._clientGone();
        break;
      }
      case State.Hijacked:
        // (pending is always empty here: bytes after the message go straight to the input)
        this.hij!.endInput();
        break;
      default:
        break;
    }
  }

  private onSocketClose(): void {
    const was = this.state;
    this.state = State.Closed;
    clearTimeout(this.lingerTimer);
    if (was === State.Active) {
      if (!this.msgDone) this.req!._abort(new Error('the client closed the connection'));
      this.res!._clientGone();
    } else if (was === State.Hijacked) {
      this.res!._clientGone();
      this.hij!.socketClosed();
    }
    this.pending = null;
    this.onClosed(this);
  }

  // ---- parsing ----

  private canParse(): boolean {
    const st = this.state;
    return st === State.Head || ((st === State.Active || st === State.Hijacked) && !this.msgDone);
  }

  private pump(): void {
    if (this.pumping) return; // re-entered from a handler that answered synchronously: the loop below continues
    this.pumping = true;
    try {
      while (this.pending !== null && this.canParse()) {
        if (this.state === State.Head && this.headStart === 0) {
          this.headStart = Date.now();
          this.idleSince = 0;
        }
        const buf = this.pending;
        this.pending = null;
        let at: number;
        try {
          at = this.parser.execute(buf);
        } catch (err) {
          this.protocolError(err instanceof HttpParseError ? err : new HttpParseError(400, String(err)));
          return;
        }
        if (at < buf.length) this.pending = buf.subarray(at);
        if (this.newRequest) {
          this.newRequest = false;
          this.dispatch();
        }
        if (this.discarded > DISCARD_LIMIT) {
          this.endSocket();
          return;
        }
      }
      const st = this.state;
      if (st === State.Hijacked && this.msgDone && this.pending !== null) {
        const rest = this.pending;
        this.pending = null;
        if (!this.hij!.pushInput(rest)) this.pause(PAUSE_INPUT);
        if (this.readEnded) this.hij!.endInput();
      } else if (st === State.Head && this.readEnded) {
        this.endSocket(); // the client is done sending and every complete request was answered
      } else if (this.pending !== null && this.pending.length > HOLD_LIMIT && st === State.Active) {
        this.pause(PAUSE_HOLD);
      }
    } finally {
      this.pumping = false;
    }
  }

  private onHead(head: RequestHead): void {
    this.headStart = 0;
    const req = new Request(this, head);
    this.req = req;
    this.res = new Response(this, req);
    this.state = State.Active;
    this.msgDone = false;
    this.resDone = false;
    this.continued = false;
    this.newRequest = true;
  }

  private onBody(chunk: Buffer): void {
    this.bodyWaitSince = 0;
    if (this.state === State.Hijacked) {
      if (!this.hij!.pushInput(chunk)) this.pause(PAUSE_INPUT);
    } else if (this.resDone) {
      this.discarded += chunk.length;
    } else if (!this.req!._push(chunk)) {
      this.pause(PAUSE_BODY);
    }
  }

  private onComplete(): void {
    this.msgDone = true;
    if (this.state === State.Hijacked) {
      // The request body was the input (dockerode's attach with stdin and no upgrade writes stdin
      // as a chunked body): its end is the end of the input; nothing after it is read.
      this.hij!.endInput();
      return;
    }
    this.req!._end();
    this.unpause(PAUSE_BODY);
    if (this.resDone) this.next();
  }

  // ---- requests and responses ----

  private dispatch(): void {
    const req = this.req!;
    const res = this.res!;
    let ret: void | Promise<void>;
    try {
      ret = this.handler(req, res);
    } catch (err) {
      this.handlerFailed(res, err);
      return;
    }
    if (ret && typeof (ret as Promise<void>).then === 'function') {
      (ret as Promise<void>).then(
        () => this.handlerReturned(res),
        (err) => this.handlerFailed(res, err),
      );
    } else this.handlerReturned(res);
  }

  private handlerReturned(res: Response): void {
    if (res.headersSent || res !== this.res || this.state !== State.Active) return;
    this.log.error({ rid: res.req.id, url: res.req.url }, 'handler returned without responding');
    res.text(500, 'handler returned without responding\n');
  }

  private handlerFailed(res: Response, err: unknown): void {
    this.log.error({ rid: res.req.id, err }, 'handler failed');
    if (res !== this.res) return;
    if (this.state === State.Active && !res.headersSent) {
      this.closeAfter = true;
      res.text(500, 'internal server error\n');
    } else if (this.state === State.Active || this.state === State.Hijacked) {
      // Half-written or a stream nobody owns any more: the only safe end is a reset.
      this.socket.destroy();
    }
  }

  /**
   * No further request will be served on this connection after the current one. An upgrade
   * request answered without a hijack (an error) closes too: the client may already have sent
   * stream bytes that are not HTTP (Node's http server destroys such sockets).
   */
  private get lastRequest(): boolean {
    const req = this.req!;
    return this.closeAfter || !req.keepAlive || req.upgrade || (this.readEnded && this.pending === null);
  }

  connectionHeader(res: Response): string {
    if (res !== this.res) return '';
    if (this.lastRequest) return 'Connection: close\r\n';
    if (res.req.httpVersionMinor === 0) return 'Connection: keep-alive\r\n';
    return '';
  }

  closeAfterResponse(): void {
    this.closeAfter = true;
  }

  responseDone(res: Response): void {
    if (res !== this.res || this.state !== State.Active) return;
    this.resDone = true;
    const req = res.req;
    if (this.baseLog.isLevelEnabled('debug'))
      req.log.debug({ method: req.method, url: req.url, status: res.statusCode }, 'request');
    if (this.lastRequest) {
      this.endSocket();
      return;
    }
    if (this.msgDone) {
      // Serve the next (pipelined) request once the current handler's synchronous code is done,
      // not from inside its res.json() call.
      if (this.pumping) this.next();
      else queueMicrotask(() => this.state === State.Active && this.res === res && this.next());
    } else {
      // The handler answered without reading the whole body: drain it so the connection can be reused.
      this.discarded = 0;
      req._abort(new Error('the response was sent before the request body was read'));
      this.unpause(PAUSE_BODY);
    }
  }

  private next(): void {
    if (this.closeAfter) {
      // shutdown() came between the response's end and this (queued) step: no next request.
      this.endSocket();
      return;
    }
    this.req = null;
    this.res = null;
    this.state = State.Head;
    this.msgDone = false;
    this.resDone = false;
    this.discarded = 0;
    this.headStart = 0;
    this.idleSince = Date.now();
    this.unpause(PAUSE_HOLD | PAUSE_BODY);
    this.pump();
  }

  bodyWanted(req: Request): void {
    if (req !== this.req) return;
    if (!this.msgDone && this.bodyWaitSince === 0) this.bodyWaitSince = Date.now();
    // RFC 7231 §5.1.1: a client that sent "Expect: 100-continue" waits for this before the body.
    if (
      !this.continued &&
      !this.msgDone &&
      req.httpVersionMinor >= 1 &&
      req.headers['expect']?.toLowerCase() === '100-continue' &&
      !this.res!.headersSent
    ) {
      this.continued = true;
      this.socket.write(CONTINUE);
    }
    this.unpause(PAUSE_BODY);
  }

  hijack(res: Response, head: string): Hijacked {
    if (res !== this.res || this.state !== State.Active)
      throw new Error('hijack: the connection is not serving this request');
    this.state = State.Hijacked;
    const req = res.req;
    // Body bytes not read yet now belong to the raw stream's input (e.g. stdin sent as a
    // chunked body); the request's own body stream ends here, and the input ends with the body.
    const hij = new HijackedStream(this.socket, head, () => this.unpause(PAUSE_INPUT), this.streamBatchBytes);
    this.hij = hij;
    this.unpause(PAUSE_BODY | PAUSE_HOLD);
    // Body bytes parsed but not read by the handler come first.
    for (const chunk of req._takeBuffered()) if (!hij.pushInput(chunk)) this.pause(PAUSE_INPUT);
    if (this.msgDone) {
      const rest = this.pending;
      this.pending = null;
      if (rest !== null && !hij.pushInput(rest)) this.pause(PAUSE_INPUT);
      if (this.readEnded) hij.endInput();
    } else if (this.readEnded) hij.endInput();
    return hij;
  }

  // ---- lifecycle ----

  private pause(reason: number): void {
    if (this.paused === 0) this.socket.pause();
    this.paused |= reason;
  }

  private unpause(reasons: number): void {
    if ((this.paused & reasons) === 0) return;
    this.paused &= ~reasons;
    if (this.paused === 0 && this.state !== State.Closed) this.socket.resume();
  }

  private protocolError(err: HttpParseError): void {
    this.log.debug({ status: err.status, reason: err.message }, 'malformed request');
    const res = this.res;
    if (this.state === State.Active && res) {
      this.req!._abort(err);
      res._clientGone();
      if (res.headersSent) {
        this.socket.destroy();
        return;
      }
      res.headersSent = true; // the handler can no longer answer
    } else if (this.state === State.Hijacked) {
      this.socket.destroy();
      return;
    }
    this.endSocket(cannedResponse(err.status, err.message));
  }

  /** 408 when a head takes too long; close an idle keep-alive connection. Called by the server's sweep. */
  checkTimeouts(now: number): void {
    if (this.state === State.Active) {
      this.checkBodyTimeout(now);
      return;
    }
    if (this.state !== State.Head) return;
    if (this.headStart !== 0) {
      if (now - this.headStart >= this.limits.headerTimeoutMs) {
        this.log.debug('request head timeout');
        this.endSocket(cannedResponse(408));
      }
    } else if (
      this.limits.idleTimeoutMs > 0 &&
      this.idleSince !== 0 &&
      now - this.idleSince >= this.limits.idleTimeoutMs
    ) {
      this.endSocket();
    }
  }

  /**
   * A handler is reading the body (it asked for bytes, and we are not holding the socket for
   * backpressure) and the client has sent nothing for `bodyTimeoutMs`: the body read fails, the
   * client gets 408 and the connection closes (Go's net/http ReadTimeout ends such reads too;
   * this one is per silence, not per request, so long uploads that keep moving are fine).
   */
  private checkBodyTimeout(now: number): void {
    const limit = this.limits.bodyTimeoutMs ?? 0;
    if (limit <= 0 || this.msgDone || this.bodyWaitSince === 0 || (this.paused & PAUSE_BODY) !== 0) return;
    if (now - this.bodyWaitSince < limit) return;
    this.log.debug({ limitMs: limit }, 'request body timeout');
    const err = new HttpBodyTimeout(limit);
    const res = this.res!;
    this.req!._abort(err);
    if (res.headersSent) {
      this.socket.destroy();
      return;
    }
    res.headersSent = true; // the handler can no longer answer,
    res.finished = true; // nor cut the connection before the 408 is read
    res._clientGone();
    this.endSocket(cannedResponse(408, err.message));
  }

  /** Graceful shutdown: close now if idle, else after the current response (streams run on). */
  shutdown(): void {
    this.closeAfter = true;
    if (this.state === State.Head) this.endSocket();
  }

  /**
   * Our side is done: send `last` (a canned error) and the FIN, drop whatever else the client
   * sends, and destroy the socket if the client has not closed within LINGER_MS.
   */
  private endSocket(last?: Buffer): void {
    if (this.state === State.Closing || this.state === State.Closed) return;
    this.state = State.Closing;
    this.pending = null;
    const s = this.socket;
    this.paused = 0;
    s.resume();
    // Once everything is handed to the kernel, give the client LINGER_MS to read it and close;
    // (allowHalfOpen: when both sides have ended Node destroys the socket by itself).
    s.once('finish', () => {
      if (this.state === State.Closed) return;
      this.lingerTimer = setTimeout(() => s.destroy(), LINGER_MS);
      this.lingerTimer.unref();
    });
    if (last) s.end(last);
    else s.end();
  }

  destroy(): void {
    this.socket.destroy();
  }
}
