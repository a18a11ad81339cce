/**
 * @module bench/lib/report
 * What a run leaves behind: the terminal table, the markdown of bench/RESULTS.md (machine, date,
 * command, table, targets met or measured gaps with what limits them, CPU per GiB, the kept
 * optimisations and the caveats), built from the summaries alone so that any results.json can be
 * turned into a report again (`node dist/bench/run.js --report results.json`).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { cell, fmt, ratioCell, type CaseSummary, type PathSummary } from './summary.js';
import { PATH_LABEL, type PathId } from './types.js';
import { ROOT } from './procs.js';

export interface Meta {
  date: string;
  command: string;
  commit: string;
  cpu: string;
  cores: number;
  memGiB: number;
  node: string;
  kernel: string;
  loadStart: number[];
  loadEnd: number[];
  mode: string;
  durationS: number;
  options: Record<string, unknown>;
}

function columns(cases: CaseSummary[]): PathId[] {
  return (['a', 'b', 'c', 'd'] as PathId[]).filter((p) => cases.some((c) => c.paths[p]));
}

function rows(cases: CaseSummary[]): { head: string[]; body: string[][] } {
  const cols = columns(cases);
  const hasD = cols.includes('d');
  const head = ['case', ...cols.map((p) => `(${p}) ${PATH_LABEL[p]}`), 'a/b', 'a/c', ...(hasD ? ['a/d'] : [])];
  const body = cases.map((c) => [c.def.id, ...cols.map((p) => cell(c, p)), ratioCell(c, c.ab), ratioCell(c, c.ac), ...(hasD ? [ratioCell(c, c.ad)] : [])]);
  return { head, body };
}

export function terminalTable(cases: CaseSummary[]): string {
  const { head, body } = rows(cases);
  const w = head.map((h, i) => Math.max(h.length, ...body.map((r) => r[i]!.length)));
  const line = (r: string[]) => r.map((x, i) => (i === 0 ? x.padEnd(w[i]!) : x.padStart(w[i]!))).join('  ');
  return [line(head), w.map((n) => '─'.repeat(n)).join('  '), ...body.map(line)].join('\n');
}

export function markdownTable(cases: CaseSummary[]): string {
  const { head, body } = rows(cases);
  return [`| ${head.join(' | ')} |`, `|${head.map((_, i) => (i === 0 ? ':--' : '--:')).join('|')}|`, ...body.map((r) => `| ${r.map((x) => x.replace(/\|/g, '\\|')).join(' | ')} |`)].join('\n');
}

export interface TargetRow {
  target: string;
  measured: string;
  met: boolean | undefined;
  limit: string;
}

/** Which process limits path `p` of a case: utilisation (cores) per process, busiest first. */
export function limitOf(ps: PathSummary | undefined, cores: number): string {
  if (!ps?.util) return '';
  const machine = ps.util['machine'];
  const u = Object.entries(ps.util).filter(([k, v]) => k !== 'machine' && v >= 0.05).sort((x, y) => y[1] - x[1]);
  const ours = u.reduce((t, [, v]) => t + v, 0);
  const parts = u.map(([k, v]) => `${k} ${fmt(v, 2)}`).join(', ');
  const busiest = u[0];
  let verdict = '';
  if (busiest && busiest[1] >= 0.85) verdict = `${busiest[0]} is CPU-bound (${Math.round(busiest[1] * 100)}% of a core, one JS thread); `;
  if (machine !== undefined && machine >= cores * 0.9) {
    verdict += `the machine's ${cores} cores were saturated (${fmt(machine, 2)} busy, ${fmt(Math.max(0, machine - ours), 2)} of them by other work on the machine); `;
  }
  return `${verdict}cores busy: ${parts}${machine !== undefined ? `; whole machine ${fmt(machine, 2)}` : ''}`;
}

/** How busy the simulator was when serving the same work directly (path b). */
function simOnB(c: CaseSummary): string {
  const u = c.paths.b?.util;
  if (!u || u['kube-sim'] === undefined) return '';
  return `; path b: kube-sim ${fmt(u['kube-sim'], 2)} + its pods ${fmt(u['pods'] ?? 0, 2)} cores`;
}

