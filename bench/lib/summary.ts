/**
 * @module bench/lib/summary
 * From raw samples to one summary per case and path: median throughput over the repetitions,
 * p50/p99 over every latency sample, memory growth and peaks, failed streams; then the a/b, a/c
 * (and a/d) comparisons, and the CPU each process used per second of wall time (the utilisation
 * that tells which process limits a path).
 */
import { MiB } from './helpers.js';
import { PATHS, type CaseDef, type PathId, type Sample } from './types.js';

export function percentile(values: number[], q: number): number {
  if (!values.length) return NaN;
  const s = [...values].sort((a, b) => a - b);
  // Nearest rank (the value below which q of the samples fall), as most benchmark tools report.
  const i = Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1));
  return s[i]!;
}

export function median(values: number[]): number {
  return percentile(values, 0.5);
}

export interface PathSummary {
  path: PathId;
  runs: number;
  failures: number;
  errors: string[];
  /** Throughput (MiB/s): median, min, max over the runs. */
  mibps?: number;
  minMibps?: number;
  maxMibps?: number;
  /** Latency (ms). */
  p50?: number;
  p99?: number;
  count?: number;
  /** Memory: the process that matters on this path, its idle and peak RSS (MiB). */
  memProc?: string;
  idleMiB?: number;
  peakMiB?: number;
  growthMiB?: number;
  /** Every tracked process's peak (MiB). */
  peaks?: Record<string, number>;
  /** Concurrency. */
  streams?: number;
  failedStreams?: number;
  /** Concurrency: the growth of the path's process over idle per open stream, worst round (KiB). */
  rssPerStreamKiB?: number;
  /** CPU utilisation per process over the runs (CPU seconds / wall seconds). */
  util?: Record<string, number>;
  /** CPU seconds per GiB moved, per process. */
  cpuPerGiB?: Record<string, number>;
  /** Latency cases: CPU milliseconds per operation, per process. */
  cpuPerOpMs?: Record<string, number>;
}

export interface CaseSummary {
  def: CaseDef;
  paths: Partial<Record<PathId, PathSummary>>;
  /** a/b, a/c, a/d: throughput ratios, or latency differences (ms) at p50. */
  ab?: number;
  ac?: number;
  ad?: number;
  /** Path a against every other path as a plain ratio: throughput a/x, or latency p50 a/x. */
  ratio: Partial<Record<PathId, number>>;
}

/** The process whose memory matters on a path. */
function memProcOf(p: PathId): string {
  return { a: 'kuber-api', b: 'kube-sim', c: 'raw proxy', d: 'docker host', e: 'CLI ceiling', f: 'node floor' }[p];
}

