/**
 * @module api/deadline
 * Every Docker request has an overall deadline (`--request-deadline-ms`), from its arrival until
 * its response head is written: a request may chain many Kubernetes calls, each bounded by
 * `--kube-call-deadline-ms`, and none of them may keep the client waiting past it. On expiry the
 * request's signal is aborted (src/cancel-scope.ts hands it to every Kubernetes call, WebSocket
 * dial and wait of the handler, so they and their retries stop), and the client gets a 500
 * `{"message": "context deadline exceeded: ..."}` naming the option through the one error writer:
 * the status dockerd answers for a context deadline (moby daemon/server/httpstatus/status.go,
 * `cerrdefs.IsDeadlineExceeded` -> `http.StatusInternalServerError`).
 *
 * Exempt, because their length is the client's business, not ours:
 * - a stream whose head (or hijack) is out: attach, exec start, logs -f, events, stats, wait,
 *   pull progress. Their setup phase, before the head, is covered;
 * - a request body being received (docker cp's upload): `--body-timeout-ms` bounds a body that
 *   stalls; the deadline is pushed back a whole period at each expiry that finds the handler still
 *   reading it, so the work after the upload has at least one period;
 * - a stop or restart's own `t` seconds (moby's `t=-1`: wait for ever) come on top of it.
 * A request without a client signal of its own still gets one: the client's disconnect aborts it
 * too (http/response.ts `signal`).
 */
import { setMaxListeners } from 'node:events';
import { deadlineExceeded } from '../errors.js';
import type { Request, Response } from '../http/index.js';

/** Handlers whose work includes a wait the client asked for in `t` (seconds): moby's stop and restart. */
const CLIENT_TIMED = new Set(['postContainersStop', 'postContainersRestart']);

/** The longest delay a Node timer takes (a longer one fires at once, with a TimeoutOverflowWarning). */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** The deadline of one request (ms; 0 = none): the option, plus a stop's or restart's own `t`. */
export function deadlineOf(handler: string, req: Request, baseMs: number): number {
  let ms = baseMs;
  if (baseMs > 0 && CLIENT_TIMED.has(handler)) {
    const t = Number(req.query.get('t') ?? req.query.get('timeout') ?? '');
    if (Number.isFinite(t) && t !== 0) ms = t < 0 ? 0 : baseMs + t * 1000;
  }
  return ms > MAX_TIMER_MS ? 0 : ms; // beyond what a timer can wait (24.8 days): none
}

/**
 * Run `handler` with a signal aborted when the client goes away or when `ms` pass before the
 * response head is written; in the latter case the returned promise rejects with a `deadline`
 * EngineError (the handler, still running, finds its Kubernetes calls cancelled and its late
 * answer refused: the head is written).
 */
export function withDeadline(
  req: Request,
  res: Response,
  ms: number,
  handler: (signal: AbortSignal) => void | Promise<void>,
): void | Promise<void> {
  if (ms <= 0) return handler(res.signal);
  const ac = new AbortController();
  setMaxListeners(0, ac.signal); // one listener per Kubernetes call in flight (a prune runs many)
  const client = res.signal;
  const gone = () => ac.abort(client.reason);
  if (client.aborted) gone();
  else client.addEventListener('abort', gone, { once: true });
  let expire: (err: Error) => void = () => {};
  const expired = new Promise<never>((_, reject) => (expire = reject));
  let timer: NodeJS.Timeout | undefined;
  let settled = false;
  const arm = () => {
    if (!settled) timer = setTimeout(onExpiry, ms);
  };
  function onExpiry() {
    timer = undefined;
    if (res.headersSent || ac.signal.aborted) return; // a stream under way, or the client gone
    if (req.receivingBody) return void arm(); // checked again a whole period later
    const err = deadlineExceeded(
      `the request was not answered within ${ms} ms (--request-deadline-ms); its Kubernetes calls were cancelled`,
    );
    ac.abort(err);
    expire(err);
  }
  const cleanup = () => {
    settled = true;
    if (timer) clearTimeout(timer);
    timer = undefined;
    client.removeEventListener('abort', gone);
  };
  arm();
  let out: void | Promise<void>;
  try {
    out = handler(ac.signal);
  } catch (err) {
    cleanup();
    throw err;
  }
  if (!(out instanceof Promise)) {
    cleanup();
    return out;
  }
  const work = out;
  // Past the deadline the handler's own outcome has no one to go to.
  work.catch((err: unknown) => {
    if (ac.signal.aborted && req.logs('debug')) req.log.debug({ err }, 'a cancelled request ended');
  });
  return Promise.race([work, expired]).finally(cleanup);
}