export function targets(cases: CaseSummary[], meta: Meta): TargetRow[] {
  const out: TargetRow[] = [];
  const find = (pred: (c: CaseSummary) => boolean) => cases.filter(pred);
  const ratioRow = (c: CaseSummary, v: number | undefined, min: number, what: string) => {
    out.push({
      target: `${c.def.id}: ${what} ≥ ${min}×`,
      measured: v === undefined ? 'not measured' : `${v.toFixed(2)}×`,
      met: v === undefined ? undefined : v >= min,
      limit: v !== undefined && v < min ? `${limitOf(c.paths.a, meta.cores)}${simOnB(c)}` : '',
    });
  };
  for (const c of find((c) => c.def.group === 'logs')) {
    ratioRow(c, c.ab, 0.9, 'a/b (direct)');
    ratioRow(c, c.ac, 0.7, 'a/c (raw)');
  }
  for (const c of find((c) => c.def.group === 'attach' || c.def.group === 'exec')) ratioRow(c, c.ab, 0.85, 'a/b (direct)');
  for (const c of find((c) => c.def.group === 'roundtrip')) {
    out.push({
      target: `${c.def.id}: p50 overhead over direct ≤ 1 ms`,
      measured: c.ab === undefined ? 'not measured' : `${c.ab >= 0 ? '+' : ''}${fmt(c.ab, 2)} ms (a ${fmt(c.paths.a!.p50!, 2)} ms, b ${fmt(c.paths.b!.p50!, 2)} ms)`,
      met: c.ab === undefined ? undefined : c.ab <= 1,
      limit: '',
    });
  }
  for (const c of find((c) => c.def.group === 'backpressure')) {
    const a = c.paths.a;
    const mib = Number(meta.options.slowMiB ?? 0);
    out.push({
      target: `${c.def.id}: kuber-api RSS growth ≤ 32 MiB while ${mib >= 1024 ? `${mib / 1024} GiB` : `${mib} MiB`} goes to a slow reader`,
      measured: a?.growthMiB === undefined ? 'not measured' : `+${fmt(a.growthMiB, 1)} MiB (idle ${fmt(a.idleMiB!, 0)}, peak ${fmt(a.peakMiB!, 0)} MiB)${a.failures ? `, ${a.failures} failed` : ''}`,
      met: a?.growthMiB === undefined ? undefined : a.growthMiB <= 32 && !a.failures && mib >= 1024 ? true : a.growthMiB <= 32 && !a.failures ? undefined : false,
      limit: '',
    });
  }
  for (const c of find((c) => c.def.group === 'concurrency')) {
    const a = c.paths.a;
    out.push({
      target: `${c.def.id}: zero errors, every checksum correct`,
      measured: a?.streams === undefined ? 'not measured' : `${a.failedStreams} of ${a.streams} streams failed${a.errors.length ? ` (${a.errors[0]})` : ''}`,
      met: a?.streams === undefined ? undefined : a.failedStreams === 0,
      limit: '',
    });
  }
  return out;
}

function targetsMarkdown(rowsT: TargetRow[]): string {
  const status = (r: TargetRow) => (r.met === true ? '**met**' : r.met === false ? '**gap**' : 'not judged');
  return [
    '| target | measured | status | what limits it (path a, CPU cores busy per process) |',
    '|:--|:--|:--|:--|',
    ...rowsT.map((r) => `| ${r.target} | ${r.measured} | ${status(r)} | ${r.limit.replace(/\|/g, '\\|')} |`),
  ].join('\n');
}

export function cpuMarkdown(cases: CaseSummary[]): string {
  const procs = new Set<string>();
  for (const c of cases) for (const ps of Object.values(c.paths)) for (const k of Object.keys(ps?.cpuPerGiB ?? {})) procs.add(k);
  const order = ['kuber-api', 'kube-sim', 'pods', 'raw proxy', 'raw producer', 'docker host', 'harness', 'machine'].filter((p) => procs.has(p));
  const lines = [`| case | path | ${order.join(' | ')} | wall s/GiB |`, `|:--|:--|${order.map(() => '--:').join('|')}|--:|`];
  for (const c of cases) {
    if (c.def.metric !== 'throughput' && c.def.metric !== 'concurrency') continue;
    for (const p of ['a', 'b', 'c', 'd'] as PathId[]) {
      const ps = c.paths[p];
      if (!ps?.cpuPerGiB || !ps.mibps) continue;
      lines.push(`| ${c.def.id} | ${p} | ${order.map((k) => fmt(ps.cpuPerGiB![k] ?? 0, 2)).join(' | ')} | ${fmt(1024 / ps.mibps, 2)} |`);
    }
  }
  return lines.join('\n');
}

