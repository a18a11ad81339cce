/**
 * @module kube/cache
 * A watch-backed cache of one resource in one namespace, selected by labels: the informer pattern
 * (client-go tools/cache Reflector) without polling. List, then watch from the list's
 * resourceVersion; every event updates the store and is handed to subscribers. A 410 Expired (as
 * a status or as an ERROR event) relists and reports the difference as synthetic events; any other
 * failure reconnects with exponential backoff, resuming from the last resourceVersion seen.
 * Waiters (`when`) are re-evaluated on each change, so start/wait/inspect never poll.
 */
import { detached } from '../cancel-scope.js';
import { EventEmitter } from 'node:events';
import type { KubeClient } from './client.js';
import { childLogger, type Logger } from '../log.js';

export interface KObject {
  apiVersion?: string;
  kind?: string;
  metadata: {
    name: string;
    namespace?: string;
    uid?: string;
    resourceVersion?: string;
    creationTimestamp?: string;
    deletionTimestamp?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    ownerReferences?: Array<{
      apiVersion: string;
      kind: string;
      name: string;
      uid: string;
      controller?: boolean;
      blockOwnerDeletion?: boolean;
    }>;
    [k: string]: unknown;
  };
  [k: string]: unknown;
}

export interface CacheEvent<T extends KObject> {
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  object: T;
  /** The previous version (MODIFIED, DELETED). */
  old?: T;
  /** True for events produced by the first list (state that existed before we started). */
  initial: boolean;
}

export interface CacheOptions {
  /** Collection path, e.g. `/api/v1/namespaces/ns/pods`. */
  path: string;
  labelSelector?: string;
  /** Server-side watch timeout; the server closes the watch after it and we resume. */
  watchTimeoutSeconds: number;
  backoffBaseMs: number;
  backoffMaxMs: number;
  /** How long a deleted object's uid is remembered against late watch echoes (`--watch-tombstone-ms`). */
  tombstoneMs: number;
  /** At most this many uids are remembered, the oldest forgotten first (`--watch-tombstones`). */
  maxTombstones: number;
}

/** Defaults for tests and tools; kuber-api passes its options (src/config.ts) through `Kube`. */
export const DEFAULT_CACHE_OPTIONS = {
  watchTimeoutSeconds: 290,
  backoffBaseMs: 200,
  backoffMaxMs: 30_000,
  tombstoneMs: 60_000,
  maxTombstones: 10_000,
};

export class WatchCache<T extends KObject> {
  private readonly store = new Map<string, T>();
  private readonly emitter = new EventEmitter();
  private readonly waiters = new Set<() => void>();
  /** uid -> until (ms); insertion order is expiry order (one lifetime for all). */
  private readonly tombstones = new Map<string, number>();
  private readonly log: Logger;
  private readonly opts: CacheOptions;
  private rv = '';
  private running = false;
  private abortWatch?: () => void;
  private syncedPromise: Promise<void>;
  private markSynced!: () => void;
  private wake?: () => void;
  /** Counters for tests: lists (initial and relists), watches opened, events seen. */
  readonly stats = { lists: 0, relists: 0, watches: 0, events: 0 };
  synced = false;

  constructor(
    private readonly client: KubeClient,
    opts: Pick<CacheOptions, 'path' | 'labelSelector'> & Partial<CacheOptions>,
    log?: Logger,
  ) {
    this.opts = { ...DEFAULT_CACHE_OPTIONS, ...opts };
    this.log = log ?? childLogger({ component: 'cache', path: opts.path });
    this.emitter.setMaxListeners(0);
    this.syncedPromise = new Promise((r) => (this.markSynced = r));
  }

  /** Start list+watch; resolves after the first successful list. */
  start(): Promise<void> {
    if (!this.running) {
      this.running = true;
      void detached(() => this.loop()); // the cache serves every request: none of them may cancel it
    }
    return this.syncedPromise;
  }

  stop(): void {
    this.running = false;
    this.abortWatch?.();
    this.wake?.();
    for (const w of [...this.waiters]) w();
  }

