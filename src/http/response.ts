/**
 * @module http/response
 * Writing one response: a head built as one string, and a body written in the same write when it
 * is known (json/text/empty), chunked with the head flushed at once (stream), or raw after a
 * hijack. Middleware headers arrive pre-serialised as a {@link HeaderBlock}, so the hot path
 * does no per-header work for them.
 */
import { setMaxListeners } from 'node:events';
import { Writable } from 'node:stream';
import type { Socket } from 'node:net';
import type { Hijacked } from './hijack.js';
import type { Request } from './request.js';

/**
 * What a {@link Response} needs from the connection that carries it (the connection implements it,
 * see port.ts). Declared here, beside its user, so that response.ts imports nothing of the
 * connection.
 */
export interface ResponsePort {
  readonly socket: Socket;
  /** Bytes a streamed body may hold in the corked socket before its writer waits for 'drain'. */
  readonly streamBatchBytes: number;
  /** The connection must not be reused after the current response. */
  closeAfterResponse(): void;
  /** The `Connection:` header line for this response's head ('' when none is needed). */
  connectionHeader(res: Response): string;
  /** The response is completely written (head and body). */
  responseDone(res: Response): void;
  /** Take the socket over for a raw stream; `head` is written first, in its own write. */
  hijack(res: Response, head: string): Hijacked;
}

/** Pre-serialised header lines (`Name: value\r\n`...), built once with {@link headerBlock}. */
export interface HeaderBlock {
  readonly raw: string;
}

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
// eslint-disable-next-line no-control-regex
const BAD_VALUE = /[\x00-\x08\x0a-\x1f\x7f]/;

function checkHeader(name: string, value: string): void {
  if (!TOKEN.test(name)) throw new TypeError(`invalid header name ${JSON.stringify(name)}`);
  if (BAD_VALUE.test(value)) throw new TypeError(`invalid value for header ${name}`);
}

export function headerBlock(headers: Iterable<readonly [string, string]>): HeaderBlock {
  let raw = '';
  for (const [k, v] of headers) {
    checkHeader(k, v);
    raw += `${k}: ${v}\r\n`;
  }
  return Object.freeze({ raw });
}

export const STATUS_TEXT: Readonly<Record<number, string>> = {
  100: 'Continue',
  101: 'Switching Protocols',
  200: 'OK',
  201: 'Created',
  202: 'Accepted',
  204: 'No Content',
  206: 'Partial Content',
  301: 'Moved Permanently',
  302: 'Found',
  304: 'Not Modified',
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  406: 'Not Acceptable',
  408: 'Request Timeout',
  409: 'Conflict',
  410: 'Gone',
  411: 'Length Required',
  412: 'Precondition Failed',
  413: 'Request Entity Too Large',
  415: 'Unsupported Media Type',
  416: 'Requested Range Not Satisfiable',
  422: 'Unprocessable Entity',
  429: 'Too Many Requests',
  431: 'Request Header Fields Too Large',
  500: 'Internal Server Error',
  501: 'Not Implemented',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
  505: 'HTTP Version Not Supported',
};

// The Date header (RFC 7231 §7.1.1.2) changes once a second: format it once a second.
let dateSecond = 0;
let dateLine = '';
function dateHeader(): string {
  const now = Date.now();
  const s = Math.floor(now / 1000);
  if (s !== dateSecond) {
    dateSecond = s;
    dateLine = `Date: ${new Date(now).toUTCString()}\r\n`;
  }
  return dateLine;
}

/** Statuses that never carry a body (RFC 7230 §3.3.3): no Content-Length either, as Go does. */
function bodyless(status: number): boolean {
  return status === 204 || status === 304 || (status >= 100 && status < 200);
}

export class Response {
  /** The head has been written (or handed to a hijack); the status can no longer change. */
  headersSent = false;
  /** The response is completely written. */
  finished = false;
  statusCode = 0;
  private block: HeaderBlock | undefined;
  private extra: string[] | undefined;
  private closeCbs: (() => void)[] | undefined;
  private gone = false;
  private abort: AbortController | undefined;

  constructor(
    private readonly port: ResponsePort,
    readonly req: Request,
  ) {}

  /** Add (or replace) a header of whatever head is written next. */
  setHeader(name: string, value: string): void {
    if (this.headersSent) throw new Error(`setHeader(${name}) after the head was written`);
    checkHeader(name, value);
    const extra = (this.extra ??= []);
    const lower = name.toLowerCase();
    for (let i = 0; i < extra.length; i += 2) {
      if (extra[i]!.toLowerCase() === lower) {
        extra[i + 1] = value;
        return;
      }
    }
    extra.push(name, value);
  }

  /** Use pre-serialised headers (the router's middleware headers); they come before setHeader ones. */
  useHeaders(block: HeaderBlock): void {
    this.block = block;
  }

