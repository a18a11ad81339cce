/**
 * @module sim/store/selectors
 * Label selectors (k8s.io/apimachinery/pkg/labels/selector.go: `=`, `==`, `!=`, `in`, `notin`,
 * `key`, `!key`, `gt`/`lt`) and field selectors (pkg/fields/selector.go: `=`, `==`, `!=` on a
 * fixed set of labels per resource, ToSelectableFields).
 */
import { badRequest } from '../status.js';
import type { KObject } from '../types.js';

type LabelReq =
  | { key: string; op: 'in' | 'notin'; values: string[] }
  | { key: string; op: 'exists' | '!' }
  | { key: string; op: 'gt' | 'lt'; n: number };

export type LabelSelector = (labels: Record<string, string> | undefined) => boolean;

const TOKEN = /\s*(==|!=|=|\(|\)|,|!|>|<|[^\s=!(),<>]+)/y;

/** Parse a label selector string; throws a 400 Status on a syntax error. */
export function parseLabelSelector(text: string | null | undefined): LabelSelector | undefined {
  if (!text || !text.trim()) return undefined;
  const toks: string[] = [];
  TOKEN.lastIndex = 0;
  let m: RegExpExecArray | null;
  while (TOKEN.lastIndex < text.length && (m = TOKEN.exec(text))) toks.push(m[1]!);
  if (text.slice(TOKEN.lastIndex).trim())
    throw badRequest(`unable to parse requirement: found '${text.slice(TOKEN.lastIndex)}', expected: identifier`);
  let i = 0;
  const fail = (msg: string): never => {
    throw badRequest(`unable to parse requirement: ${msg}`);
  };
  const reqs: LabelReq[] = [];
  const ident = /^[A-Za-z0-9]([-A-Za-z0-9_./]*[A-Za-z0-9])?$/;
  const valueOk = (v: string) => v === '' || /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])$/.test(v);
  while (i < toks.length) {
    let t = toks[i++]!;
    if (t === '!') {
      const key = toks[i++] ?? fail("found '', expected: identifier");
      if (!ident.test(key)) fail(`invalid label key "${key}"`);
      reqs.push({ key, op: '!' });
    } else {
      if (!ident.test(t)) fail(`found '${t}', expected: !, identifier, or 'end of string'`);
      const key = t;
      const op = toks[i];
      if (op === undefined || op === ',') {
        reqs.push({ key, op: 'exists' });
      } else if (op === '=' || op === '==' || op === '!=') {
        i++;
        let v = toks[i];
        if (v === undefined || v === ',') v = '';
        else i++;
        if (!valueOk(v)) fail(`invalid label value: "${v}"`);
        reqs.push({ key, op: op === '!=' ? 'notin' : 'in', values: [v] });
      } else if (op === 'in' || op === 'notin') {
        i++;
        if (toks[i++] !== '(') fail(`found '${toks[i - 1] ?? ''}', expected: '('`);
        const values: string[] = [];
        for (;;) {
          t = toks[i++] ?? fail("found '', expected: ')'");
          if (t === ')') break;
          if (t === ',') continue;
          if (!valueOk(t)) fail(`invalid label value: "${t}"`);
          values.push(t);
        }
        reqs.push({ key, op, values });
      } else if (op === '>' || op === '<' || op === 'gt' || op === 'lt') {
        i++;
        const n = Number(toks[i++]);
        if (!Number.isInteger(n)) fail('for gt, lt operators, exactly one numeric value is required');
        reqs.push({ key, op: op === '>' || op === 'gt' ? 'gt' : 'lt', n });
      } else fail(`found '${op}', expected: in, notin, =, ==, !=, gt, lt`);
    }
    if (i < toks.length) {
      if (toks[i] !== ',') fail(`found '${toks[i]}', expected: ',' or 'end of string'`);
      i++;
    }
  }
  return (labels) => {
    const l = labels ?? {};
    for (const r of reqs) {
      const has = Object.prototype.hasOwnProperty.call(l, r.key);
      const v = l[r.key];
      switch (r.op) {
        case 'exists':
          if (!has) return false;
          break;
        case '!':
          if (has) return false;
          break;
        case 'in':
          if (!has || !r.values.includes(v!)) return false;
          break;
        case 'notin':
          if (has && r.values.includes(v!)) return false;
          break;
        case 'gt':
        case 'lt': {
          const n = Number(v);
          if (!has || !Number.isInteger(n) || (r.op === 'gt' ? !(n > r.n) : !(n < r.n))) return false;
        }
      }
    }
    return true;
  };
}

