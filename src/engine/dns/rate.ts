/**
 * @module engine/dns/rate
 * Queries per source address, as a token bucket: `perSecond` tokens a second, as many at once.
 * The table of sources is bounded (`maxSources`, the oldest forgotten first), so a flood of
 * spoofed addresses costs a fixed amount of memory.
 */
export interface RateOptions {
  perSecond: number;
  maxSources: number;
}

export class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  dropped = 0;

  constructor(private readonly opts: RateOptions) {}

  get sources(): number {
    return this.buckets.size;
  }

  /** May `source` ask one more query now? (0 per second: unlimited.) */
  take(source: string, now = Date.now()): boolean {
    const rate = this.opts.perSecond;
    if (rate <= 0) return true;
    let b = this.buckets.get(source);
    if (!b) {
      b = { tokens: rate, at: now };
      this.buckets.set(source, b);
      while (this.buckets.size > Math.max(1, this.opts.maxSources))
        this.buckets.delete(this.buckets.keys().next().value!);
    } else {
      b.tokens = Math.min(rate, b.tokens + ((now - b.at) * rate) / 1000);
      b.at = now;
    }
    if (b.tokens < 1) {
      this.dropped++;
      return false;
    }
    b.tokens -= 1;
    return true;
  }
}
