/**
 * @module bench/micro/log-lines
 * Throughput of the pods/log -> Docker log paths, in memory (a sink that only counts bytes), so the
 * numbers are the CPU cost of the stream layer alone. Input: timestamped lines of ~100 bytes in
 * 16 KiB chunks (a kubelet log response's write size is of that order).
 *
 *   node dist/bench/micro/log-lines.js [--quick] [--rounds N]
 *
 * Rows: `scan floor` (indexOf over every line, no output: the least any per-line pass costs),
 * pass-through, keep+until (per line, no copy), strip (per line, one copy), and the merge of two
 * streams with strictly alternating timestamps (worst case: a frame per line) and with runs of 64
 * lines, kept and stripped, and of stdout alone (stderr quiet: what the benchmark's producer writes).
 */
import { LogFramer } from '../../src/stream/log-frames.js';
import { LogMerger } from '../../src/stream/log-merge.js';
import { timestampKey } from '../../src/stream/log-lines.js';
import { MiB, best, mibps, machine, table } from './util.js';

const quick = process.argv.includes('--quick');
const ri = process.argv.indexOf('--rounds');
const rounds = ri > 0 ? Number(process.argv[ri + 1]) : quick ? 1 : 5;
const TOTAL = (quick ? 8 : 64) * MiB;
const CHUNK = 16 * 1024;

function ts(n: number): string {
  // n in microseconds from 2026-01-02T00:00:00Z, fixed width like the kubelet's RFC3339NanoFixed.
  const s = Math.floor(n / 1e6);
  const h = Math.floor(s / 3600) % 24;
  const m = Math.floor(s / 60) % 60;
  return `2026-01-02T${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}.${String((n % 1e6) * 1000).padStart(9, '0')}Z`;
}

/** `bytes` of timestamped lines whose times come from `tsOf(i)`. */
function lines(bytes: number, tsOf: (i: number) => number): Buffer {
  const parts: string[] = [];
  let len = 0;
  for (let i = 0; len < bytes; i++) {
    const l = `${ts(tsOf(i))} INFO request ${i} served in ${i % 997} ms path=/api/v1/items/${i % 8191}\n`;
    parts.push(l);
    len += l.length;
  }
  return Buffer.from(parts.join(''));
}

function chunks(b: Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < b.length; i += CHUNK) out.push(b.subarray(i, i + CHUNK));
  return out;
}

const counting = () => {
  const s = {
    n: 0,
    write(b: Uint8Array) {
      s.n += b.length;
      return true;
    },
    once() {},
    removeListener() {},
  };
  return s;
};
const noop = { pause() {}, resume() {} };

const single = chunks(lines(TOTAL, (i) => i * 10));
const until = timestampKey('2026-01-03T00:00:00Z')!;
// Merge inputs: half the bytes each side. Alternating: stdout even, stderr odd ticks.
const altOut = chunks(lines(TOTAL / 2, (i) => i * 20));
const altErr = chunks(lines(TOTAL / 2, (i) => i * 20 + 10));
// Runs of 64 lines per side.
const runOut = chunks(lines(TOTAL / 2, (i) => (Math.floor(i / 64) * 128 + (i % 64)) * 10));
const runErr = chunks(lines(TOTAL / 2, (i) => (Math.floor(i / 64) * 128 + 64 + (i % 64)) * 10));

function framer(opts: ConstructorParameters<typeof LogFramer>[1]) {
  return () => {
    const s = counting();
    const f = new LogFramer(s, opts);
    for (const c of single) f.push(c);
    f.end();
    return s.n;
  };
}

function merge(a: Buffer[], b: Buffer[], keep: boolean) {
  return () => {
    const s = counting();
    const m = new LogMerger(s, [noop, noop], { keepTimestamps: keep, highWater: Infinity });
    // A side with no input at all ends first (a producer writing only stdout: its stderr body
    // ends, or stays quiet past holdMs in follow mode; both let the other side flow unmerged).
    if (b.length === 0) m.end(1);
    // Interleave the two inputs chunk by chunk, as two sockets would deliver them.
    for (let i = 0; i < Math.max(a.length, b.length); i++) {
      if (i < a.length) m.push(0, a[i]!);
      if (i < b.length) m.push(1, b[i]!);
    }
    m.end(0);
    m.end(1);
    return s.n;
  };
}

const cases: [string, () => number][] = [
  [
    'scan floor (indexOf per line)',
    () => {
      let n = 0;
      for (const c of single) for (let i = c.indexOf(10); i >= 0; i = c.indexOf(10, i + 1)) n++;
      return n;
    },
  ],
  ['pass-through (chunk = frame)', framer({})],
  ['keep + until (per line)', framer({ timestamped: true, keepTimestamps: true, until })],
  ['strip (per line)', framer({ timestamped: true })],
  ['merge alternating, keep', merge(altOut, altErr, true)],
  ['merge alternating, strip', merge(altOut, altErr, false)],
  ['merge runs of 64, keep', merge(runOut, runErr, true)],
  ['merge runs of 64, strip', merge(runOut, runErr, false)],
  ['merge stdout only, keep', merge(single, [], true)],
  ['merge stdout only, strip', merge(single, [], false)],
];

const res: Record<string, number[]> = {};
for (let r = 0; r < rounds; r++) {
  for (const [name, fn] of r % 2 ? [...cases].reverse() : cases) {
    // CPU time of this process: steadier than wall time when other jobs share the cores.
    const c0 = process.cpuUsage();
    fn();
    const c = process.cpuUsage(c0);
    const ms = (c.user + c.system) / 1000;
    (res[name] ??= []).push(mibps(TOTAL, ms));
  }
}
console.log(
  `log line paths, in memory, ${TOTAL / MiB} MiB of ~100-byte timestamped lines in ${CHUNK / 1024} KiB chunks, MiB per CPU-second, best of ${rounds} (a shared machine: the least disturbed run)`,
);
console.log(machine());
const floor = best(res[cases[0]![0]]!);
console.log(
  table([['path', 'input MiB/s', 'vs scan floor'], ...cases.map(([n]) => [n, best(res[n]!), best(res[n]!) / floor])]),
);
