/**
 * @module http/parser
 * An HTTP/1.1 request parser on top of http-parser-js, hardened for a server:
 * - it stops right after each complete message, so pipelined requests are handled one at a time
 *   (the caller keeps the unparsed rest);
 * - it enforces the head-size limit itself, exactly (http-parser-js only checks a static,
 *   process-wide `HTTPParser.maxHeaderSize`, and only between `execute()` calls);
 * - it rejects what RFC 7230 says a server must reject (bad header lines, obs-fold, bad
 *   Content-Length, unknown Transfer-Encoding, bad chunk sizes) instead of guessing.
 * It knows nothing of sockets; `test/http/parser.test.ts` feeds it raw bytes.
 */
import { HTTPParser } from 'http-parser-js';

/** A parse failure with the status the server answers before closing (RFC 7230 §3.3.3, Go net/http). */
export class HttpParseError extends Error {
  constructor(
    readonly status: 400 | 431 | 501 | 505,
    message: string,
  ) {
    super(message);
    this.name = 'HttpParseError';
  }
}

export interface RequestHead {
  method: string;
  /** The request-target as sent (origin-form `/path?query`, or absolute-form). */
  url: string;
  versionMajor: number;
  versionMinor: number;
  /** Raw header pairs in order: [name0, value0, name1, value1, ...]. */
  rawHeaders: string[];
  /** The request asked to switch protocols (`Connection: Upgrade` + `Upgrade:`). */
  upgrade: boolean;
  /** The connection may carry another request after this one (RFC 7230 §6.3). */
  keepAlive: boolean;
  chunked: boolean;
  /** -1 when absent. */
  contentLength: number;
}

export interface ParserSink {
  onHead(head: RequestHead): void;
  onBody(chunk: Buffer): void;
  onComplete(): void;
}

// RFC 7230 §3.2: field-name = token; field-value has no CTLs but HTAB (obs-text allowed).
const HEADER_LINE = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+):[ \t]*(.*?)[ \t]*$/;
// eslint-disable-next-line no-control-regex
/** ASCII control bytes (Go net/url's stringContainsCTLByte: b < ' ' || b == 0x7f). */
const CTL = /[\x00-\x1f\x7f]/;
const BAD_VALUE = /[\x00-\x08\x0a-\x1f\x7f]/;
// RFC 7230 §4.1: chunk-size [ chunk-ext ]
const CHUNK_SIZE = /^([0-9a-fA-F]{1,12})[ \t]*(?:;.*)?$/;
const DIGITS = /^\d{1,15}$/;

/** What http-parser-js hands kOnHeadersComplete (its HTTPParser.prototype.HEADER / parseHeaders). */
interface HeadInfo {
  versionMajor: number;
  versionMinor: number;
  headers: string[];
  method: number;
  url: string;
  upgrade: boolean;
  shouldKeepAlive: boolean;
}

type Internal = InstanceType<typeof HTTPParser> & {
  offset: number;
  end: number;
  line: string;
  body_bytes: number | null;
  state: string;
  [k: string]: unknown;
};

function parseHeaderStrict(this: Internal, line: string, headers: string[]): void {
  const m = HEADER_LINE.exec(line);
  // A line starting with SP/HTAB is obs-fold: RFC 7230 §3.2.4 lets a server reject it with 400.
  if (!m)
    throw new HttpParseError(
      400,
      line[0] === ' ' || line[0] === '\t' ? 'obsolete line folding in header' : 'malformed header line',
    );
  if (BAD_VALUE.test(m[2]!)) throw new HttpParseError(400, `invalid character in header ${m[1]}`);
  headers.push(m[1]!, m[2]!);
}

function chunkHeadStrict(this: Internal): void {
  const line = (this as unknown as { consumeLine(): string | undefined }).consumeLine();
  if (line === undefined) return;
  const m = CHUNK_SIZE.exec(line);
  if (!m) throw new HttpParseError(400, 'invalid chunk size');
  this.body_bytes = parseInt(m[1]!, 16);
  this.state = this.body_bytes === 0 ? 'BODY_CHUNKTRAILERS' : 'BODY_CHUNK';
}

export class RequestParser {
  private readonly p: Internal;
  /** Bytes of the current head fed so far (only counted while the head is incomplete). */
  private headBytes = 0;
  private inHeadState = true;
  private stopAt = -1;

  constructor(
    private readonly sink: ParserSink,
    private readonly maxHeaderBytes: number,
  ) {
    const p = new HTTPParser(HTTPParser.REQUEST) as Internal;
    // The library's own limit is checked late and reset from a static on every message
    // (reinitialize = the constructor); we count head bytes ourselves, exactly.
    p.maxHeaderSize = Number.POSITIVE_INFINITY;
    p.reinitialize = function (this: Internal, type: string) {
      (this as unknown as { initialize(t: string): void }).initialize(type);
    } as never;
    p.parseHeader = parseHeaderStrict as never;
    (p as unknown as Record<string, unknown>).BODY_CHUNKHEAD = chunkHeadStrict;
    p[HTTPParser.kOnHeadersComplete] = (info: HeadInfo) => {
      this.inHeadState = false;
      this.sink.onHead(this.head(info));
    };
    p[HTTPParser.kOnBody] = (chunk: Buffer) => {
      if (chunk.length) this.sink.onBody(chunk);
    };
    p[HTTPParser.kOnMessageComplete] = () => {
      // Stop after this message: remember where it ended, and make the library's loop exit.
      this.stopAt = p.offset;
      p.offset = p.end;
      this.headBytes = 0;
      this.inHeadState = true;
      this.sink.onComplete();
    };
    this.p = p;
  }

