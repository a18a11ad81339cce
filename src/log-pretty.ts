/**
 * @module log-pretty
 * pino's JSON lines as a person reads them: `HH:MM:SS.mmm LEVEL message key=value ...` (local
 * time; the name, pid and hostname left out; an error's stack indented below its line).
 * pino calls `write()` with one serialised line at a time, so this is a plain sink, not a
 * transport: no worker thread and no dependency.
 */
const LEVELS: Record<number, [string, string]> = {
  10: ['TRACE', '\x1b[90m'],
  20: ['DEBUG', '\x1b[36m'],
  30: ['INFO ', '\x1b[32m'],
  40: ['WARN ', '\x1b[33m'],
  50: ['ERROR', '\x1b[31m'],
  60: ['FATAL', '\x1b[41m'],
};
const RESET = '\x1b[0m';
const DIM = '\x1b[2m';
const SKIP = new Set(['level', 'time', 'msg', 'pid', 'hostname', 'name', 'v']);

interface Sink {
  write(s: string): unknown;
}

function value(v: unknown): string {
  if (typeof v === 'string') return /^[^\s"=]+$/.test(v) ? v : JSON.stringify(v);
  return JSON.stringify(v) ?? String(v);
}

function clock(t: number): string {
  const d = new Date(t);
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${p(d.getMilliseconds(), 3)}`;
}

/** One pino JSON line -> one readable line (plus an indented stack); anything unparsable passes through. */
export function prettyLine(line: string, color = false): string {
  let o: Record<string, unknown>;
  try {
    o = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line.endsWith('\n') ? line : line + '\n';
  }
  const [name, tint] = LEVELS[o.level as number] ?? [String(o.level).toUpperCase().padEnd(5), ''];
  const c = (code: string, s: string) => (color && code ? `${code}${s}${RESET}` : s);
  let stack = '';
  const fields: string[] = [];
  for (const [k, v] of Object.entries(o)) {
    if (SKIP.has(k) || v === undefined) continue;
    if (k === 'err' && v && typeof v === 'object') {
      const e = v as { message?: string; stack?: string };
      fields.push(`err=${value(e.message ?? '')}`);
      if (e.stack)
        stack =
          '\n' +
          e.stack
            .split('\n')
            .slice(1)
            .map((l) => `    ${l.trim()}`)
            .join('\n');
      continue;
    }
    fields.push(`${k}=${value(v)}`);
  }
  const time = typeof o.time === 'number' ? clock(o.time) : '';
  const rest = fields.length ? ' ' + c(DIM, fields.join(' ')) : '';
  return `${c(DIM, time)} ${c(tint, name)} ${String(o.msg ?? '')}${rest}${c(DIM, stack)}\n`;
}

export class PrettyStream {
  constructor(
    private readonly out: Sink,
    private readonly opts: { color: boolean },
  ) {}

  write(chunk: string): boolean {
    // pino writes one line per call; split anyway, in case a caller batches.
    let text = '';
    for (const line of chunk.split('\n')) if (line) text += prettyLine(line, this.opts.color);
    this.out.write(text);
    return true;
  }
}
