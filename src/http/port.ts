/**
 * @module http/port
 * What a {@link Request} and {@link Response} need from the connection that carries them: the
 * connection implements both. Each half is declared beside its user (request.ts, response.ts),
 * so neither imports the connection's state machine (and each is testable on its own), and the
 * imports run one way: connection -> port -> request/response.
 */
import type { RequestPort } from './request.js';
import type { ResponsePort } from './response.js';

export type ConnectionPort = RequestPort & ResponsePort;
