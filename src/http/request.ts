/**
 * @module http/request
 * One parsed request. The body is streamed: bytes go from the parser into a Readable as they
 * arrive, with backpressure (a full Readable pauses the socket, `_read` resumes it). `json()`
 * buffers it, bounded by `maxBodyBytes`. Parsing the query and creating the child logger and the
 * body stream happen only when a handler asks for them.
 */
import { Readable } from 'node:stream';
import type { Socket } from 'node:net';
import { EngineError } from '../errors.js';
import type { Logger } from '../log.js';
import type { RequestHead } from './parser.js';

/**
 * What a {@link Request} needs from the connection that carries it (the connection implements it,
 * see port.ts). Declared here, beside its user, so that request.ts imports nothing of the
 * connection or of response.ts.
 */
export interface RequestPort {
  readonly socket: Socket;
  readonly log: Logger;
  /** Whether `level` is enabled, without creating any child logger. */
  logs(level: 'trace' | 'debug' | 'info' | 'warn' | 'error'): boolean;
  readonly maxBodyBytes: number;
  /** Aborted when the server starts a graceful shutdown (see Request.shutdown). */
  readonly shutdownSignal: AbortSignal;
  /** The body's reader wants more bytes: lift body backpressure (and send `100 Continue` once). */
  bodyWanted(req: Request): void;
  /** The connection must not be reused after the current response (e.g. an unread oversized body). */
  closeAfterResponse(): void;
}

let lastId = 0;
const EMPTY: Record<string, string> = Object.freeze({}) as Record<string, string>;

class BodyStream extends Readable {
  constructor(private readonly owner: Request) {
    super();
  }
  override _read(): void {
    this.owner._wanted();
  }
  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    // As Node's IncomingMessage: an abort is an 'error' only for someone who listens for it.
    cb(err && this.listenerCount('error') > 0 ? err : null);
  }
}

export class Request {
  /** Per-process request id, logged as `rid`. */
  readonly id: string;
  readonly method: string;
  /** The request-target as sent. */
  readonly url: string;
  /** The path part of `url`, still percent-encoded (the router decodes it). */
  readonly path: string;
  /** The query string without `?` ('' when none). */
  readonly rawQuery: string;
  /** Header names lower-cased; repeated headers joined with ", " (RFC 7230 §3.2.2). */
  readonly headers: Record<string, string>;
  readonly rawHeaders: readonly string[];
  /** The request carried `Connection: Upgrade` + `Upgrade:` (docker's hijack asks for `Upgrade: tcp`). */
  readonly upgrade: boolean;
  readonly httpVersionMinor: number;
  /** The client allows another request on this connection after this one. */
  readonly keepAlive: boolean;
  /** Declared Content-Length, or -1 (absent or chunked). */
  readonly contentLength: number;
  readonly chunked: boolean;
  /** Route parameters, set by the router. */
  params: Record<string, string> = EMPTY;
  /** The API version this request speaks (its `/v1.NN/` prefix or the default), set by the router. */
  apiVersion = '';

  /** @internal the message (body included) has been fully parsed. */
  _complete = false;
  private _bodyAsked = false;
  private _query: URLSearchParams | undefined;
  private _log: Logger | undefined;
  private _body: BodyStream | undefined;
  private _aborted: Error | undefined;

