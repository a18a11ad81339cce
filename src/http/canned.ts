/**
 * @module http/canned
 * Responses written by the connection itself, before any handler runs (or instead of one): the
 * request was malformed (400), its head too big (431) or too slow (408), its framing unsupported
 * (501/505), or the server is full (503). As Go's net/http does, they are plain text with
 * `Connection: close`, and the connection closes after them.
 *
 * Built once and kept, one per status: the statuses are the closed set {@link CannedStatus}, so the
 * cache cannot grow past it whatever the reasons are (some carry request bytes: "invalid character
 * in header X"). A flood of one answer (503s past --max-connections, 408s of slow heads) reuses the
 * kept bytes; a reason different from the kept one is built (and kept) in its place.
 */
import { STATUS_TEXT } from './response.js';

/** Every status the connection answers by itself. */
export type CannedStatus = 400 | 408 | 431 | 501 | 503 | 505;

const cache = new Map<CannedStatus, { reason: string; buf: Buffer }>();

export function cannedResponse(status: CannedStatus, reason = ''): Buffer {
  const kept = cache.get(status);
  if (kept && kept.reason === reason) return kept.buf;
  const text = STATUS_TEXT[status] ?? 'Error';
  const body = `${status} ${text}${reason ? `: ${reason}` : ''}`;
  const buf = Buffer.from(
    `HTTP/1.1 ${status} ${text}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    'latin1',
  );
  cache.set(status, { reason, buf });
  return buf;
}

/** Responses kept now (for tests: at most one per {@link CannedStatus}). */
export function cannedCacheSize(): number {
  return cache.size;
}
