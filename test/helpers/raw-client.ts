/**
 * @module test/helpers/raw-client
 * A raw socket client for HTTP tests: write exact bytes (split, coalesced, half-closed), collect
 * everything the server sends, and parse it with an independent little HTTP/1.1 response parser
 * (not the server's own), so tests check the wire, not our assumptions.
 */
import net from 'node:net';

export type Target = { path: string } | { port: number; host?: string };

export interface ParsedResponse {
  status: number;
  reason: string;
  /** lower-case names; repeated headers joined with ", " */
  headers: Record<string, string>;
  /** header names in wire order, as sent */
  names: string[];
  body: Buffer;
  /** the exact bytes of this response */
  raw: Buffer;
}

export class RawClient {
  data: Buffer = Buffer.alloc(0);
  /** the server sent its FIN */
  ended = false;
  closed = false;
  error: Error | undefined;
  private waiters: (() => void)[] = [];

  private constructor(readonly socket: net.Socket) {
    socket.on('data', (d: Buffer) => {
      this.data = Buffer.concat([this.data, d]);
      this.wake();
    });
    socket.on('end', () => {
      this.ended = true;
      this.wake();
    });
    socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
    socket.on('error', (e) => {
      this.error = e;
      this.wake();
    });
  }

  static connect(target: Target): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const s =
        'path' in target
          ? net.connect({ path: target.path, allowHalfOpen: true })
          : net.connect({ port: target.port, host: target.host ?? '127.0.0.1', allowHalfOpen: true });
      s.once('connect', () => resolve(new RawClient(s)));
      s.once('error', reject);
    });
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  get text(): string {
    return this.data.toString('latin1');
  }

  write(b: string | Buffer): Promise<void> {
    return new Promise((resolve, reject) => this.socket.write(b, (err) => (err ? reject(err) : resolve())));
  }

  /** Our FIN (half-close); we keep reading. */
  end(): void {
    this.socket.end();
  }

  destroy(): void {
    this.socket.destroy();
  }

  /** Wait until `pred(data)` holds; rejects after `timeoutMs` with what was received. */
  waitFor(pred: (data: Buffer, c: RawClient) => boolean, timeoutMs = 5000, what = 'condition'): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(
            new Error(
              `timed out waiting for ${what}; received ${JSON.stringify(this.text.slice(0, 2000))} ended=${this.ended} closed=${this.closed}`,
            ),
          ),
        timeoutMs,
      );
      const check = () => {
        if (pred(this.data, this)) {
          clearTimeout(timer);
          resolve(this.data);
        } else if (this.closed && !pred(this.data, this)) {
          clearTimeout(timer);
          reject(
            new Error(
              `connection closed while waiting for ${what}; received ${JSON.stringify(this.text.slice(0, 2000))}`,
            ),
          );
        } else this.waiters.push(check);
      };
      check();
    });
  }

  waitForText(s: string, timeoutMs = 5000): Promise<Buffer> {
    return this.waitFor((d) => d.includes(s), timeoutMs, JSON.stringify(s));
  }

  /** Wait for `n` complete responses. */
  async waitResponses(n: number, timeoutMs = 5000, opts: ParseOptions = {}): Promise<ParsedResponse[]> {
    await this.waitFor(
      (d, c) => parseResponses(d, { ...opts, ended: c.ended }).responses.length >= n,
      timeoutMs,
      `${n} responses`,
    );
    return parseResponses(this.data, { ...opts, ended: this.ended }).responses;
  }

  /** Wait for the server's FIN. */
  waitEnd(timeoutMs = 5000): Promise<Buffer> {
    return this.waitFor((_d, c) => c.ended || c.closed, timeoutMs, 'the server to close');
  }

  waitClose(timeoutMs = 5000): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      if (this.closed) return resolve(this.data);
      const timer = setTimeout(
        () => reject(new Error(`timed out waiting for close; received ${JSON.stringify(this.text.slice(0, 500))}`)),
        timeoutMs,
      );
      this.socket.once('close', () => {
        clearTimeout(timer);
        resolve(this.data);
      });
    });
  }
}

export interface ParseOptions {
  /** indexes (0-based) of responses to HEAD requests (no body whatever the headers say) */
  head?: number[];
  /** the server closed: a close-delimited body is complete */
  ended?: boolean;
  /** stop after this many responses */
  limit?: number;
}