  get(name: string): T | undefined {
    return this.store.get(name);
  }

  list(): T[] {
    return [...this.store.values()];
  }

  get size(): number {
    return this.store.size;
  }

  get resourceVersion(): string {
    return this.rv;
  }

  /** Uids of deleted objects remembered now (for tests: at most `maxTombstones`). */
  get tombstoneCount(): number {
    return this.tombstones.size;
  }

  /** Subscribe to changes; returns the unsubscribe function. */
  subscribe(cb: (ev: CacheEvent<T>) => void): () => void {
    this.emitter.on('event', cb);
    return () => this.emitter.off('event', cb);
  }

  /**
   * Resolve with the first non-undefined result of `check`, evaluated now and after every change
   * of the cache. Rejects on timeout or abort (with the given reason).
   */
  when<R>(
    check: () => R | undefined,
    opts: { timeoutMs?: number; signal?: AbortSignal; timeoutError?: () => Error } = {},
  ): Promise<R> {
    return whenChanged(this.waiters, check, opts, () => !this.running);
  }

  /** Insert what a write returned, so that the writer reads its own write before the watch echoes it. */
  observe(obj: T): void {
    this.apply('ADDED', obj, false);
  }

  /**
   * Forget an object we deleted (the watch's DELETED will find it gone). Its uid is remembered for
   * a while, so that a late echo of an earlier write (a MODIFIED still in flight on the watch) does
   * not bring it back.
   */
  forget(name: string): void {
    const old = this.store.get(name);
    if (!old) return;
    if (old.metadata.uid) this.bury(old.metadata.uid);
    this.apply('DELETED', old, false);
  }

  /**
   * Remember `uid` for `tombstoneMs`. The expired ones and, past `maxTombstones`, the oldest go
   * at each insert (from the front: the map is in expiry order), so the map never holds more than
   * the bound, however many deletes a burst makes. A uid forgotten early only loses the guard
   * against a late echo of an object already deleted: the watch's DELETED removes it again.
   */
  private bury(uid: string): void {
    const now = Date.now();
    this.tombstones.delete(uid);
    if (this.opts.maxTombstones > 0 && this.opts.tombstoneMs > 0) this.tombstones.set(uid, now + this.opts.tombstoneMs);
    for (const [u, until] of this.tombstones) {
      if (until > now && this.tombstones.size <= this.opts.maxTombstones) break;
      this.tombstones.delete(u);
    }
  }

  private apply(type: 'ADDED' | 'MODIFIED' | 'DELETED', obj: T, initial: boolean): void {
    const name = obj.metadata.name;
    const old = this.store.get(name);
    if (type === 'DELETED') {
      if (!old || (obj.metadata.uid && old.metadata.uid !== obj.metadata.uid)) return;
      this.store.delete(name);
    } else {
      const uid = obj.metadata.uid;
      if (uid && this.tombstones.has(uid)) {
        if (this.tombstones.get(uid)! > Date.now()) return; // an echo of an object we deleted
        this.tombstones.delete(uid);
      }
      // Ignore echoes of a version we already hold (observe() stores our own writes first).
      if (
        old &&
        old.metadata.uid === obj.metadata.uid &&
        !isNewer(obj.metadata.resourceVersion, old.metadata.resourceVersion)
      )
        return;
      this.store.set(name, obj);
      if (old && type === 'ADDED') type = 'MODIFIED';
    }
    this.stats.events++;
    this.emitter.emit('event', { type, object: obj, old, initial } satisfies CacheEvent<T>);
    for (const w of [...this.waiters]) w();
  }

  private async relist(): Promise<void> {
    const body = await this.client.get<{ metadata: { resourceVersion: string }; items: T[] }>(this.opts.path, {
      labelSelector: this.opts.labelSelector,
    });
    const initial = !this.synced;
    this.stats.lists++;
    if (!initial) this.stats.relists++;
    const seen = new Set<string>();
    for (const item of body.items ?? []) {
      // A list's items carry no kind/apiVersion; watch events do. Keep the shapes alike.
      seen.add(item.metadata.name);
      const old = this.store.get(item.metadata.name);
      if (old && old.metadata.resourceVersion === item.metadata.resourceVersion) continue;
      this.apply(old ? 'MODIFIED' : 'ADDED', item, initial);
    }
    for (const [name, old] of [...this.store]) if (!seen.has(name)) this.apply('DELETED', old, initial);
    this.rv = body.metadata?.resourceVersion ?? '';
    if (!this.synced) {
      this.synced = true;
      this.markSynced();
    }
  }

