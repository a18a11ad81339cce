/**
 * @module sim/apiserver/watch
 * Watch as the watch cache serves it (apiserver/pkg/storage/cacher/cache_watcher.go):
 * newline-delimited compact JSON events on a chunked 200, flushed per event.
 * - resourceVersion unset/"0": synthetic ADDED for the current objects, then changes;
 *   a specific RV: the changes after it from the bounded history, or (too old) one ERROR event
 *   with a 410 Expired Status and the end of the stream;
 * - an object leaving the selection is a DELETED (with its previous state), entering it an ADDED;
 * - bookmarks with allowWatchBookmarks; sendInitialEvents (WatchList) ends the initial ADDEDs
 *   with a bookmark annotated `k8s.io/initial-events-end`;
 * - the stream ends at timeoutSeconds (default: random in [minRequestTimeout, 2x]);
 * - a watcher that cannot keep up (write buffer above the limit) is closed, as the cacher does.
 */
import type { ServerResponse } from 'node:http';
import type { FaultRegistry } from '../faults.js';
import { badRequest, StatusError } from '../status.js';
import type { KObject } from '../types.js';
import { apiVersionOf, type ResourceDef } from '../store/resources.js';
import type { Store, StoreEvent } from '../store/store.js';
import { partial, toTable } from './table.js';
import type { Output } from './encoding.js';

export interface WatchParams {
  resourceVersion?: string;
  resourceVersionMatch?: string;
  allowWatchBookmarks: boolean;
  sendInitialEvents?: boolean;
  timeoutSeconds?: number;
  match: (o: KObject) => boolean;
  include?: 'None' | 'Metadata' | 'Object';
}

export interface WatchEnv {
  store: Store;
  faults: FaultRegistry;
  bookmarkIntervalMs: number;
  minRequestTimeoutSeconds: number;
  maxWatchBufferBytes: number;
}

/** An open watch: the apiserver keeps the set to apply drop/expire faults and to close at stop(). */
export interface WatchSession {
  /** End cleanly (terminal chunk): like a timeout; the client resumes. */
  end(): void;
  /** Drop the connection abruptly. */
  drop(): void;
}

const line = (type: string, object: unknown) => JSON.stringify({ type, object }) + '\n';

