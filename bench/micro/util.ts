/**
 * @module bench/micro/util
 * Tiny helpers shared by the micro benchmarks: timing, medians, MiB/s and a plain-text table.
 * Each benchmark prints the machine line first so a pasted table says where it ran.
 */
import os from 'node:os';

export const MiB = 1024 * 1024;

/** Median of a list of numbers. */
export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** The largest value: for throughput on a shared machine, the least disturbed run. */
export function best(xs: number[]): number {
  return Math.max(...xs);
}

/** MiB per second for `bytes` in `ms`. */
export function mibps(bytes: number, ms: number): number {
  return bytes / MiB / (ms / 1000);
}

/** Run `fn` synchronously `iters` times and return the elapsed milliseconds. */
export function timeSync(fn: () => void): number {
  const t0 = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

/** One line naming the machine and runtime. */
export function machine(): string {
  const cpu = os.cpus()[0]?.model ?? 'unknown cpu';
  return `${cpu} x${os.cpus().length}, Node ${process.version}, ${os.platform()} ${os.release()}`;
}

/** Print rows as an aligned table (first row is the header). */
export function table(rows: (string | number)[][]): string {
  const cells = rows.map((r) => r.map((c) => (typeof c === 'number' ? fmt(c) : c)));
  const widths = cells[0]!.map((_, i) => Math.max(...cells.map((r) => r[i]!.length)));
  const line = (r: string[]) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  const out = [line(cells[0]!), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.slice(1).map(line)];
  return out.join('\n');
}

function fmt(n: number): string {
  if (Number.isInteger(n)) return String(n);
  if (Math.abs(n) >= 100) return n.toFixed(0);
  if (Math.abs(n) >= 10) return n.toFixed(1);
  return n.toFixed(2);
}

/** Human size label: 16 B, 4 KiB, 1 MiB. */
export function sizeLabel(n: number): string {
  if (n >= MiB) return `${n / MiB} MiB`;
  if (n >= 1024) return `${n / 1024} KiB`;
  return `${n} B`;
}
