/**
 * @module bench/prof
 * Summarise `node --cpu-prof` profiles (what `npm run bench -- --cpu-prof` writes for kuber-api
 * and kube-sim): self time per function and per file, busiest first, so the hot spots of a
 * scenario can be read without a browser.
 *
 *   node dist/bench/prof.js <file.cpuprofile | dir> [--top N] [--filter substring] [--callers fn]
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: Node[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

export function summarise(p: Profile): { total: number; byFn: Map<string, number>; byFile: Map<string, number> } {
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  for (let i = 0; i < p.samples.length; i++)
    self.set(p.samples[i]!, (self.get(p.samples[i]!) ?? 0) + (p.timeDeltas[i] ?? 0));
  const byFn = new Map<string, number>();
  const byFile = new Map<string, number>();
  let total = 0;
  for (const [id, us] of self) {
    const n = byId.get(id)!;
    const url = n.callFrame.url.replace(/^file:\/\//, '').replace(/.*\/(dist|node_modules)\//, '$1/');
    const fn =
      `${n.callFrame.functionName || '(anonymous)'} ${url ? `${url}:${n.callFrame.lineNumber + 1}` : ''}`.trim();
    byFn.set(fn, (byFn.get(fn) ?? 0) + us);
    const file = url || `(${n.callFrame.functionName})`;
    byFile.set(file, (byFile.get(file) ?? 0) + us);
    total += us;
  }
  return { total, byFn, byFile };
}

/** Who calls `fn`: self time of `fn` by the chain of its callers (up to `depth` frames). */
export function callers(p: Profile, fn: string, depth = 4): Map<string, number> {
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const out = new Map<string, number>();
  for (let i = 0; i < p.samples.length; i++) {
    const n = byId.get(p.samples[i]!)!;
    if (n.callFrame.functionName !== fn) continue;
    const chain: string[] = [];
    let id = parent.get(n.id);
    while (id !== undefined && chain.length < depth) {
      const f = byId.get(id)!.callFrame;
      chain.push(`${f.functionName || '(anon)'}@${f.url.replace(/.*\//, '')}:${f.lineNumber + 1}`);
      id = parent.get(id);
    }
    const k = chain.join(' < ');
    out.set(k, (out.get(k) ?? 0) + (p.timeDeltas[i] ?? 0));
  }
  return out;
}

function print(name: string, p: Profile, top: number, filter?: string, callersOf?: string): void {
  if (callersOf) {
    const m = callers(p, callersOf, 14);
    const total = [...m.values()].reduce((a, b) => a + b, 0);
    console.log(`\n== ${name}: callers of ${callersOf} (${(total / 1e6).toFixed(2)} s)`);
    for (const [k, us] of [...m].sort((a, b) => b[1] - a[1]).slice(0, top))
      console.log(`${((us / total) * 100).toFixed(1).padStart(5)}%  ${k}`);
    return;
  }
  const s = summarise(p);
  const wall = (p.endTime - p.startTime) / 1e6;
  const busy = s.total - (s.byFn.get('(idle)') ?? 0);
  console.log(
    `\n== ${name}: ${wall.toFixed(1)} s profiled, ${(busy / 1e6).toFixed(1)} s on CPU (${((busy / 1e6 / wall) * 100).toFixed(0)}%)`,
  );
  const show = (title: string, m: Map<string, number>) => {
    console.log(`-- ${title}`);
    const rows = [...m]
      .filter(([k]) => !k.includes('(idle)') && (!filter || k.includes(filter)))
      .sort((a, b) => b[1] - a[1])
      .slice(0, top);
    for (const [k, us] of rows)
      console.log(`${((us / busy) * 100).toFixed(1).padStart(5)}%  ${(us / 1e6).toFixed(2).padStart(7)} s  ${k}`);
  };
  show('self time by function', s.byFn);
  show('self time by file', s.byFile);
}

const isMain = process.argv[1] && basename(process.argv[1]) === 'prof.js';
if (isMain) {
  const args = process.argv.slice(2);
  const topI = args.indexOf('--top');
  const top = topI >= 0 ? Number(args[topI + 1]) : 25;
  const fI = args.indexOf('--filter');
  const filter = fI >= 0 ? args[fI + 1] : undefined;
  const cI = args.indexOf('--callers');
  const callersOf = cI >= 0 ? args[cI + 1] : undefined;
  const targets = args.filter(
    (a, i) => !a.startsWith('--') && !['--top', '--filter', '--callers'].includes(args[i - 1]!),
  );
  if (!targets.length) {
    console.error('usage: node dist/bench/prof.js <file.cpuprofile | dir> [--top N] [--filter substring]');
    process.exit(2);
  }
  for (const t of targets) {
    const files = statSync(t).isDirectory()
      ? readdirSync(t)
          .filter((f) => f.endsWith('.cpuprofile'))
          .map((f) => join(t, f))
      : [t];
    for (const f of files) print(f, JSON.parse(readFileSync(f, 'utf8')) as Profile, top, filter, callersOf);
  }
}
