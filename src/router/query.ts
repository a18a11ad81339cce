/**
 * @module router/query
 * Query parameters the way moby reads them (api/server/httputils/form.go), so every client's
 * spelling works: Go sends `1`, dockerode `true`/`false` (and `x=` for undefined), docker-py
 * `1`/`0`; filters come as a JSON map of booleans (Go), arrays (dockerode, docker-py) or bare
 * strings.
 */
import { invalid } from '../errors.js';

const FALSE = new Set(['', '0', 'no', 'false', 'none']);

/** moby BoolValue: "", "0", "no", "false", "none" (any case, trimmed) are false; anything else is true. */
export function boolValue(q: URLSearchParams, key: string): boolean {
  const v = q.get(key);
  return v !== null && !FALSE.has(v.trim().toLowerCase());
}

/** moby BoolValueOrDefault: `def` when the key is absent, else BoolValue. */
export function boolOr(q: URLSearchParams, key: string, def: boolean): boolean {
  return q.has(key) ? boolValue(q, key) : def;
}

/**
 * An integer parameter; `undefined` when absent or empty (dockerode sends `t=` for undefined).
 * A value that is not an integer is a 400.
 */
export function intValue(q: URLSearchParams, key: string): number | undefined {
  const v = q.get(key);
  if (v === null) return undefined;
  const s = v.trim();
  if (s === '') return undefined;
  if (!/^[+-]?\d+$/.test(s)) throw invalid(`invalid value for ${key}: "${v}" is not an integer`);
  const n = Number(s);
  if (!Number.isSafeInteger(n)) throw invalid(`invalid value for ${key}: "${v}" is out of range`);
  return n;
}

/** A string parameter; `undefined` when absent or empty. */
export function stringValue(q: URLSearchParams, key: string): string | undefined {
  const v = q.get(key);
  return v === null || v === '' ? undefined : v;
}

export type Filters = Record<string, string[]>;

/**
 * Docker filters normalised to key -> values. Accepts `{"label":{"a=b":true}}` (moby
 * filters.FromJSON; as in moby the booleans are not looked at), the legacy
 * `{"label":["a=b"]}`, and `{"label":"a=b"}`. Absent or empty is `{}`; anything else is a 400.
 */
export function parseFilters(raw: string | null | undefined): Filters {
  // Null prototype: the keys are the client's. `{"__proto__":[...]}` must stay a key (that the
  // filter check then refuses as dockerd does) instead of replacing the object's prototype, and
  // `filters.constructor` must be absent unless the client sent it.
  const out: Filters = Object.create(null) as Filters;
  if (raw === null || raw === undefined || raw.trim() === '') return out;
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch (err) {
    throw invalid(`invalid filter: ${(err as Error).message}`);
  }
  if (parsed === null) return out;
  if (typeof parsed !== 'object' || Array.isArray(parsed)) throw invalid('invalid filter: expected a JSON object');
  for (const [key, value] of Object.entries(parsed as Record<string, unknown>)) {
    if (Array.isArray(value)) out[key] = value.map((v) => String(v));
    else if (typeof value === 'string') out[key] = [value];
    else if (value !== null && typeof value === 'object') out[key] = Object.keys(value);
    else if (value === null) out[key] = [];
    else throw invalid(`invalid filter: values of "${key}" must be a list or a map`);
  }
  return out;
}

/** `filters` of a request's query, parsed. */
export function filtersOf(q: URLSearchParams, key = 'filters'): Filters {
  return parseFilters(q.get(key));
}

// Go time.ParseDuration units, in nanoseconds.
const DURATION_UNITS: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3,
  μs: 1e-3,
  ms: 1,
  s: 1e3,
  m: 60e3,
  h: 3600e3,
};
// µ (U+00B5) and μ (U+03BC) escaped: a literal U+03BC would make V8 hold the whole bundled chunk's
// source as two bytes per character (build/bundle.mjs; esbuild escapes strings, not regexps).
const DURATION = /^([+-]?)((?:\d+(?:\.\d*)?|\.\d+)(?:ns|us|\u00b5s|\u03bcs|ms|s|m|h))+$/;
const DURATION_PART = /(\d+(?:\.\d*)?|\.\d+)(ns|us|\u00b5s|\u03bcs|ms|s|m|h)/g;

/**
 * A time parameter (`since`, `until` of events and logs) as epoch milliseconds (fractional for
 * sub-millisecond precision), the way moby's timetypes.GetTimestamp reads it: a Go duration
 * ("10m", "1h30m") is that long before `now`; a unix timestamp with an optional fraction
 * ("1700000000.123456789"; testcontainers sends JS floats); or an RFC 3339 date. Absent or empty
 * is `undefined`; anything else is a 400.
 */
export function timestampValue(q: URLSearchParams, key: string, now = Date.now()): number | undefined {
  const v = stringValue(q, key)?.trim();
  if (v === undefined || v === '') return undefined;
  if (v !== '0' && DURATION.test(v)) {
    let ms = 0;
    for (const m of v.matchAll(DURATION_PART)) ms += Number(m[1]) * DURATION_UNITS[m[2]!]!;
    return now - (v[0] === '-' ? -ms : ms);
  }
  const unix = /^(-?\d+)(?:\.(\d{0,9}))?$/.exec(v);
  if (unix) return Number(unix[1]) * 1000 + (unix[2] ? Number(`0.${unix[2]}`) * 1000 : 0);
  if (v.includes('-')) {
    const t = Date.parse(v);
    if (!Number.isNaN(t)) return t;
  }
  throw invalid(`invalid value for ${key}: failed to parse value as time or duration: "${v}"`);
}
