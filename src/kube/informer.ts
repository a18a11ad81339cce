/**
 * @module kube/informer
 * A label-selected informer on client-node's `ListWatch` (kubernetes-client/javascript
 * src/cache.ts; classes loaded by informer-lib.ts), with what that class leaves to its user:
 * - it lists, then watches from the list's resourceVersion; a 410 Gone (HTTP status or ERROR
 *   event) relists, and the difference arrives as add/update/delete callbacks (its deleteItems);
 *   a watch that ends cleanly resumes at once from the last resourceVersion (one cut mid-stream is
 *   node-fetch's "Premature close", an error: below);
 * - any other failure (a list or watch refused, a connection reset) only calls its `error`
 *   callbacks and stops: the README of kubernetes-client/javascript tells users to restart it.
 *   Here it restarts after an exponential backoff, resuming from the resourceVersion it kept;
 * - start() resolves once the first list is in (the caller's initial sync), retrying meanwhile.
 * Lists go through KubeClient (its retries and auth); watches through client-node's `Watch`,
 * which authenticates with the same KubeConfig (`applyToFetchOptions`).
 */
import type { Logger } from '../log.js';
import type { KObject } from './cache.js';
import type { KubeClient } from './client.js';
import type { KubeConfig } from './kubeconfig.js';
import type { KubernetesObject } from '@kubernetes/client-node';
import { ListWatch, Watch } from './informer-lib.js';

export interface InformerOptions {
  /** Collection path, e.g. `/api/v1/namespaces/ci/pods`. */
  path: string;
  labelSelector?: string;
  backoffBaseMs: number;
  backoffMaxMs: number;
}

export interface InformerEvent<T extends KObject> {
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  object: T;
}

export class Informer<T extends KObject> {
  /** Counters for tests and logs: lists (the first and each relist), relists, watches opened, errors. */
  readonly stats = { lists: 0, relists: 0, watches: 0, errors: 0 };
  private readonly lw: ListWatch<KubernetesObject>;
  private readonly subs: Array<(ev: InformerEvent<T>) => void> = [];
  private attempt = 0;
  private timer?: NodeJS.Timeout;
  private closed = false;
  private synced!: () => void;
  private readonly syncedPromise = new Promise<void>((r) => (this.synced = r));

  constructor(
    kc: KubeConfig,
    client: KubeClient,
    private readonly opts: InformerOptions,
    private readonly log: Logger,
  ) {
    const list = async () => {
      const r = await client.get<{ items: KubernetesObject[]; metadata?: { resourceVersion?: string } }>(
        opts.path,
        opts.labelSelector ? { labelSelector: opts.labelSelector } : undefined,
      );
      if (this.stats.lists++ > 0) this.stats.relists++;
      this.attempt = 0;
      return r;
    };
    this.lw = new ListWatch(opts.path, new Watch(kc), list, false, opts.labelSelector);
    this.lw.on('add', (o) => this.emit('ADDED', o as T));
    this.lw.on('update', (o) => this.emit('MODIFIED', o as T));
    this.lw.on('delete', (o) => this.emit('DELETED', o as T));
    // `connect` is called before each list or watch (ListWatch.doneHandler): one per watch opened.
    this.lw.on('connect', () => void this.stats.watches++);
    this.lw.on('error', (err) => this.restart(err as Error));
  }

  subscribe(fn: (ev: InformerEvent<T>) => void): void {
    this.subs.push(fn);
  }

  /** Resolves after the first list (later failures restart in the background). */
  start(): Promise<void> {
    void this.run();
    return this.syncedPromise;
  }

  stop(): void {
    this.closed = true;
    clearTimeout(this.timer);
    void this.lw.stop();
  }

  get(name: string): T | undefined {
    // The informer's objects are namespaced or not by the path: ask in the path's namespace.
    const ns = /\/namespaces\/([^/]+)\//.exec(this.opts.path)?.[1];
    return this.lw.get(name, ns) as T | undefined;
  }

  list(): T[] {
    return this.lw.list() as T[];
  }

  private async run(): Promise<void> {
    await this.lw.start();
    if (this.stats.lists > 0) this.synced();
  }

  private emit(type: InformerEvent<T>['type'], object: T): void {
    this.attempt = 0;
    for (const fn of this.subs) fn({ type, object });
  }

  private restart(err: Error): void {
    if (this.closed) return; // stop() aborts the watch: client-node reports that as an error
    this.stats.errors++;
    const delay = Math.min(this.opts.backoffMaxMs, this.opts.backoffBaseMs * 2 ** this.attempt++);
    this.log.warn({ path: this.opts.path, err: err.message, delay }, 'list/watch failed; restarting');
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.run(), delay);
    this.timer.unref();
  }
}
