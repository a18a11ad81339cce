/**
 * @module cancel-scope
 * The Docker request a piece of work runs for, as its cancellation signal: aborted when the
 * request's client goes away before its response is finished (http/response.ts `signal`), or when
 * the request has not written its response head within `--request-deadline-ms` (api/deadline.ts).
 * The API layer runs each handler inside {@link withRequestSignal}; the Kubernetes client
 * (kube/client.ts) and the WebSocket dialer (kube/ws-dialer.ts) read {@link requestSignal} for
 * every call that was not given a signal, so a disconnect cancels the outstanding apiserver request
 * and its retries without every engine function carrying the signal by hand (as Go's handlers pass
 * `r.Context()` down, moby api/server/router, and client-go takes it per request); a wait that runs
 * for a request (start's, for its Pod) takes it explicitly.
 *
 * The signal reaches only as far as the handler: once the handler has settled, work it left
 * running (a listener, a timer, a watch it started) no longer answers to it, so a client that left
 * mid-request cannot cancel, hours later, what its request set going. Work that is shared with
 * other requests (caches filled once, coalesced writes) or must finish whoever asked (rollbacks,
 * a stop) runs {@link detached}.
 */
import { AsyncLocalStorage } from 'node:async_hooks';

interface Scope {
  readonly signal: AbortSignal;
  /** The handler has not settled yet. */
  live: boolean;
}

const scope = new AsyncLocalStorage<Scope | undefined>();

/** Run `fn` (and everything it starts, while it runs) on behalf of a request whose client may go away. */
export function withRequestSignal<T>(signal: AbortSignal, fn: () => T): T {
  const s: Scope = { signal, live: true };
  const out = scope.run(s, fn);
  if (out instanceof Promise)
    out.then(
      () => (s.live = false),
      () => (s.live = false),
    );
  else s.live = false;
  return out;
}

/** The signal of the request the current code runs for, while its handler runs. */
export function requestSignal(): AbortSignal | undefined {
  const s = scope.getStore();
  return s?.live ? s.signal : undefined;
}

/** Run `fn` outside any request: shared or cleanup work that must finish whoever asked for it. */
export function detached<T>(fn: () => T): T {
  return scope.run(undefined, fn);
}
