/**
 * @module http
 * kuber-api's HTTP/1.1 front door: a `node:net` server with http-parser-js, keep-alive,
 * pipelining, streamed bodies, limits, and docker's hijacked raw streams. Nothing here knows
 * about Docker or Kubernetes (see src/ARCHITECTURE.md for the contract).
 */
export { HttpServer, createServer, type ServerOptions, type Bound } from './server.js';
export type { Handler, ConnectionLimits } from './connection.js';
export { Request } from './request.js';
export { Response, headerBlock, type HeaderBlock, STATUS_TEXT } from './response.js';
export type { Hijacked } from './hijack.js';
export {
  parseHost,
  formatHost,
  isLoopbackHost,
  exposedPlaintext,
  DEFAULT_UNIX_PATH,
  type ListenAddress,
} from './address.js';
export { HttpParseError } from './parser.js';