/** Latency cases: CPU milliseconds per operation (exec round trip, keystroke, docker ps...). */
export function cpuOpMarkdown(cases: CaseSummary[]): string {
  const procs = new Set<string>();
  for (const c of cases) for (const ps of Object.values(c.paths)) for (const k of Object.keys(ps?.cpuPerOpMs ?? {})) procs.add(k);
  const order = ['kuber-api', 'kube-sim', 'pods', 'raw proxy', 'raw producer', 'docker host', 'harness', 'machine'].filter((p) => procs.has(p));
  const lines = [`| case | path | ${order.join(' | ')} | p50 ms |`, `|:--|:--|${order.map(() => '--:').join('|')}|--:|`];
  for (const c of cases) {
    if (c.def.metric !== 'latency') continue;
    for (const p of ['a', 'b', 'c', 'd'] as PathId[]) {
      const ps = c.paths[p];
      if (!ps?.cpuPerOpMs || ps.p50 === undefined) continue;
      lines.push(`| ${c.def.id} | ${p} | ${order.map((k) => fmt(ps.cpuPerOpMs![k] ?? 0, 2)).join(' | ')} | ${fmt(ps.p50, 2)} |`);
    }
  }
  return lines.join('\n');
}

function include(name: string): string {
  const p = join(ROOT, 'bench', name);
  return existsSync(p) ? readFileSync(p, 'utf8').trim() : '';
}

export function resultsMarkdown(cases: CaseSummary[], meta: Meta, charts: { throughput: string; latency: string }): string {
  const o = meta.options;
  const tRows = targets(cases, meta);
  const met = tRows.filter((r) => r.met === true).length;
  const gaps = tRows.filter((r) => r.met === false).length;
  const optimisations = include('optimisations.md');
  const analysis = include('analysis.md');
  return `# kuber-api benchmark results

Generated by the benchmark harness (bench/run.ts) from one full run. **Do not edit by hand**: run the
command below again (the hand-written parts come from bench/analysis.md and bench/optimisations.md).

- **Command:** \`${meta.command}\`
- **Date:** ${meta.date} (${fmt(meta.durationS / 60, 1)} minutes) · **commit** ${meta.commit}
- **Machine:** ${meta.cpu}, ${meta.cores} cores, ${meta.memGiB} GiB RAM · Linux ${meta.kernel} · Node ${meta.node}
- **Load average** (1/5/15 min) at the start: ${meta.loadStart.join(' / ')}, at the end: ${meta.loadEnd.join(' / ')}
- **Mode:** ${meta.mode}
- **Sizes:** ${o.sizeMiB} MiB per log stream, ${o.streamMiB} MiB per attach/exec stream, ${o.reps} repetitions per path; ${o.samples} latency samples per path; ${o.concurrency} concurrent streams of ${o.concMiB} MiB; slow reader ${o.slowMiB} MiB at ${o.slowMiBps} MiB/s; \`docker ps\` with ${o.psContainers} containers

## Run it yourself

\`\`\`sh
npm run bench                                  # every scenario on a local kube-sim; rewrites this file
npm run bench -- logs                          # one scenario (control, logs, attach, exec, roundtrip, echo, backpressure, concurrency)
npm run bench -- --quick                       # a few seconds per scenario (the CI smoke test)
KUBECONFIG=~/.kube/config npm run bench -- --cluster [--namespace NS]   # the same against a real cluster
npm run bench -- --docker-host unix:///var/run/docker.sock              # add path (d): the same Docker calls on a Docker engine
npm run bench -- logs --cpu-prof && node dist/bench/prof.js bench/out/latest/prof   # where kuber-api's CPU goes
\`\`\`

Raw samples, the table and the charts of every run go to \`bench/out/<date>/\` (\`bench/out/latest\`).

## Method

Every scenario does the same work three ways in one run, in alternating order (a, b, c, a, b, c...):

- **(a) kuber-api**: a Docker API client (bench/lib/docker-client.ts: node:http, the docker CLI's hijack for attach/exec, its own stdcopy demuxer) against kuber-api, which talks to the cluster over TLS;
- **(b) direct Kubernetes**: the same log stream (pods/log) or the same exec/attach (pods/exec, pods/attach over WebSocket v5 with \`ws\`) on the Pod behind the same container, straight to the apiserver;
- **(c) raw TCP**: the same bytes from a local producer process through a bare Node.js \`net\` pass-through process (\`pipe\` both ways): the ceiling of any Node proxy on this machine;${o.dockerHost ? `\n- **(d) docker host**: the same Docker API calls against \`${o.dockerHost}\`;` : ''}