export function serveWatch(
  env: WatchEnv,
  sessions: Set<WatchSession>,
  res: ServerResponse,
  def: ResourceDef,
  p: WatchParams,
  out: Output,
): void {
  const { store } = env;
  const rvParam = p.resourceVersion ?? '';
  if (rvParam !== '' && !/^\d+$/.test(rvParam))
    throw badRequest(`resourceVersion: Invalid value: "${rvParam}": must be a valid resource version`);
  if (p.sendInitialEvents !== undefined) {
    if (p.resourceVersionMatch !== 'NotOlderThan')
      throw new StatusError(
        422,
        'Invalid',
        'ListOptions.meta.k8s.io "" is invalid: resourceVersionMatch: Forbidden: sendInitialEvents requires setting resourceVersionMatch to NotOlderThan',
      );
    if (!p.allowWatchBookmarks)
      throw new StatusError(
        422,
        'Invalid',
        'ListOptions.meta.k8s.io "" is invalid: allowWatchBookmarks: Forbidden: sendInitialEvents requires setting allowWatchBookmarks to true',
      );
  }
  const contentType =
    out.kind === 'table' ? `application/json;as=Table;g=meta.k8s.io;v=${out.version}` : 'application/json';
  res.writeHead(200, {
    'Content-Type': contentType,
    'Cache-Control': 'no-cache, private',
    'Transfer-Encoding': 'chunked',
  });
  res.flushHeaders();
  res.socket?.setNoDelay(true);

  let headersSent = false;
  let sent = 0;
  let closed = false;
  const encode = (ev: StoreEvent, type: string, object: KObject): string => {
    if (out.kind === 'table') {
      const t = toTable(def, [object], {
        include: p.include,
        headers: !headersSent,
        version: out.version,
        listMeta: { resourceVersion: object.metadata.resourceVersion },
      });
      headersSent = true;
      return line(type, t);
    }
    if (out.kind === 'partial') return line(type, partial(object, out.version));
    if (type === ev.type && object === ev.object) return (ev.json ??= line(ev.type, ev.object));
    return line(type, object);
  };
  const write = (text: string) => {
    if (closed) return;
    res.write(text);
    sent++;
    const drop = env.faults.current.dropWatches;
    if (drop?.afterEvents !== undefined && sent >= drop.afterEvents) return session.drop();
    if (res.writableLength > env.maxWatchBufferBytes) session.end();
  };
  /** Filter an event for this watcher (cache_watcher.go convertToWatchEvent). */
  const deliver = (ev: StoreEvent) => {
    const cur = ev.type === 'DELETED' ? undefined : ev.object;
    const nowIn = cur !== undefined && p.match(cur);
    const wasIn = ev.prev !== undefined && p.match(ev.prev);
    if (ev.type === 'ADDED') {
      if (nowIn) write(encode(ev, 'ADDED', ev.object));
    } else if (ev.type === 'DELETED') {
      if (wasIn) write(encode(ev, 'DELETED', ev.object));
    } else if (nowIn && wasIn) write(encode(ev, 'MODIFIED', ev.object));
    else if (nowIn) write(encode(ev, 'ADDED', ev.object));
    else if (wasIn) {
      const last = JSON.parse(JSON.stringify(ev.prev)) as KObject;
      last.metadata.resourceVersion = String(ev.rv);
      write(encode(ev, 'DELETED', last));
    }
  };

  let unsubscribe = () => {};
  const timers: NodeJS.Timeout[] = [];
  const finish = (how: 'end' | 'drop') => {
    if (closed) return;
    closed = true;
    unsubscribe();
    for (const t of timers) (clearTimeout(t), clearInterval(t));
    sessions.delete(session);
    if (how === 'drop') {
      // Close the connection after what was written is flushed, without the terminal chunk:
      // the client sees the stream cut mid-way.
      const sock = res.socket;
      if (sock && !sock.destroyed) {
        sock.end();
        setTimeout(() => sock.destroy(), 1000).unref();
      } else res.destroy();
    } else res.end();
  };
  const session: WatchSession = { end: () => finish('end'), drop: () => finish('drop') };
  sessions.add(session);
  res.on('close', () => finish('end'));

  const bookmark = (initialEnd = false) => {
    const meta: Record<string, unknown> = { resourceVersion: String(store.rv), creationTimestamp: null };
    if (initialEnd) meta.annotations = { 'k8s.io/initial-events-end': 'true' };
    write(line('BOOKMARK', { kind: def.kind, apiVersion: apiVersionOf(def), metadata: meta }));
  };

  // Initial state and resumption happen in the same tick as the subscription: no gap.
  const initial =
    p.sendInitialEvents === true || (p.sendInitialEvents === undefined && (rvParam === '' || rvParam === '0'));
  if (initial) {
    for (const o of store.list(def, undefined))
      if (p.match(o)) write(encode({ type: 'ADDED', object: o, rv: 0 }, 'ADDED', o));
    if (p.sendInitialEvents) bookmark(true);
  } else if (rvParam !== '' && rvParam !== '0') {
    const since = Number(rvParam);
    const evs = store.eventsSince(def, since);
    if (!Array.isArray(evs)) {
      const status = {
        kind: 'Status',
        apiVersion: 'v1',
        metadata: {},
        status: 'Failure',
        message: `too old resource version: ${since} (${evs.expired})`,
        reason: 'Expired',
        code: 410,
      };
      write(line('ERROR', status));
      return finish('end');
    }
    for (const ev of evs) deliver(ev);
  }
  if (closed) return;
  unsubscribe = store.subscribe(def, deliver as never);
  // handlers/get.go: timeoutSeconds 0 or unset -> a random timeout in [min, 2*min).
  const timeout = p.timeoutSeconds ? p.timeoutSeconds : env.minRequestTimeoutSeconds * (1 + Math.random());
  timers.push(setTimeout(() => finish('end'), timeout * 1000));
  if (p.allowWatchBookmarks) timers.push(setInterval(() => bookmark(), env.bookmarkIntervalMs));
}