export function summarise(defs: CaseDef[], samples: Sample[]): CaseSummary[] {
  return defs.map((def) => {
    const paths: Partial<Record<PathId, PathSummary>> = {};
    for (const p of PATHS) {
      const ss = samples.filter((s) => s.case === def.id && s.path === p);
      if (!ss.length) continue;
      const ok = ss.filter((s) => s.ok);
      const ps: PathSummary = {
        path: p,
        runs: ss.length,
        failures: ss.length - ok.length,
        errors: [...new Set(ss.filter((s) => !s.ok).map((s) => s.error ?? 'failed'))],
      };
      if (def.metric === 'throughput' || def.metric === 'concurrency' || def.metric === 'memory') {
        const rates = ok.filter((s) => s.bytes && s.seconds).map((s) => s.bytes! / MiB / s.seconds!);
        if (rates.length) {
          ps.mibps = median(rates);
          ps.minMibps = Math.min(...rates);
          ps.maxMibps = Math.max(...rates);
        }
        const wall = ok.reduce((t, s) => t + (s.seconds ?? 0), 0);
        const gib = ok.reduce((t, s) => t + (s.bytes ?? 0), 0) / (1024 * MiB);
        if (wall > 0) {
          const cpu: Record<string, number> = {};
          for (const s of ok) for (const [k, v] of Object.entries(s.cpu ?? {})) cpu[k] = (cpu[k] ?? 0) + v;
          ps.util = Object.fromEntries(Object.entries(cpu).map(([k, v]) => [k, v / wall]));
          if (gib > 0) ps.cpuPerGiB = Object.fromEntries(Object.entries(cpu).map(([k, v]) => [k, v / gib]));
        }
      }
      if (def.metric === 'latency') {
        const all = ok.flatMap((s) => s.latenciesMs ?? []);
        if (all.length) {
          ps.p50 = percentile(all, 0.5);
          ps.p99 = percentile(all, 0.99);
          ps.count = all.length;
          const cpu: Record<string, number> = {};
          for (const s of ok) for (const [k, v] of Object.entries(s.cpu ?? {})) cpu[k] = (cpu[k] ?? 0) + v;
          if (Object.keys(cpu).length)
            ps.cpuPerOpMs = Object.fromEntries(Object.entries(cpu).map(([k, v]) => [k, (v / all.length) * 1000]));
        }
        const rss = ok.filter((s) => s.rssKiB).map((s) => s.rssKiB! / 1024);
        if (rss.length) {
          ps.idleMiB = median(rss);
          ps.peakMiB = Math.max(...rss);
        }
      }
      if (def.metric === 'memory') {
        const proc = memProcOf(p);
        const withMem = ss.filter((s) => s.mem?.[proc]);
        if (withMem.length) {
          ps.memProc = proc;
          ps.idleMiB = Math.min(...withMem.map((s) => s.mem![proc]!.idleKiB)) / 1024;
          ps.peakMiB = Math.max(...withMem.map((s) => s.mem![proc]!.peakKiB)) / 1024;
          ps.growthMiB = Math.max(...withMem.map((s) => (s.mem![proc]!.peakKiB - s.mem![proc]!.idleKiB) / 1024));
        }
        const peaks: Record<string, number> = {};
        for (const s of ss)
          for (const [k, m] of Object.entries(s.mem ?? {})) peaks[k] = Math.max(peaks[k] ?? 0, m.peakKiB / 1024);
        ps.peaks = peaks;
      }
      if (def.metric === 'concurrency') {
        ps.streams = ss.reduce((t, s) => t + (s.streams ?? 0), 0);
        ps.failedStreams = ss.reduce((t, s) => t + (s.failed ?? (s.ok ? 0 : (s.streams ?? 1))), 0);
        const proc = memProcOf(p);
        const per = ss
          .filter((s) => s.mem?.[proc] && s.streams)
          .map((s) => (s.mem![proc]!.peakKiB - s.mem![proc]!.idleKiB) / s.streams!);
        if (per.length) {
          ps.rssPerStreamKiB = Math.max(0, ...per);
          ps.memProc = proc;
        }
      }
      paths[p] = ps;
    }
    const cs: CaseSummary = { def, paths, ratio: {} };
    const a = paths.a;
    const cmp = (o: PathSummary | undefined): number | undefined => {
      if (!a || !o) return undefined;
      if (def.metric === 'latency') return a.p50 !== undefined && o.p50 !== undefined ? a.p50 - o.p50 : undefined;
      if (def.metric === 'memory') return undefined;
      return a.mibps !== undefined && o.mibps ? a.mibps / o.mibps : undefined;
    };
    cs.ab = cmp(paths.b);
    cs.ac = cmp(paths.c);
    cs.ad = cmp(paths.d);
    for (const p of PATHS) {
      const o = paths[p];
      if (!a || !o || p === 'a') continue;
      const v =
        def.metric === 'latency'
          ? a.p50 !== undefined && o.p50
            ? a.p50 / o.p50
            : undefined
          : a.mibps !== undefined && o.mibps
            ? a.mibps / o.mibps
            : undefined;
      if (v !== undefined) cs.ratio[p] = v;
    }
    return cs;
  });
}

/** One cell of the table: the number that matters for the case's metric on a path. */
export function cell(cs: CaseSummary, p: PathId): string {
  const ps = cs.paths[p];
  if (!ps) return '';
  const fail = ps.failures ? ` ✗${ps.failures}/${ps.runs}` : '';
  switch (cs.def.metric) {
    case 'throughput':
      return ps.mibps !== undefined ? `${fmt(ps.mibps)} MiB/s${fail}` : `failed${fail}`;
    case 'latency':
      return ps.p50 !== undefined
        ? `${fmt(ps.p50, 2)} / ${fmt(ps.p99!, 2)} ms${ps.idleMiB !== undefined ? `, RSS ${fmt(ps.idleMiB, 0)} MiB` : ''}${fail}`
        : `failed${fail}`;
    case 'memory':
      if (ps.peakMiB !== undefined)
        return `${ps.memProc} +${fmt(ps.growthMiB!, 1)} (peak ${fmt(ps.peakMiB, 0)}) MiB${fail}`;
      return ps.failures < ps.runs ? `verified, RSS not tracked${fail}` : `failed${fail}`;
    case 'concurrency':
      return ps.mibps !== undefined || ps.failedStreams
        ? `${ps.mibps !== undefined ? fmt(ps.mibps) + ' MiB/s, ' : ''}${ps.failedStreams}/${ps.streams} failed${ps.rssPerStreamKiB !== undefined ? `, +${fmt(ps.rssPerStreamKiB, 0)} KiB/stream` : ''}`
        : `failed${fail}`;
  }
}

export function ratioCell(cs: CaseSummary, v: number | undefined): string {
  if (v === undefined || Number.isNaN(v)) return '';
  if (cs.def.metric === 'latency') return `${v >= 0 ? '+' : ''}${fmt(v, 2)} ms`;
  return `${v.toFixed(2)}×`;
}

export function fmt(v: number, digits?: number): string {
  if (!Number.isFinite(v)) return String(v);
  const d = digits ?? (Math.abs(v) >= 100 ? 0 : Math.abs(v) >= 10 ? 1 : 2);
  return v.toFixed(d);
}