Each path is a separate process (the harness, kuber-api, kube-sim, the proxy, the producer), so none shares an event loop. Every byte of every stream is compared with a locally generated model of what the busybox producer writes (1 MiB blocks of 128-byte lines, each block numbered, so a lost, duplicated or reordered block fails too; timestamps are checked for their shape), and exit codes are checked. Throughput is the verified payload over the wall time from the request to the last byte (median of the repetitions); latency percentiles are over all samples. CPU is read from /proc/<pid>/stat around every run (\`pods\` = kube-sim's sandboxed processes: the busybox producers).

## Results

${markdownTable(cases)}

Throughput cells are the median MiB/s; latency cells are p50 / p99; memory cells are the RSS growth over idle and the peak of the process that matters on that path (kuber-api on a, kube-sim on b, the proxy on c); ✗n/m marks failed runs.

![throughput](${charts.throughput})

![latency](${charts.latency})

## Targets (issue 5)

${met} met, ${gaps} measured gaps.

${targetsMarkdown(tRows)}

## Where the CPU goes (CPU seconds per GiB moved)

A single Node process saturates at 1.00 core. When kube-sim (the simulator) stays well below that on path a and b, the simulator is not what limits kuber-api's numbers. \`machine\` is the whole machine's busy CPU time over the same runs (every process, including other people's work on this shared machine): when it approaches the core count per wall second, every path was starved.

${cpuMarkdown(cases)}

CPU milliseconds per operation for the latency cases (sums over all samples, read in 10 ms ticks, divided by the sample count):

${cpuOpMarkdown(cases)}
${analysis ? `\n## Analysis\n\n${analysis}\n` : ''}
## Optimisations kept

${optimisations || '(none recorded yet)'}

## Caveats

${caveats(meta)}
`;
}

function caveats(meta: Meta): string {
  const busy = meta.loadStart[0]! > meta.cores * 0.5 || meta.loadEnd[0]! > meta.cores * 0.5;
  return [
    `This machine has ${meta.cores} cores for everything: the harness (load generator and verifier), kuber-api, kube-sim, the busybox producers it runs under bubblewrap, and the raw proxy and producer all compete for them, so a path with more processes pays for the others' CPU. A real deployment has kuber-api, the apiserver, the kubelet and the container on different cores or machines; the ratios here are therefore a conservative view of kuber-api's own cost, and absolute MiB/s say little about a real cluster.`,
    `kube-sim is a simulator: its apiserver and kubelet are one Node process, and it serves logs from its own record format rather than CRI files, so path (b) is "the same Kubernetes API, as fast as this simulator serves it", not a kube-apiserver's speed. Path (c) has no TLS, no HTTP and no framing: it is a ceiling, not a peer.`,
    busy
      ? `The load average (${meta.loadStart.join('/')} at the start, ${meta.loadEnd.join('/')} at the end) shows other work on the machine during the run: other engineers' test suites share these cores, so numbers vary between runs by more than the differences between paths that are within ~10%.`
      : `The load average stayed low during the run (${meta.loadStart.join('/')} → ${meta.loadEnd.join('/')}), but the machine is shared; repeat the run before trusting differences of a few percent.`,
    `Only the order of paths alternates; repetitions are few (${meta.options.reps}), so min/max are in results.json for anyone who wants the spread.`,
  ].join('\n\n');
}
