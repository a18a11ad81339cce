/**
 * @module http/port
 * What a {@link Request} and {@link Response} need from the connection that carries them. The
 * connection implements it; keeping it an interface keeps request.ts and response.ts free of the
 * connection's state machine (and testable on their own). The request and response are passed
 * back as `object` (the caller's own Request/Response), so that this file imports neither of them:
 * request.ts and response.ts import the port, not the reverse.
 */
import type { Socket } from 'node:net';
import type { Logger } from '../log.js';
import type { Hijacked } from './hijack.js';

export interface ConnectionPort {
  readonly socket: Socket;
  readonly log: Logger;
  /** Whether `level` is enabled, without creating any child logger. */
  logs(level: 'trace' | 'debug' | 'info' | 'warn' | 'error'): boolean;
  readonly maxBodyBytes: number;
  /** The body's reader wants more bytes: lift body backpressure (and send `100 Continue` once). */
  bodyWanted(req: object): void;
  /** The connection must not be reused after the current response (e.g. an unread oversized body). */
  closeAfterResponse(): void;
  /** The `Connection:` header line for this response's head ('' when none is needed). */
  connectionHeader(res: object): string;
  /** The response is completely written (head and body). */
  responseDone(res: object): void;
  /** Take the socket over for a raw stream; `head` is written first, in its own write. */
  hijack(res: object, head: string): Hijacked;
}
