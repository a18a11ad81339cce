/**
 * @module engine/core/container-index
 * The engine's view of Kubernetes: two watch caches (our records and our Pods, both selected by
 * the instance label) indexed by container ID and name, with moby's lookup rules and waiters that
 * re-evaluate on every change. Nothing here is authoritative: it is rebuilt from the caches after
 * a restart, and every write goes to Kubernetes first.
 */
import { notFound, invalid } from '../../errors.js';
import { whenChanged, type CacheEvent, type KObject, type WatchCache } from '../../kube/cache.js';
import { decodeRecord, ANN_ID, ANN_RUN } from '../model/record.js';
import type { ContainerRecord } from '../model/types.js';
import type { PodLike } from '../model/state.js';

export type PodObject = KObject & PodLike;

export interface IndexListener {
  record?(ev: {
    type: 'ADDED' | 'MODIFIED' | 'DELETED';
    rec: ContainerRecord;
    old?: ContainerRecord;
    initial: boolean;
  }): void;
  pod?(ev: CacheEvent<PodObject> & { id: string; run: number }): void;
}

export class ContainerIndex {
  private readonly byId = new Map<string, ContainerRecord>();
  private readonly byName = new Map<string, string>();
  /** Container ID -> run number -> Pod. */
  private readonly podsById = new Map<string, Map<number, PodObject>>();
  private readonly waiters = new Set<() => void>();
  private readonly listeners: IndexListener[] = [];

  constructor(
    readonly records: WatchCache<KObject>,
    readonly pods: WatchCache<PodObject>,
  ) {
    records.subscribe((ev) => this.onRecord(ev));
    pods.subscribe((ev) => this.onPod(ev));
  }

  listen(l: IndexListener): void {
    this.listeners.push(l);
  }

  async start(): Promise<void> {
    await Promise.all([this.records.start(), this.pods.start()]);
  }

  stop(): void {
    this.records.stop();
    this.pods.stop();
    for (const w of [...this.waiters]) w();
  }

  private onRecord(ev: CacheEvent<KObject>): void {
    const rec = decodeRecord(ev.object);
    if (!rec) return;
    const old = this.byId.get(rec.id);
    if (ev.type === 'DELETED') {
      if (!old) return;
      this.byId.delete(rec.id);
      if (this.byName.get(old.name) === rec.id) this.byName.delete(old.name);
    } else {
      if (old && this.byName.get(old.name) === rec.id) this.byName.delete(old.name);
      this.byId.set(rec.id, rec);
      this.byName.set(rec.name, rec.id);
    }
    for (const l of this.listeners) l.record?.({ type: ev.type, rec, old, initial: ev.initial });
    this.changed();
  }

  private onPod(ev: CacheEvent<PodObject>): void {
    const a = ev.object.metadata.annotations ?? {};
    const id = a[ANN_ID];
    const run = Number(a[ANN_RUN]);
    if (!id || !Number.isInteger(run)) return;
    let runs = this.podsById.get(id);
    if (ev.type === 'DELETED') {
      if (runs && runs.get(run)?.metadata.uid === ev.object.metadata.uid) runs.delete(run);
      if (runs && runs.size === 0) this.podsById.delete(id);
    } else {
      if (!runs) this.podsById.set(id, (runs = new Map()));
      runs.set(run, ev.object);
    }
    for (const l of this.listeners) l.pod?.({ ...ev, id, run });
    this.changed();
  }

  /** Wake every waiter (after any change, including in-memory ones). */
  changed(): void {
    for (const w of [...this.waiters]) w();
  }

  /** Resolve with the first defined result of `check`, re-evaluated on every change. */
  when<R>(
    check: () => R | undefined,
    opts: { timeoutMs?: number; signal?: AbortSignal; timeoutError?: () => Error } = {},
  ): Promise<R> {
    return whenChanged(this.waiters, check, opts);
  }

  get(id: string): ContainerRecord | undefined {
    return this.byId.get(id);
  }

  all(): ContainerRecord[] {
    return [...this.byId.values()];
  }

  get size(): number {
    return this.byId.size;
  }

  nameOwner(name: string): string | undefined {
    return this.byName.get(name);
  }

  /** The Pod of the container's current run, if it exists. */
  currentPod(rec: ContainerRecord): PodObject | undefined {
    return this.podsById.get(rec.id)?.get(rec.state.run);
  }

  /** Every Pod of a container (normally just the current run's). */
  podsOf(id: string): PodObject[] {
    return [...(this.podsById.get(id)?.values() ?? [])];
  }

  /**
   * moby daemon.GetContainer: full ID, then exact name (with or without `/`), then a unique ID
   * prefix. An ambiguous prefix is a 400 as in moby (container/view.go ErrAmbiguousPrefix).
   */
  find(nameOrId: string): ContainerRecord | undefined {
    if (!nameOrId) return undefined;
    const byId = this.byId.get(nameOrId);
    if (byId) return byId;
    const name = nameOrId.startsWith('/') ? nameOrId.slice(1) : nameOrId;
    const owner = this.byName.get(name);
    if (owner) return this.byId.get(owner);
    if (!/^[0-9a-f]+$/.test(nameOrId)) return undefined;
    let found: ContainerRecord | undefined;
    for (const rec of this.byId.values()) {
      if (!rec.id.startsWith(nameOrId)) continue;
      if (found) throw invalid(`multiple IDs found with provided prefix: ${nameOrId}`);
      found = rec;
    }
    return found;
  }

  /** find() or a 404 "No such container: <name>". */
  resolve(nameOrId: string): ContainerRecord {
    const rec = this.find(nameOrId);
    if (!rec) throw notFound(`No such container: ${nameOrId}`);
    return rec;
  }
}