  /** `Content-Type: application/json` (no charset: the Go client compares it exactly), body + "\n" as Go's json.Encoder writes. */
  json(status: number, body: unknown): void {
    this.send(status, 'application/json', JSON.stringify(body) + '\n');
  }

  text(status: number, body: string | Buffer, contentType = 'text/plain; charset=utf-8'): void {
    this.send(status, contentType, body);
  }

  /** A response without a body: `Content-Length: 0`, or nothing for 204/304. */
  empty(status: number): void {
    this.send(status, undefined, '');
  }

  /**
   * A streamed body: the head goes out at once (clients wait for it before they start reading:
   * logs, events, wait), then each write becomes one chunk (RFC 7230 §4.1). End the Writable to
   * finish the response. Backpressure: write() returns false while the socket is full.
   */
  stream(status: number, headers?: Record<string, string>): Writable {
    if (headers) for (const k of Object.keys(headers)) this.setHeader(k, headers[k]!);
    const head = this.req.method === 'HEAD' || bodyless(status);
    const chunked = !head && this.req.httpVersionMinor >= 1;
    if (!chunked && !head) this.port.closeAfterResponse(); // HTTP/1.0: the body ends when we close
    this.writeHead(status, chunked ? 'Transfer-Encoding: chunked\r\n' : '');
    return new ChunkedBody(this, this.port.socket, chunked, head, this.port.streamBatchBytes);
  }

  /**
   * Take the connection over for a raw bidirectional stream (docker attach / exec start).
   * A request that asked to upgrade gets `101 UPGRADED` with `contentType`, `Connection: Upgrade`
   * and `Upgrade: tcp`; any other gets `200 OK` with `application/vnd.docker.raw-stream` and no
   * framing, as moby's container_routes.go and exec.go write them. Header lines set so far are
   * kept (moby copies the middleware headers into the hijacked head).
   */
  hijack(contentType: string): Hijacked {
    if (this.headersSent) throw new Error('hijack after the head was written');
    checkHeader('Content-Type', contentType);
    const start = this.req.upgrade
      ? `HTTP/1.1 101 UPGRADED\r\nContent-Type: ${contentType}\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n`
      : 'HTTP/1.1 200 OK\r\nContent-Type: application/vnd.docker.raw-stream\r\n';
    this.statusCode = this.req.upgrade ? 101 : 200;
    this.headersSent = true;
    return this.port.hijack(this, start + this.headerLines() + '\r\n');
  }

  /**
   * `cb` runs once when the client goes away before the response is finished: the socket closed,
   * or (for a request that did not ask to upgrade) the client half-closed, which Go's net/http
   * also treats as a cancelled request. A hijacked stream has its own `onClose`.
   */
  onClose(cb: () => void): void {
    if (this.gone) {
      process.nextTick(cb);
      return;
    }
    (this.closeCbs ??= []).push(cb);
  }

  /**
   * Aborted when the client goes away before the response is finished (the same moments as
   * {@link onClose}): Go's `r.Context()`, which net/http cancels when the connection closes. Never
   * aborted once the response is finished, so work a handler leaves running afterwards is not cut.
   */
  get signal(): AbortSignal {
    if (!this.abort) {
      this.abort = new AbortController();
      // One listener per Kubernetes call in flight for this request (a prune runs many at once): not a leak.
      setMaxListeners(0, this.abort.signal);
      if (this.gone) this.abort.abort(new Error('the client went away'));
    }
    return this.abort.signal;
  }

  /** Have the connection close after this response (no keep-alive). */
  closeConnection(): void {
    this.port.closeAfterResponse();
  }

  /** @internal the client is gone: run the onClose callbacks once. */
  _clientGone(): void {
    if (this.gone) return;
    this.gone = true;
    this.abort?.abort(new Error('the client went away'));
    const cbs = this.closeCbs;
    this.closeCbs = undefined;
    if (cbs) for (const cb of cbs) cb();
  }

  /** @internal */
  get _isGone(): boolean {
    return this.gone;
  }

  /** @internal chunked body finished (or the connection died under it). */
  _finish(): void {
    if (this.finished) return;
    this.finished = true;
    this.port.responseDone(this);
  }

  private headerLines(): string {
    let s = this.block ? this.block.raw : '';
    const extra = this.extra;
    if (extra) for (let i = 0; i < extra.length; i += 2) s += extra[i] + ': ' + extra[i + 1] + '\r\n';
    return s;
  }

  private writeHead(status: number, framing: string): void {
    if (this.headersSent) throw new Error('the response head was already written');
    this.headersSent = true;
    this.statusCode = status;
    const head = `HTTP/1.1 ${status} ${STATUS_TEXT[status] ?? 'Unknown'}\r\n${this.headerLines()}${framing}${dateHeader()}${this.port.connectionHeader(this)}\r\n`;
    this.port.socket.write(head);
  }

