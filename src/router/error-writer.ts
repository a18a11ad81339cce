/**
 * @module router/error-writer
 * The one place an error becomes a response. Docker's error model (moby httputils + httpstatus):
 * the status comes from the error's category (src/errors.ts `statusFromError`), the body is
 * `{"message":"..."}` + "\n" with `Content-Type: application/json` and no charset (the Go client
 * compares the header exactly before it parses the body), and a 304 has no body.
 */
import { categoryOf, statusFromError } from '../errors.js';
import type { Request, Response } from '../http/index.js';

export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}

export function writeError(req: Request, res: Response, err: unknown): void {
  const status = statusFromError(err);
  const category = categoryOf(err);
  if (status >= 500 && status !== 501) req.log.error({ err, method: req.method, url: req.url }, 'request failed');
  else if (req.logs('debug')) req.log.debug({ status, message: errorMessage(err), url: req.url }, 'request error');
  if (res.headersSent) {
    // A stream already started: the status cannot change any more. Cut the connection so the
    // client sees a broken stream rather than a clean end (moby does the same for chunked bodies).
    if (!res.finished) req.socket.destroy();
    return;
  }
  if (category === 'too-large' || category === 'headers-too-large' || category === 'timeout') res.closeConnection();
  if (status === 304) {
    // Go's server drops the body of a 304 but keeps the headers moby set.
    res.text(304, '', 'application/json');
    return;
  }
  res.json(status, { message: errorMessage(err) });
}
