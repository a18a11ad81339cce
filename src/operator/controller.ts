/**
 * @module operator/controller
 * The operator's control loop: informers (client-node's ListWatch, src/kube/informer.ts: list+watch,
 * a 410 relists, a dropped watch resumes, a failed one restarts with backoff) of job Pods (one per
 * job namespace, label-selected) and of the namespaces it manages, a per-job work queue (one reconcile in flight per job; an event during
 * it runs it again after), retries with exponential backoff, a periodic resync, and the orphan
 * sweep at startup and at each resync.
 */
import type { Logger } from '../log.js';
import type { KubeClient } from '../kube/client.js';
import type { KObject } from '../kube/cache.js';
import { Informer } from '../kube/informer.js';
import type { KubeConfig } from '../kube/kubeconfig.js';
import { LABELS, MANAGED_BY } from './naming.js';
import { podRef, type Reconciler } from './reconcile.js';

export interface ControllerOptions {
  jobNamespaces: readonly string[];
  jobSelector: string;
  resyncMs: number;
  retryBaseMs: number;
  retryMaxMs: number;
}

const gone = (p: KObject) => !!p.metadata.deletionTimestamp;

export class Controller {
  readonly jobCaches: Informer<KObject>[];
  readonly namespaces: Informer<KObject>;
  /** job uid -> child namespace, once a reconcile made everything. */
  private readonly ready = new Map<string, string>();
  private readonly inFlight = new Map<string, Promise<void>>();
  private readonly again = new Set<string>();
  private readonly retries = new Map<string, { attempt: number; timer: NodeJS.Timeout }>();
  private resync?: NodeJS.Timeout;
  private closed = false;
  synced = false;

  constructor(
    kc: KubeConfig,
    client: KubeClient,
    private readonly reconciler: Reconciler,
    private readonly opts: ControllerOptions,
    private readonly log: Logger,
  ) {
    const backoff = { backoffBaseMs: opts.retryBaseMs, backoffMaxMs: opts.retryMaxMs };
    this.jobCaches = opts.jobNamespaces.map(
      (ns) =>
        new Informer<KObject>(
          kc,
          client,
          { path: `/api/v1/namespaces/${ns}/pods`, labelSelector: opts.jobSelector, ...backoff },
          log.child({ informer: `pods/${ns}` }),
        ),
    );
    this.namespaces = new Informer<KObject>(
      kc,
      client,
      { path: '/api/v1/namespaces', labelSelector: `${LABELS.managedBy}=${MANAGED_BY}`, ...backoff },
      log.child({ informer: 'namespaces' }),
    );
  }

  async start(): Promise<void> {
    for (const c of this.jobCaches)
      c.subscribe((ev) =>
        ev.type === 'DELETED' || gone(ev.object) ? this.enqueueRemove(ev.object) : this.enqueue(ev.object),
      );
    await Promise.all([...this.jobCaches.map((c) => c.start()), this.namespaces.start()]);
    await this.sweep('startup');
    for (const p of this.jobs()) this.enqueue(p);
    this.synced = true;
    this.resync = setInterval(() => void this.resyncAll(), this.opts.resyncMs);
    this.resync.unref();
  }

  close(): void {
    this.closed = true;
    clearInterval(this.resync);
    for (const r of this.retries.values()) clearTimeout(r.timer);
    for (const c of this.jobCaches) c.stop();
    this.namespaces.stop();
  }

  jobs(): KObject[] {
    return this.jobCaches.flatMap((c) => c.list()).filter((p) => !gone(p));
  }

  job(namespace: string, name: string): KObject | undefined {
    const i = this.opts.jobNamespaces.indexOf(namespace);
    const p = i >= 0 ? this.jobCaches[i]!.get(name) : undefined;
    return p && !gone(p) ? p : undefined;
  }

  readyChild(job: KObject): string | undefined {
    return this.ready.get(job.metadata.uid!);
  }

  childLabels(child: string): Record<string, string> | undefined {
    return this.namespaces.get(child)?.metadata.labels;
  }

  /** Resolves when no reconcile is queued or running (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.inFlight.size) await Promise.allSettled([...this.inFlight.values()]);
  }

  private async resyncAll(): Promise<void> {
    await this.sweep('resync').catch((err: Error) => this.log.warn({ err: err.message }, 'orphan sweep failed'));
    for (const p of this.jobs()) this.enqueue(p);
  }

  /** Delete managed namespaces whose job Pod is gone (a missed DELETED, a restart, a crash). */
  async sweep(why: string): Promise<string[]> {
    const live = (ns: string, uid: string) =>
      this.jobs().some((p) => p.metadata.namespace === ns && p.metadata.uid === uid);
    const orphans = this.reconciler.orphans(this.namespaces.list(), live);
    for (const o of orphans) await this.reconciler.remove(o, `orphan (${why})`);
    return orphans;
  }

  private enqueue(pod: KObject): void {
    this.run(pod.metadata.uid!, async () => {
      const cur = this.job(pod.metadata.namespace!, pod.metadata.name);
      if (!cur || cur.metadata.uid !== pod.metadata.uid) return;
      const child = await this.reconciler.ensure(cur);
      this.ready.set(cur.metadata.uid!, child);
    });
  }

  private enqueueRemove(pod: KObject): void {
    const uid = pod.metadata.uid!;
    this.run(uid, async () => {
      this.ready.delete(uid);
      await this.reconciler.remove(this.reconciler.childOf(podRef(pod)), 'job Pod deleted');
    });
  }

  /** One task per key at a time; a task asked for while one runs runs once more after it. */
  private run(key: string, task: () => Promise<void>): void {
    if (this.closed) return;
    if (this.inFlight.has(key)) {
      this.again.add(key);
      this.pending.set(key, task);
      return;
    }
    const p = task()
      .then(() => {
        const r = this.retries.get(key);
        if (r) clearTimeout(r.timer);
        this.retries.delete(key);
      })
      .catch((err: Error) => this.retry(key, task, err))
      .finally(() => {
        this.inFlight.delete(key);
        if (this.again.delete(key)) {
          const next = this.pending.get(key);
          this.pending.delete(key);
          if (next) this.run(key, next);
        }
      });
    this.inFlight.set(key, p);
  }
  private readonly pending = new Map<string, () => Promise<void>>();

  private retry(key: string, task: () => Promise<void>, err: Error): void {
    const attempt = (this.retries.get(key)?.attempt ?? 0) + 1;
    const delay = Math.min(this.opts.retryMaxMs, this.opts.retryBaseMs * 2 ** (attempt - 1));
    this.log.warn({ key, attempt, delay, err: err.message }, 'reconcile failed; retrying');
    const timer = setTimeout(() => this.run(key, task), delay);
    timer.unref();
    this.retries.set(key, { attempt, timer });
  }
}
