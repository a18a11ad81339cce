/**
 * @module http/canned
 * Responses written by the connection itself, before any handler runs (or instead of one): the
 * request was malformed (400), its head too big (431) or too slow (408), its framing unsupported
 * (501/505), or the server is full (503). As Go's net/http does, they are plain text with
 * `Connection: close`, and the connection closes after them. Built once per status and reason.
 */
import { STATUS_TEXT } from './response.js';

const cache = new Map<string, Buffer>();

export function cannedResponse(status: number, reason?: string): Buffer {
  const key = `${status} ${reason ?? ''}`;
  let buf = cache.get(key);
  if (!buf) {
    const text = STATUS_TEXT[status] ?? 'Error';
    const body = `${status} ${text}${reason ? `: ${reason}` : ''}`;
    buf = Buffer.from(
      `HTTP/1.1 ${status} ${text}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
      'latin1',
    );
    // Reasons come from a small fixed set of parser messages; bound the cache anyway.
    if (cache.size < 256) cache.set(key, buf);
  }
  return buf;
}