  private send(status: number, contentType: string | undefined, body: string | Buffer): void {
    if (this.headersSent) throw new Error('the response head was already written');
    this.headersSent = true;
    this.statusCode = status;
    const noBody = bodyless(status);
    let framing = '';
    if (contentType !== undefined) framing += `Content-Type: ${contentType}\r\n`;
    const len = typeof body === 'string' ? Buffer.byteLength(body) : body.length;
    if (!noBody) framing += `Content-Length: ${len}\r\n`;
    const head = `HTTP/1.1 ${status} ${STATUS_TEXT[status] ?? 'Unknown'}\r\n${this.headerLines()}${framing}${dateHeader()}${this.port.connectionHeader(this)}\r\n`;
    const socket = this.port.socket;
    if (!socket.destroyed) {
      if (noBody || len === 0 || this.req.method === 'HEAD') socket.write(head);
      else if (typeof body === 'string') socket.write(head + body);
      else {
        socket.cork();
        socket.write(head);
        socket.write(body);
        socket.uncork();
      }
    }
    this._finish();
  }
}

const CRLF = Buffer.from('\r\n');
const LAST_CHUNK = Buffer.from('0\r\n\r\n');

/**
 * The body of {@link Response.stream}: each write is one chunk (size line, data, CRLF) written
 * corked so that it leaves in one writev without copying the data, together with the other
 * writes of the same event-loop turn. More than batchBytes buffered in the socket holds the
 * callback until 'drain' (that is the backpressure a pipe() upstream sees).
 */
class ChunkedBody extends Writable {
  private readonly onSocketClose = () => {
    // The client went away under the stream: fail pending writes (pipeline() sees ECONNRESET).
    if (!this.writableFinished)
      this.destroy(Object.assign(new Error('the client closed the connection'), { code: 'ECONNRESET' }));
  };

  constructor(
    private readonly res: Response,
    private readonly socket: Socket,
    private readonly chunked: boolean,
    private readonly discard: boolean,
    /** Above this many bytes buffered in the socket the write callback waits for 'drain'. */
    private readonly batchBytes: number,
  ) {
    super({ highWaterMark: 16 * 1024 });
    if (socket.destroyed) process.nextTick(this.onSocketClose);
    else socket.once('close', this.onSocketClose);
  }

  /** Hold the write callback until the socket drains: that is what pauses a pipe() upstream. */
  private after(ok: boolean, cb: (err?: Error | null) => void): void {
    if (ok) cb();
    else this.socket.once('drain', () => cb());
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    const s = this.socket;
    if (this.discard || chunk.length === 0) return cb();
    if (s.destroyed) return cb(Object.assign(new Error('the client closed the connection'), { code: 'ECONNRESET' }));
    this.batch();
    if (!this.chunked) s.write(chunk);
    else {
      s.write(chunk.length.toString(16) + '\r\n');
      s.write(chunk);
      s.write(CRLF);
    }
    this.after(s.writableLength < this.batchBytes, cb);
  }

  /**
   * Cork the socket until the end of this event-loop turn (setImmediate), so that the writes of
   * one turn leave in one writev. An upstream TLS socket hands over one 16 KiB record per 'data'
   * event, several per read; one syscall per record was the largest cost of a log stream
   * (bench/RESULTS.md, "Optimisations kept"). Bounded: above batchBytes buffered the write
   * callback waits for 'drain', which pauses the source as before.
   */
  private batch(): void {
    if (this.batching) return;
    this.batching = true;
    this.socket.cork();
    setImmediate(this.flush);
  }

  private batching = false;
  private readonly flush = (): void => {
    this.batching = false;
    this.socket.uncork();
  };

  override _writev(chunks: { chunk: Buffer }[], cb: (err?: Error | null) => void): void {
    const s = this.socket;
    if (this.discard) return cb();
    if (s.destroyed) return cb(Object.assign(new Error('the client closed the connection'), { code: 'ECONNRESET' }));
    let size = 0;
    for (const c of chunks) size += c.chunk.length;
    if (size === 0) return cb();
    this.batch();
    if (this.chunked) s.write(size.toString(16) + '\r\n');
    for (const c of chunks) if (c.chunk.length) s.write(c.chunk);
    if (this.chunked) s.write(CRLF);
    this.after(s.writableLength < this.batchBytes, cb);
  }

  override _final(cb: (err?: Error | null) => void): void {
    const s = this.socket;
    s.removeListener('close', this.onSocketClose);
    if (this.chunked && !this.discard && !s.destroyed) s.write(LAST_CHUNK);
    cb();
    this.res._finish();
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    this.socket.removeListener('close', this.onSocketClose);
    // A client that goes away is routine: an 'error' only for whoever listens (pipeline() does),
    // never an uncaught one that would take the server down.
    err = err && this.listenerCount('error') > 0 ? err : null;
    if (!this.writableFinished && !this.res.finished) {
      // A stream destroyed half-way cannot end its chunked body: the connection cannot be reused.
      if (!this.socket.destroyed) this.socket.destroy();
    }
    cb(err);
  }
}
