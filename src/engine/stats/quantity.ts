/**
 * @module engine/stats/quantity
 * The number formats of the metrics API (pure) beside resource quantities (kube/quantity.ts
 * quantityNumber): Go durations (`10.5s`, `1m0.5s`: the PodMetrics `window`, time.Duration.String()).
 */

const UNIT_NS: Record<string, number> = { ns: 1, us: 1e3, µs: 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };

/** A Go duration (`1m0.5s`, `10s`, `350ms`) in nanoseconds; NaN when malformed. */
export function parseGoDuration(d: string | undefined): number {
  const s = (d ?? '').trim();
  if (s === '0') return 0;
  const re = /([0-9.]+)(ns|us|µs|ms|s|m|h)/gy;
  let total = 0,
    seen = 0;
  for (let m = re.exec(s); m; m = re.exec(s)) {
    total += Number(m[1]) * UNIT_NS[m[2]!]!;
    seen = re.lastIndex;
  }
  return seen === s.length && seen > 0 ? total : NaN;
}
