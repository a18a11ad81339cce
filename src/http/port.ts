/**
 * @module http/port
 * What a {@link Request} and {@link Response} need from the connection that carries them. The
 * connection implements it; keeping it an interface keeps request.ts and response.ts free of the
 * connection's state machine (and testable on their own).
 */
import type { Socket } from 'node:net';
import type { Logger } from '../log.js';
import type { Hijacked } from './hijack.js';
import type { Response } from './response.js';
import type { Request } from './request.js';

export interface ConnectionPort {
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
  /** The `Connection:` header line for this response's head ('' when none is needed). */
  connectionHeader(res: Response): string;
  /** The response is completely written (head and body). */
  responseDone(res: Response): void;
  /** Take the socket over for a raw stream; `head` is written first, in its own write. */
  hijack(res: Response, head: string): Hijacked;
}