  constructor(
    private readonly port: RequestPort,
    head: RequestHead,
  ) {
    this.id = (++lastId).toString(36);
    this.method = head.method;
    this.url = head.url;
    let target = head.url;
    if (target[0] !== '/') {
      // absolute-form (RFC 7230 §5.3.2): keep the path of the URL
      const slash = target.indexOf('/', target.indexOf('//') + 2);
      target = slash < 0 ? '/' : target.slice(slash);
    }
    const q = target.indexOf('?');
    this.path = q < 0 ? target : target.slice(0, q);
    this.rawQuery = q < 0 ? '' : target.slice(q + 1);
    this.rawHeaders = head.rawHeaders;
    const headers: Record<string, string> = {};
    const raw = head.rawHeaders;
    for (let i = 0; i < raw.length; i += 2) {
      const k = raw[i]!.toLowerCase();
      const prev = headers[k];
      headers[k] = prev === undefined ? raw[i + 1]! : `${prev}, ${raw[i + 1]}`;
    }
    this.headers = headers;
    this.upgrade = head.upgrade;
    this.httpVersionMinor = head.versionMinor;
    this.keepAlive = head.keepAlive;
    this.contentLength = head.contentLength;
    this.chunked = head.chunked;
    if (!this.hasBody) this._complete = true;
  }

  /** The request has a body to read (Content-Length > 0 or chunked). */
  get hasBody(): boolean {
    return this.contentLength > 0 || this.chunked;
  }

  /** The handler has asked for body bytes and the message has not ended: the client is still sending it. */
  get receivingBody(): boolean {
    return this._bodyAsked && !this._complete;
  }

  get query(): URLSearchParams {
    return (this._query ??= new URLSearchParams(this.rawQuery));
  }

  /** A child logger with `rid` (created on first use: check {@link logs} first on hot paths). */
  get log(): Logger {
    return (this._log ??= this.port.log.child({ rid: this.id }));
  }

  /** Whether `level` is logged at all, without creating the child logger. */
  logs(level: 'trace' | 'debug' | 'info' | 'warn' | 'error'): boolean {
    return this.port.logs(level);
  }

  /**
   * Aborted when kuber-api starts a graceful shutdown. Long requests that only wait (events,
   * wait, followed logs) end their response cleanly on it at once; hijacked streams and
   * uploads get the grace period instead.
   */
  get shutdown(): AbortSignal {
    return this.port.shutdownSignal;
  }

  get socket(): Socket {
    return this.port.socket;
  }

  /** The body as it arrives; ends at the end of the message. Empty (already ended) when there is none. */
  get body(): Readable {
    if (!this._body) {
      this._body = new BodyStream(this);
      if (this._aborted) this._body.destroy(this._aborted);
      else if (this._complete) this._body.push(null);
    }
    return this._body;
  }

  /**
   * Buffer the body and parse it as JSON. `undefined` when the body is empty. Above `limit` bytes:
   * 413 (`too-large`), and the connection closes after the response (the rest is never read).
   * Bad JSON: 400 "invalid JSON: ..." as moby's httputils.ReadJSON says. A body that is not
   * declared `application/json` is a 400 before a byte is read (see {@link checkJsonContentType}).
   */
  async json<T = unknown>(limit = this.port.maxBodyBytes): Promise<T | undefined> {
    checkJsonContentType(this.headers['content-type'], this.hasBody);
    if (this.contentLength > limit) throw this.tooLarge(limit);
    if (!this.hasBody) return undefined;
    const chunks: Buffer[] = [];
    let size = 0;
    try {
      for await (const chunk of this.body as AsyncIterable<Buffer>) {
        size += chunk.length;
        if (size > limit) throw this.tooLarge(limit);
        chunks.push(chunk);
      }
    } catch (err) {
      // A body cut short (the client's FIN, a malformed chunk) is the client's fault: 400, as
      // moby's ReadJSON answers io.ErrUnexpectedEOF.
      if (err instanceof EngineError) throw err;
      throw new EngineError('invalid', `invalid JSON: ${(err as Error).message}`, { cause: err });
    }
    if (size === 0) return undefined;
    const text = (chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size)).toString('utf8');
    if (text.trim() === '') return undefined;
    let value: T;
    try {
      value = JSON.parse(text) as T;
    } catch (err) {
      throw new EngineError('invalid', `invalid JSON: ${(err as Error).message}`);
    }
    if (text.includes('__proto__') && hasProtoKey(value))
      throw new EngineError('invalid', 'invalid JSON: the object key "__proto__" is not accepted');
    return value;
  }

  private tooLarge(limit: number): EngineError {
    this.port.closeAfterResponse();
    return new EngineError('too-large', `request body is larger than the limit of ${limit} bytes`);
  }

  /** @internal from the parser; false asks the connection to pause the socket. */
  _push(chunk: Buffer): boolean {
    const body = this.body;
    if (body.destroyed) return true; // the reader gave up (e.g. too large): drop
    return body.push(chunk);
  }

  /** @internal the message ended. */
  _end(): void {
    this._complete = true;
    if (this._body && !this._body.destroyed) this._body.push(null);
  }

  /** @internal the client went away (or the body was malformed, or the response came first) before the message ended. */
  _abort(err: Error): void {
    if (this._complete) return;
    this._complete = true;
    this._aborted = err;
    if (this._body && !this._body.destroyed) this._body.destroy(err);
  }

  /** @internal body bytes parsed but not read yet (a hijack hands them to the raw input); ends the body. */
  _takeBuffered(): Buffer[] {
    const out: Buffer[] = [];
    const body = this._body;
    if (body && !body.destroyed) {
      for (let c = body.read() as Buffer | null; c !== null; c = body.read() as Buffer | null) out.push(c);
      if (!this._complete) body.push(null);
    }
    this._complete = true;
    return out;
  }

  /** @internal the body's reader wants more. */
  _wanted(): void {
    this._bodyAsked = true;
    this.port.bodyWanted(this);
  }
}

