/**
 * @module cancel-scope
 * The Docker request a piece of work runs for, as its cancellation signal: aborted when the
 * request's client goes away before its response is finished (http/response.ts `signal`). The API
 * layer runs each handler inside {@link withRequestSignal}; the Kubernetes client
 * (kube/client.ts) reads {@link requestSignal} for every REST call that was not given a signal, so
 * a disconnect cancels the outstanding apiserver request and its retries without every engine
 * function carrying the signal by hand (as Go's handlers pass `r.Context()` down, moby
 * api/server/router, and client-go takes it per request).
 *
 * Work that outlives the request or is shared with other requests (caches filled once, coalesced
 * writes, rollbacks after a failure) runs {@link detached}: it must not stop because one of the
 * clients waiting for it left.
 */
import { AsyncLocalStorage } from 'node:async_hooks';

const scope = new AsyncLocalStorage<AbortSignal | undefined>();

/** Run `fn` (and everything it starts) on behalf of a request whose client may go away. */
export function withRequestSignal<T>(signal: AbortSignal, fn: () => T): T {
  return scope.run(signal, fn);
}

/** The signal of the request the current code runs for, if any. */
export function requestSignal(): AbortSignal | undefined {
  return scope.getStore();
}

/** Run `fn` outside any request: shared or cleanup work that must finish whoever asked for it. */
export function detached<T>(fn: () => T): T {
  return scope.run(undefined, fn);
}
