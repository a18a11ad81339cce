/**
 * @module errors
 * Errors are data. Every failure that reaches a client is an {@link EngineError} with a
 * category; {@link statusFromError} is the one place that turns a category into an HTTP
 * status, as moby's `httpstatus.FromError` does (daemon/server/httpstatus/status.go).
 * This module knows nothing of Docker or Kubernetes, so every layer may import it.
 */

/** The error classes of moby's errdefs, plus the HTTP framing limits of src/http. */
export type ErrorCategory =
  | 'invalid' // errdefs.InvalidParameter -> 400
  | 'unauthorized' // 401
  | 'forbidden' // 403
  | 'not-found' // 404
  | 'timeout' // 408 (header read timeout)
  | 'conflict' // 409
  | 'too-large' // 413 (request body above the limit)
  | 'headers-too-large' // 431 (request head above the limit)
  | 'not-modified' // 304 (start of a running container, stop of a stopped one)
  | 'not-implemented' // 501 (a Docker feature that cannot exist on Kubernetes)
  | 'unavailable' // 503
  | 'deadline' // 500: the request outlived --request-deadline-ms (moby maps a deadline to 500)
  | 'system'; // 500, everything else

const STATUS: Record<ErrorCategory, number> = {
  invalid: 400,
  unauthorized: 401,
  forbidden: 403,
  'not-found': 404,
  timeout: 408,
  conflict: 409,
  'too-large': 413,
  'headers-too-large': 431,
  'not-modified': 304,
  'not-implemented': 501,
  unavailable: 503,
  // moby daemon/server/httpstatus/status.go FromError: cerrdefs.IsDeadlineExceeded -> 500
  // (errdefs/http_helpers.go in older trees: IsDeadline -> StatusInternalServerError).
  deadline: 500,
  system: 500,
};

const QUIET: ReadonlySet<ErrorCategory> = new Set<ErrorCategory>(['not-found', 'conflict', 'not-modified', 'invalid']);

export class EngineError extends Error {
  readonly category: ErrorCategory;
  /** A stable machine-readable code, e.g. `KAPI_ERR_NO_SUCH_CONTAINER`. */
  readonly code: string;
  constructor(category: ErrorCategory, message: string, opts: { code?: string; cause?: unknown } = {}) {
    // Expected outcomes (404s of testcontainers' polling, 409s, 304s, 400s) are answers, not bugs:
    // skip the stack capture, which walks the async chain and was half the cost of a 404
    // (bench/http-server.ts: 5.9k -> 10.4k req/s). Unexpected categories keep their stacks.
    const limit = Error.stackTraceLimit;
    if (QUIET.has(category)) Error.stackTraceLimit = 0;
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    Error.stackTraceLimit = limit;
    this.name = 'EngineError';
    this.category = category;
    this.code = opts.code ?? `KAPI_ERR_${category.toUpperCase().replace(/-/g, '_')}`;
  }
}

/** The one mapping from an error to an HTTP status. Unknown errors are 500. */
export function statusFromError(err: unknown): number {
  if (err instanceof EngineError) return STATUS[err.category];
  return 500;
}

/** The category of any thrown value (`system` for foreign errors). */
export function categoryOf(err: unknown): ErrorCategory {
  return err instanceof EngineError ? err.category : 'system';
}

export const invalid = (msg: string, cause?: unknown) => new EngineError('invalid', msg, { cause });
export const notFound = (msg: string, cause?: unknown) => new EngineError('not-found', msg, { cause });
export const conflict = (msg: string, cause?: unknown) => new EngineError('conflict', msg, { cause });
export const notModified = () => new EngineError('not-modified', '');
export const notImplemented = (msg: string) => new EngineError('not-implemented', msg);
export const unavailable = (msg: string, cause?: unknown) => new EngineError('unavailable', msg, { cause });
export const systemError = (msg: string, cause?: unknown) => new EngineError('system', msg, { cause });
/** The request outlived its deadline; Go's context.DeadlineExceeded reads "context deadline exceeded". */
export const deadlineExceeded = (msg: string) => new EngineError('deadline', `context deadline exceeded: ${msg}`);
export const forbidden = (msg: string, cause?: unknown) => new EngineError('forbidden', msg, { cause });