  private async loop(): Promise<void> {
    let failures = 0;
    while (this.running) {
      try {
        if (!this.rv) await this.relist();
        if (!this.running) break;
        this.stats.watches++;
        const opened = Date.now();
        let events = 0;
        const handle = this.client.watch(
          this.opts.path,
          {
            labelSelector: this.opts.labelSelector,
            resourceVersion: this.rv,
            allowWatchBookmarks: true,
            timeoutSeconds: this.opts.watchTimeoutSeconds,
          },
          (ev) => {
            events++;
            const obj = ev.object as T;
            if (obj?.metadata?.resourceVersion) this.rv = obj.metadata.resourceVersion;
            if (ev.type === 'BOOKMARK') return;
            this.apply(ev.type as 'ADDED' | 'MODIFIED' | 'DELETED', obj, false);
          },
        );
        this.abortWatch = handle.abort;
        const end = await handle.done;
        this.abortWatch = undefined;
        if (end === 'expired') {
          this.log.info({ rv: this.rv }, 'watch expired (410): relisting');
          this.rv = '';
          failures = 0;
          continue;
        }
        // A watch that ends at once without an event, repeatedly, is a failing server: back off.
        if (events === 0 && Date.now() - opened < 1000) failures++;
        else failures = 0;
      } catch (err) {
        failures++;
        this.log.warn({ err: (err as Error).message, failures }, 'list/watch failed; retrying');
        if ((err as { status?: number }).status === 410) this.rv = '';
      }
      if (failures && this.running)
        await this.pause(Math.min(this.opts.backoffMaxMs, this.opts.backoffBaseMs * 2 ** (failures - 1)));
    }
  }

  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(done, ms);
      function done() {
        clearTimeout(t);
        resolve();
      }
      this.wake = done;
    });
  }
}

function isNewer(a: string | undefined, b: string | undefined): boolean {
  // Resource versions are opaque (api-concepts); etcd and kube-sim use integers, and comparing them
  // only guards against re-applying an older echo of our own write. Otherwise: newer iff different.
  const x = Number(a),
    y = Number(b);
  if (a && b && Number.isFinite(x) && Number.isFinite(y)) return x > y;
  return a !== b;
}

/** The waiter machinery shared by the caches and the engine's own index. */
export function whenChanged<R>(
  waiters: Set<() => void>,
  check: () => R | undefined,
  opts: { timeoutMs?: number; signal?: AbortSignal; timeoutError?: () => Error },
  stopped: () => boolean = () => false,
): Promise<R> {
  return new Promise<R>((resolve, reject) => {
    let timer: NodeJS.Timeout | undefined;
    const finish = (fn: () => void) => {
      waiters.delete(evaluate);
      if (timer) clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      fn();
    };
    const evaluate = () => {
      if (stopped()) return finish(() => reject(new Error('cache stopped')));
      let r: R | undefined;
      try {
        r = check();
      } catch (err) {
        return finish(() => reject(err));
      }
      if (r !== undefined) finish(() => resolve(r as R));
    };
    const onAbort = () => finish(() => reject(opts.signal?.reason ?? new Error('aborted')));
    if (opts.signal?.aborted) return onAbort();
    opts.signal?.addEventListener('abort', onAbort);
    if (opts.timeoutMs !== undefined && opts.timeoutMs !== Infinity) {
      timer = setTimeout(
        () => finish(() => reject(opts.timeoutError?.() ?? new Error(`timed out after ${opts.timeoutMs} ms`))),
        opts.timeoutMs,
      );
    }
    waiters.add(evaluate);
    evaluate();
  });
}