/** Parse consecutive HTTP/1.1 responses; stops at an incomplete one or after a 101 (what follows is a raw stream). */
export function parseResponses(buf: Buffer, opts: ParseOptions = {}): { responses: ParsedResponse[]; rest: Buffer } {
  const out: ParsedResponse[] = [];
  let off = 0;
  while (off < buf.length && out.length < (opts.limit ?? Infinity)) {
    const headEnd = buf.indexOf('\r\n\r\n', off);
    if (headEnd < 0) break;
    const lines = buf.subarray(off, headEnd).toString('latin1').split('\r\n');
    const m = /^HTTP\/1\.[01] (\d{3}) ?(.*)$/.exec(lines[0]!);
    if (!m) throw new Error(`bad status line ${JSON.stringify(lines[0])}`);
    const status = Number(m[1]);
    const headers: Record<string, string> = {};
    const names: string[] = [];
    for (const line of lines.slice(1)) {
      const i = line.indexOf(':');
      if (i <= 0) throw new Error(`bad header line ${JSON.stringify(line)}`);
      const name = line.slice(0, i);
      const k = name.toLowerCase();
      const v = line.slice(i + 1).trim();
      names.push(name);
      headers[k] = headers[k] === undefined ? v : `${headers[k]}, ${v}`;
    }
    let p = headEnd + 4;
    let body: Buffer = Buffer.alloc(0);
    const isHead = opts.head?.includes(out.length);
    if (status === 101) {
      out.push({ status, reason: m[2]!, headers, names, body, raw: buf.subarray(off, p) });
      off = p;
      break;
    }
    if (isHead || status === 204 || status === 304 || (status >= 100 && status < 200)) {
      // no body
    } else if (headers['transfer-encoding']?.toLowerCase() === 'chunked') {
      const parts: Buffer[] = [];
      let complete = false;
      for (;;) {
        const le = buf.indexOf('\r\n', p);
        if (le < 0) break;
        const size = parseInt(buf.subarray(p, le).toString('latin1'), 16);
        if (Number.isNaN(size)) throw new Error('bad chunk size in response');
        if (size === 0) {
          const te = buf.indexOf('\r\n\r\n', le);
          if (te < 0) break;
          p = te + 4;
          complete = true;
          break;
        }
        if (le + 2 + size + 2 > buf.length) break;
        parts.push(buf.subarray(le + 2, le + 2 + size));
        p = le + 2 + size + 2;
      }
      if (!complete) break;
      body = Buffer.concat(parts);
    } else if (headers['content-length'] !== undefined) {
      const n = Number(headers['content-length']);
      if (p + n > buf.length) break;
      body = buf.subarray(p, p + n);
      p += n;
    } else {
      if (!opts.ended) break; // close-delimited
      body = buf.subarray(p);
      p = buf.length;
    }
    out.push({ status, reason: m[2]!, headers, names, body, raw: buf.subarray(off, p) });
    off = p;
    if (status >= 100 && status < 200 && status !== 101) out.pop(); // 100 Continue is informational
  }
  return { responses: out, rest: buf.subarray(off) };
}

/** Send `data` on a fresh connection, half-close, and return what came back once the server closes. */
export async function rawExchange(
  target: Target,
  data: string | Buffer,
  opts: { end?: boolean; timeoutMs?: number } = {},
): Promise<RawClient> {
  const c = await RawClient.connect(target);
  await c.write(data);
  if (opts.end !== false) c.end();
  await c.waitEnd(opts.timeoutMs ?? 5000);
  return c;
}

/** One request on a fresh connection (Connection: close), parsed with the independent parser. */
export async function httpRequest(
  target: Target,
  method: string,
  path: string,
  opts: { headers?: Record<string, string>; body?: string } = {},
): Promise<ParsedResponse> {
  let head = `${method} ${path} HTTP/1.1\r\nHost: docker\r\nConnection: close\r\n`;
  for (const [k, v] of Object.entries(opts.headers ?? {})) head += `${k}: ${v}\r\n`;
  if (opts.body !== undefined) head += `Content-Length: ${Buffer.byteLength(opts.body)}\r\n`;
  const c = await rawExchange(target, head + '\r\n' + (opts.body ?? ''), { end: false });
  const [r] = parseResponses(c.data, { ended: true, head: method === 'HEAD' ? [0] : [] }).responses;
  if (!r) throw new Error(`no response to ${method} ${path}: ${JSON.stringify(c.text)}`);
  return r;
}
