/**
 * @module engine/stats/quantity
 * The number formats of the metrics API (pure): resource quantities as the apiserver serialises
 * them (k8s.io/apimachinery pkg/api/resource quantity.go: decimal SI suffixes n u m k M G T P E,
 * binary Ki Mi Gi Ti Pi Ei, exponents `1e3`) and Go durations (`10.5s`, `1m0.5s`: the PodMetrics
 * `window`, time.Duration.String()).
 */

const DECIMAL: Record<string, number> = {
  n: 1e-9,
  u: 1e-6,
  m: 1e-3,
  '': 1,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
};
const BINARY: Record<string, number> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60 };

/** A quantity as a plain number (`250m` -> 0.25, `64Mi` -> 67108864); NaN when malformed. */
export function parseQuantity(q: string | undefined): number {
  const m = /^([+-]?[0-9.]+)(?:([eE][+-]?\d+)|(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]))?$/.exec((q ?? '').trim());
  if (!m) return NaN;
  const n = Number(m[1]);
  if (m[2]) return n * 10 ** Number(m[2].slice(1));
  const suffix = m[3] ?? '';
  return n * (BINARY[suffix] ?? DECIMAL[suffix] ?? NaN);
}

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
