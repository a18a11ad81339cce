/**
 * @module engine/images/failure-memo
 * Failed registry lookups remembered for a while (`--image-failure-ttl-ms`), so that a create
 * right after a failed one does not wait on the same registry again (as dockerd's pull does not
 * cache, this is kuber-api's own: a create-time lookup is on every `docker create`). Keys come
 * from user input (image references), so the memo holds at most `maxEntries` of them
 * (`--image-failure-cache-entries`), the oldest forgotten first: a bound on memory, not on behaviour.
 */
export interface Failure<E> {
  until: number;
  err?: E;
}

export class FailureMemo<E> {
  private readonly entries = new Map<string, Failure<E>>();

  constructor(private readonly opts: { ttlMs: number; maxEntries: number }) {}

  get size(): number {
    return this.entries.size;
  }

  /** The failure remembered for `key`, if it is recent enough (an expired one is forgotten). */
  get(key: string, now = Date.now()): Failure<E> | undefined {
    const f = this.entries.get(key);
    if (f && f.until > now) return f;
    if (f) this.entries.delete(key);
    return undefined;
  }

  note(key: string, err: E | undefined, now = Date.now()): void {
    if (this.opts.ttlMs <= 0) return;
    this.entries.delete(key); // newest last: the oldest goes first
    this.entries.set(key, { until: now + this.opts.ttlMs, ...(err ? { err } : {}) });
    while (this.entries.size > Math.max(1, this.opts.maxEntries))
      this.entries.delete(this.entries.keys().next().value!);
  }

  clear(): void {
    this.entries.clear();
  }
}