  /** True while the parser waits for (the rest of) a request head. */
  get inHead(): boolean {
    return this.inHeadState;
  }

  /** Bytes of an incomplete head seen so far (0 between requests). */
  get pendingHeadBytes(): number {
    return this.inHeadState ? this.headBytes : 0;
  }

  /**
   * Parse `buf` from `start`. Returns the offset just past the end of a completed message (the
   * caller keeps the rest for the next request), or `buf.length` when every byte was consumed.
   * Throws {@link HttpParseError}.
   */
  execute(buf: Buffer, start = 0): number {
    const end = buf.length;
    let off = start;
    while (off < end) {
      let len = end - off;
      const limited = this.inHeadState;
      if (limited && len > this.maxHeaderBytes - this.headBytes) len = this.maxHeaderBytes - this.headBytes;
      let r: number | Error;
      try {
        r = this.p.execute(buf, off, len);
      } catch (err) {
        throw this.wrap(err);
      }
      if (r instanceof Error) throw this.wrap(r);
      if (this.stopAt >= 0) {
        const at = this.stopAt;
        this.stopAt = -1;
        return at;
      }
      if (limited && this.inHeadState) {
        // A whole slice went into an unfinished head.
        this.headBytes += len;
        if (this.headBytes >= this.maxHeaderBytes)
          throw new HttpParseError(431, `request head larger than ${this.maxHeaderBytes} bytes`);
      }
      off += len;
    }
    return end;
  }

  /** Forget any partial message (after an error the connection closes; this is for reuse in tests). */
  reset(): void {
    (this.p as unknown as { initialize(t: string): void }).initialize(HTTPParser.REQUEST);
    this.headBytes = 0;
    this.inHeadState = true;
    this.stopAt = -1;
  }

  private wrap(err: unknown): HttpParseError {
    if (err instanceof HttpParseError) return err;
    const code = (err as { code?: string }).code;
    return new HttpParseError(
      400,
      code ? `malformed request (${code})` : `malformed request: ${(err as Error).message}`,
    );
  }

  private head(info: HeadInfo): RequestHead {
    if (info.versionMajor !== 1) throw new HttpParseError(505, 'unsupported protocol version');
    const raw = info.headers;
    let contentLength = -1;
    let chunked = false;
    for (let i = 0; i < raw.length; i += 2) {
      const name = raw[i]!;
      // Only two headers change framing; compare lengths first to keep this loop cheap.
      if (name.length === 14 && name.toLowerCase() === 'content-length') {
        const v = raw[i + 1]!;
        if (!DIGITS.test(v)) throw new HttpParseError(400, 'invalid Content-Length');
        // RFC 7230 §3.3.2 and Go net/http (transfer.go fixLength): repeats must agree.
        if (contentLength >= 0 && contentLength !== Number(v))
          throw new HttpParseError(400, 'conflicting Content-Length values');
        contentLength = Number(v);
      } else if (name.length === 17 && name.toLowerCase() === 'transfer-encoding') {
        // Go and RFC 7230 §3.3.1: only "chunked" is understood; anything else is 501.
        if (raw[i + 1]!.trim().toLowerCase() !== 'chunked')
          throw new HttpParseError(501, 'unsupported transfer encoding');
        chunked = true;
      }
    }
    // RFC 7230 §3.3.3 rule 3 lets a server reject a message with both headers: it is the
    // request-smuggling shape (a proxy in front may frame it by the other header). Nothing a
    // docker client sends has both, so refuse it rather than guess.
    if (chunked && contentLength >= 0) throw new HttpParseError(400, 'Content-Length and Transfer-Encoding together');
    if (chunked && info.upgrade) chunked = false; // http-parser-js reads an upgrade request's body by Content-Length only
    const keepAlive = info.shouldKeepAlive;
    const url = info.url;
    if (url[0] !== '/' && !/^https?:\/\/[^/?#]*/i.test(url) && !(url === '*'))
      throw new HttpParseError(400, 'invalid request target');
    // http-parser-js lets control bytes through in the target (a NUL reached docker cp's path in
    // the bench fuzz); Go's net/url refuses them (stringContainsCTLByte), so dockerd answers 400.
    if (CTL.test(url)) throw new HttpParseError(400, 'invalid control character in request target');
    return {
      method: HTTPParser.methods[info.method] as string,
      url,
      versionMajor: info.versionMajor,
      versionMinor: info.versionMinor,
      rawHeaders: raw,
      upgrade: info.upgrade,
      keepAlive,
      chunked,
      contentLength,
    };
  }
}
