/**
 * @module engine/ryuk/go
 * The bits of Go's standard library whose exact behaviour Ryuk's wire and log show (pure):
 * `time.ParseDuration` / `Duration.String` (RYUK_*_TIMEOUT values and the `starting` log line),
 * `url.ParseQuery` (each filter line), the JSON key of a docker `filters.Args` (moby
 * api/types/filters/parse.go MarshalJSON: map keys sorted, as encoding/json sorts them), and the
 * value quoting of log/slog's TextHandler (log/slog/text_handler.go needsQuoting).
 */

const UNITS: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3,
  μs: 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

/** Go time.ParseDuration, in milliseconds (fractions of a millisecond kept). Throws with Go's message. */
export function parseGoDuration(s: string): number {
  const bad = () => new Error(`time: invalid duration ${JSON.stringify(s)}`);
  let rest = s;
  let sign = 1;
  if (rest.startsWith('-') || rest.startsWith('+')) {
    if (rest[0] === '-') sign = -1;
    rest = rest.slice(1);
  }
  if (rest === '0') return 0;
  if (rest === '') throw bad();
  let total = 0;
  while (rest) {
    const m = /^(\d*)(?:\.(\d*))?/.exec(rest)!;
    if (!m[0] || m[0] === '.') throw bad();
    rest = rest.slice(m[0].length);
    const unit = /^[^\d.]+/.exec(rest)?.[0];
    if (!unit) throw new Error(`time: missing unit in duration ${JSON.stringify(s)}`);
    const scale = UNITS[unit];
    if (scale === undefined)
      throw new Error(`time: unknown unit ${JSON.stringify(unit)} in duration ${JSON.stringify(s)}`);
    rest = rest.slice(unit.length);
    total += Number(`${m[1] || '0'}.${m[2] || '0'}`) * scale;
  }
  return sign * total;
}

/** Go Duration.String for a whole number of milliseconds: `10s`, `1m0s`, `10m0s`, `1.5s`, `-1s`, `500ms`, `0s`. */
export function formatGoDuration(ms: number): string {
  if (ms === 0) return '0s';
  const neg = ms < 0;
  let v = Math.abs(ms);
  let out: string;
  if (v < 1000) {
    out = `${trimFraction(v)}ms`;
  } else {
    const h = Math.floor(v / 3_600_000);
    v -= h * 3_600_000;
    const m = Math.floor(v / 60_000);
    v -= m * 60_000;
    out = `${h ? `${h}h` : ''}${h || m ? `${m}m` : ''}${trimFraction(v / 1000)}s`;
  }
  return neg ? `-${out}` : out;
}

function trimFraction(n: number): string {
  return String(Number(n.toFixed(9)));
}

/** url.QueryUnescape: `+` is a space, `%XX` a byte; anything else after `%` is Go's EscapeError. */
function queryUnescape(s: string): string {
  const bytes: number[] = [];
  const raw = Buffer.from(s, 'utf8');
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i]!;
    if (c === 0x25) {
      const hex = raw.subarray(i + 1, i + 3).toString('latin1');
      if (!/^[0-9a-fA-F]{2}$/.test(hex))
        throw new Error(`invalid URL escape ${JSON.stringify(raw.subarray(i, i + 3).toString('latin1'))}`);
      bytes.push(parseInt(hex, 16));
      i += 2;
    } else bytes.push(c === 0x2b ? 0x20 : c);
  }
  return Buffer.from(bytes).toString('utf8');
}

/**
 * Go url.ParseQuery (net/url/url.go parseQuery): `&`-separated `key=value` pairs, unescaped; a
 * pair with `;` or a bad escape is skipped and the first such error returned alongside.
 */
export function parseGoQuery(query: string): { values: Map<string, string[]>; error?: string } {
  const values = new Map<string, string[]>();
  let error: string | undefined;
  for (const pair of query.split('&')) {
    if (pair.includes(';')) {
      error ??= 'invalid semicolon separator in query';
      continue;
    }
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    try {
      const key = queryUnescape(eq < 0 ? pair : pair.slice(0, eq));
      const value = queryUnescape(eq < 0 ? '' : pair.slice(eq + 1));
      const list = values.get(key) ?? [];
      list.push(value);
      values.set(key, list);
    } catch (err) {
      error ??= (err as Error).message;
    }
  }
  return { values, error };
}

/** Docker filters as kuber-api's engine takes them (`{label: ['a=b']}`), from parsed query values. */
export type FilterArgs = Record<string, string[]>;

/** filters.Args.MarshalJSON: `{"label":{"a=b":true}}`, keys sorted; the identity of a filter in Ryuk. */
export function filtersKey(args: FilterArgs): string {
  const out: Record<string, Record<string, true>> = {};
  for (const k of Object.keys(args).sort()) {
    const set: Record<string, true> = {};
    for (const v of [...new Set(args[k])].sort()) set[v] = true;
    out[k] = set;
  }
  return JSON.stringify(out);
}

/** The inverse of {@link filtersKey}. */
export function filtersFromKey(key: string): FilterArgs {
  const parsed = JSON.parse(key) as Record<string, Record<string, boolean>>;
  return Object.fromEntries(Object.entries(parsed).map(([k, set]) => [k, Object.keys(set)]));
}

/** fmt's %v of a []string: `[a b]`. */
export function goList(values: readonly string[]): string {
  return `[${values.join(' ')}]`;
}

/** log/slog TextHandler: a value is quoted (strconv.Quote) when empty or holding a space, `=`, `"` or a control character. */
export function slogValue(v: string): string {
  if (v === '' || /[\s="\u0000-\u001f\u007f]/.test(v)) return JSON.stringify(v);
  return v;
}

/** log/slog TextHandler's time: RFC 3339 with milliseconds (`2024-09-30T19:42:30.001Z`). */
export function slogTime(d: Date): string {
  return d.toISOString();
}

/** The standard `log` package's prefix (LstdFlags): `2024/09/30 19:42:30 `, UTC as in a scratch image. */
export function goLogPrefix(d: Date): string {
  const iso = d.toISOString();
  return `${iso.slice(0, 10).replace(/-/g, '/')} ${iso.slice(11, 19)} `;
}