/** Does a set-based selector object (metav1.LabelSelector) match these labels? */
export function matchLabelSelectorObject(
  sel:
    | {
        matchLabels?: Record<string, string>;
        matchExpressions?: Array<{ key: string; operator: string; values?: string[] }>;
      }
    | undefined,
  labels: Record<string, string> | undefined,
): boolean {
  if (!sel) return false;
  const l = labels ?? {};
  for (const [k, v] of Object.entries(sel.matchLabels ?? {})) if (l[k] !== v) return false;
  for (const e of sel.matchExpressions ?? []) {
    const has = k(l, e.key);
    const vals = e.values ?? [];
    if (e.operator === 'In' && !(has && vals.includes(l[e.key]!))) return false;
    if (e.operator === 'NotIn' && has && vals.includes(l[e.key]!)) return false;
    if (e.operator === 'Exists' && !has) return false;
    if (e.operator === 'DoesNotExist' && has) return false;
  }
  return true;
}
const k = (o: object, key: string) => Object.prototype.hasOwnProperty.call(o, key);

export type FieldSelector = { fields: string[]; match: (obj: KObject) => boolean };

/** Split on unescaped `sep` (fields.splitTerms / splitTerm). */
function splitUnescaped(s: string, sep: string): string[] {
  const out: string[] = [];
  let cur = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c === '\\' && i + 1 < s.length) {
      cur += c + s[++i];
    } else if (c === sep) {
      out.push(cur);
      cur = '';
    } else cur += c;
  }
  out.push(cur);
  return out;
}
const unescape = (s: string) => s.replace(/\\(.)/g, '$1');

/** The string form of a selectable field (ToSelectableFields: bools as "true"/"false", absent as ""). */
export function fieldValue(obj: KObject, path: string): string {
  let cur: unknown = obj;
  for (const p of path.split('.'))
    cur = cur && typeof cur === 'object' ? (cur as Record<string, unknown>)[p] : undefined;
  if (cur === undefined || cur === null) return path === 'spec.hostNetwork' ? 'false' : '';
  return String(cur);
}

/**
 * Parse a field selector against the labels a resource supports; an unsupported label is a 400
 * `field label not supported: x` as the real conversion funcs answer.
 */
export function parseFieldSelector(text: string | null | undefined, supported: string[]): FieldSelector | undefined {
  if (!text || !text.trim()) return undefined;
  const reqs: Array<{ field: string; value: string; neg: boolean }> = [];
  for (const term of splitUnescaped(text, ',')) {
    if (!term) continue;
    const m = /^(.*?)(==|!=|=)(.*)$/s.exec(term);
    if (!m) throw badRequest(`invalid selector: '${text}'; can't understand '${term}'`);
    const field = m[1]!.trim();
    if (!supported.includes(field)) throw badRequest(`field label not supported: ${field}`);
    reqs.push({ field, value: unescape(m[3]!), neg: m[2] === '!=' });
  }
  return {
    fields: reqs.map((r) => r.field),
    match: (obj) => reqs.every((r) => (fieldValue(obj, r.field) === r.value) !== r.neg),
  };
}

/** `metadata.name=x` -> 'x' when the selector pins one name (used to skip full scans). */
export function pinnedName(text: string | null | undefined): string | undefined {
  if (!text) return undefined;
  for (const term of splitUnescaped(text, ',')) {
    const m = /^metadata\.name(==|=)(.*)$/.exec(term.trim());
    if (m) return unescape(m[2]!);
  }
  return undefined;
}
