/**
 * @module engine/images/registry/tokens
 * Registry bearer tokens (the distribution token protocol: docker/distribution
 * registry/auth/token, `expires_in`), kept per registry host, repository scope and user so that
 * the next request for the same scope skips the token round trip. Keys come from what clients pull
 * (every repository its own scope), so the cache is bounded twice: each token goes when it
 * expires, and at most `maxEntries` are held (`--registry-token-cache-entries`), the least
 * recently used going first. A token evicted early only costs one more token request.
 */
export class TokenCache {
  private readonly entries = new Map<string, { token: string; until: number }>();

  constructor(private readonly maxEntries: number) {}

  get size(): number {
    return this.entries.size;
  }

  /** A token for `key` still valid at `now` (a use makes it the most recent). */
  get(key: string, now = Date.now()): string | undefined {
    const e = this.entries.get(key);
    if (!e) return undefined;
    this.entries.delete(key);
    if (e.until <= now) return undefined;
    this.entries.set(key, e);
    return e.token;
  }

  /** Keep `token` until `until` (ms); expired tokens and, past the bound, the least recently used go. */
  set(key: string, token: string, until: number, now = Date.now()): void {
    for (const [k, v] of this.entries) if (v.until <= now) this.entries.delete(k);
    this.entries.delete(key);
    if (this.maxEntries <= 0 || until <= now) return;
    this.entries.set(key, { token, until });
    while (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
  }
}
