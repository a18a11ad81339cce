/**
 * @module kube/quantity
 * resource.Quantity as Kubernetes parses, compares, adds and prints it
 * (k8s.io/apimachinery/pkg/api/resource/quantity.go). Pure: no I/O, no client. The value is kept
 * exactly as an integer count of nano-units (the finest scale a Quantity keeps: finer values are
 * rounded up, as ParseQuantity does), plus the format that decides how it prints (`String()`:
 * BinarySI `128Mi`, DecimalSI `500m`/`1k`, DecimalExponent `1e3`).
 */

export type QuantityFormat = 'BinarySI' | 'DecimalSI' | 'DecimalExponent';

export interface Quantity {
  /** The value in units of 10^-9. */
  readonly nano: bigint;
  readonly format: QuantityFormat;
}

const NANO = 1_000_000_000n;
const DECIMAL: Record<string, number> = { n: -9, u: -6, m: -3, '': 0, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 };
const BINARY: Record<string, number> = { Ki: 10, Mi: 20, Gi: 30, Ti: 40, Pi: 50, Ei: 60 };
const DECIMAL_SUFFIX = new Map(Object.entries(DECIMAL).map(([k, v]) => [v, k]));
const BINARY_SUFFIX = new Map(Object.entries(BINARY).map(([k, v]) => [v, k]));

/** Thrown for text that is not a quantity (the apiserver's "quantities must match the regular expression"). */
export class QuantityError extends Error {}

const ceilDiv = (a: bigint, b: bigint) => (a >= 0n ? (a + b - 1n) / b : a / b);

/** ParseQuantity: `<sign><digits>[.<digits>]<suffix>`; a number is read as DecimalSI. */
export function parseQuantity(input: unknown): Quantity {
  if (typeof input === 'number' && Number.isFinite(input)) input = String(input);
  if (typeof input !== 'string')
    throw new QuantityError(
      `quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'`,
    );
  const m = /^([+-]?)([0-9]*)(?:\.([0-9]*))?([a-zA-Z]*[-+]?[0-9]*)$/.exec(input.trim());
  if (!m || (m[2] === '' && !m[3]))
    throw new QuantityError(
      `quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'`,
    );
  const [, sign, whole, frac = '', suffix] = m as unknown as [string, string, string, string | undefined, string];
  const digits = BigInt(`${whole}${frac}` || '0');
  let format: QuantityFormat;
  let num = digits;
  let den = 10n ** BigInt(frac.length);
  if (suffix in BINARY) {
    format = 'BinarySI';
    num *= 2n ** BigInt(BINARY[suffix]!);
  } else if (suffix in DECIMAL) {
    format = 'DecimalSI';
    const e = DECIMAL[suffix]!;
    if (e >= 0) num *= 10n ** BigInt(e);
    else den *= 10n ** BigInt(-e);
  } else if (/^[eE][-+]?[0-9]+$/.test(suffix)) {
    format = 'DecimalExponent';
    const e = Number(suffix.slice(1));
    if (e >= 0) num *= 10n ** BigInt(e);
    else den *= 10n ** BigInt(-e);
  } else throw new QuantityError("unable to parse quantity's suffix");
  const nano = ceilDiv(num * NANO, den);
  return { nano: sign === '-' ? -nano : nano, format };
}

/**
 * A quantity as a plain number of base units (`250m` -> 0.25, `64Mi` -> 67108864, a number as
 * itself), for arithmetic that needs no exactness (metrics, sizes); NaN when it is not a quantity.
 * Whole units are exact below 2^53.
 */
export function quantityNumber(input: unknown): number {
  let q: Quantity;
  try {
    q = parseQuantity(input);
  } catch {
    return NaN;
  }
  return Number(q.nano / NANO) + Number(q.nano % NANO) / 1e9;
}

/** A quantity from a count (NewQuantity(n, DecimalSI)). */
export const quantityOf = (n: number | bigint, format: QuantityFormat = 'DecimalSI'): Quantity => ({
  nano: BigInt(n) * NANO,
  format,
});
export const ZERO: Quantity = { nano: 0n, format: 'DecimalSI' };

/** Quantity.Add: the receiver's format, unless the receiver is zero. */
export const addQuantity = (a: Quantity, b: Quantity): Quantity => ({
  nano: a.nano + b.nano,
  format: a.nano === 0n ? b.format : a.format,
});
export const subQuantity = (a: Quantity, b: Quantity): Quantity => ({
  nano: a.nano - b.nano,
  format: a.nano === 0n ? b.format : a.format,
});
export const cmpQuantity = (a: Quantity, b: Quantity): number => (a.nano < b.nano ? -1 : a.nano > b.nano ? 1 : 0);
/** Value(): rounded up to an integer. */
export const quantityValue = (q: Quantity): bigint => ceilDiv(q.nano, NANO);
/** MilliValue(): rounded up to thousandths. */
export const quantityMilli = (q: Quantity): bigint => ceilDiv(q.nano, 1_000_000n);

/** Quantity.String(): the canonical form (CanonicalizeBytes). */
export function formatQuantity(q: Quantity): string {
  if (q.nano === 0n) return '0';
  const neg = q.nano < 0n;
  const abs = neg ? -q.nano : q.nano;
  let format = q.format;
  if (format === 'BinarySI' && (abs < 1024n * NANO || abs % NANO !== 0n)) format = 'DecimalSI';
  let out: string;
  if (format === 'BinarySI') {
    let n = abs / NANO;
    let e = 0;
    while (n % 1024n === 0n && e < 60) {
      n /= 1024n;
      e += 10;
    }
    out = `${n}${BINARY_SUFFIX.get(e) ?? ''}`;
  } else {
    // Mantissa without trailing zeros, exponent brought down to a multiple of 3.
    let n = abs;
    let e = -9;
    while (n % 10n === 0n) {
      n /= 10n;
      e++;
    }
    const r = ((e % 3) + 3) % 3;
    n *= 10n ** BigInt(r);
    e -= r;
    const suffix = format === 'DecimalSI' ? DECIMAL_SUFFIX.get(e) : undefined;
    out = `${n}${suffix ?? (e === 0 ? '' : `e${e}`)}`;
  }
  return neg ? `-${out}` : out;
}

/** Canonical text of a quantity given as text (as the apiserver stores it). */
export const canonicalQuantity = (text: unknown): string => formatQuantity(parseQuantity(text));