// RFC 7231 §3.1.1.1 media-type = type "/" subtype *( OWS ";" OWS parameter ), token characters.
const MEDIA_TYPE = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+)(?:\/([!#$%&'*+.^_`|~0-9A-Za-z-]*))?(.*)$/s;

/**
 * moby api/server/httputils/httputils.go ReadJSON -> checkContentType(r, "application/json"): a
 * body needs a Content-Type whose media type (Go's mime.ParseMediaType, case-insensitive) is
 * exactly application/json; both failures are 400s with moby's wording. One leniency: a request
 * without a body is never refused (moby refuses a wrong Content-Type even then; an empty body
 * carries nothing). This keeps a browser's `text/plain` "simple request" (sent without a CORS
 * preflight) from creating containers.
 */
export function checkJsonContentType(ct: string | undefined, hasBody: boolean): void {
  if (!hasBody) return;
  const v = (ct ?? '').trim();
  if (v === '') throw new EngineError('invalid', `malformed Content-Type header (${ct ?? ''}): mime: no media type`);
  const m = MEDIA_TYPE.exec(v);
  let why: string | undefined;
  if (!m) why = 'mime: no media type';
  else if (m[2] === undefined) why = 'mime: expected slash after first token';
  else if (m[2] === '') why = 'mime: expected token after slash';
  else if (m[3]!.trim() !== '' && !m[3]!.trim().startsWith(';')) why = 'mime: unexpected content after media subtype';
  if (why) throw new EngineError('invalid', `malformed Content-Type header (${ct}): ${why}`);
  if (`${m![1]}/${m![2]}`.toLowerCase() !== 'application/json') {
    throw new EngineError('invalid', `unsupported Content-Type header (${ct}): must be 'application/json'`);
  }
}

/**
 * JSON.parse keeps a `"__proto__"` key as an own property, but any later copy by assignment
 * (`Object.assign`, `out[k] = v`) would make its value the prototype of the copy. No Docker
 * client sends such a key; refusing it here protects every handler's copies at once.
 */
function hasProtoKey(v: unknown, depth = 0): boolean {
  if (v === null || typeof v !== 'object' || depth > 256) return false;
  if (Array.isArray(v)) return v.some((x) => hasProtoKey(x, depth + 1));
  if (Object.hasOwn(v, '__proto__')) return true;
  return Object.values(v).some((x) => hasProtoKey(x, depth + 1));
}
