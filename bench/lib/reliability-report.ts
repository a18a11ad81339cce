/**
 * @module bench/lib/reliability-report
 * The "Reliability" section of bench/RESULTS.md, rendered from bench/reliability.json (written by
 * `npm run bench -- fuzz` and `npm run bench -- load`): resultsMarkdown includes it when a full
 * run regenerates RESULTS.md, and the reliability benches splice it into the existing file, so
 * neither kind of run loses the other's figures.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './procs.js';
import { RELIABILITY_JSON, type PhaseResult, type RunMeta } from './reliability.js';

interface FuzzRecord {
  meta: RunMeta;
  seed: number;
  requests: number;
  connections: number;
  seedConnections: Record<string, number>;
  statuses: Record<string, number>;
  crashes: number;
  hangs: number;
  malformed: number;
  errors500: number;
  errors500Distinct?: Record<string, number>;
  answerBoundMs: number;
  rss: { startMiB: number; peakMiB: number; endMiB: number };
  lag?: { p50: number; p99: number; max: number };
  runAfter: boolean;
}

interface LoadRecord {
  meta: RunMeta;
  phases: PhaseResult[];
}

const HEADING = '## Reliability';

/** IDs masked, table pipes escaped: an error message fit for a table cell. */
function masked(text: string): string {
  return text.replace(/[0-9a-f]{12,64}/g, '<id>').replace(/\|/g, '\\|');
}

function metaLine(m: RunMeta): string {
  return `\`${m.command}\` · ${m.date} · commit ${m.commit} · ${m.durationS} s · ${m.machine} · load average ${m.loadStart.join('/')} at the start, ${m.loadEnd.join('/')} at the end`;
}

function fuzzMarkdown(f: FuzzRecord): string {
  const statuses = Object.entries(f.statuses)
    .map(([k, v]) => `${k}: ${v}`)
    .join(', ');
  const seeds = Object.entries(f.seedConnections)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
  const rows = [
    [
      'mutated requests',
      `${f.requests.toLocaleString('en')} on ${f.connections.toLocaleString('en')} connections (seed ${f.seed})`,
    ],
    ['seed connections', seeds],
    ['crashes (exit or uncaught exception)', String(f.crashes)],
    [`hangs (no answer and no close within ${f.answerBoundMs / 1000} s)`, String(f.hangs)],
    ['answers that are not well-formed HTTP/1.1', String(f.malformed)],
    ['kuber-api RSS start / peak / end', `${f.rss.startMiB} / ${f.rss.peakMiB} / ${f.rss.endMiB} MiB`],
    ...(f.lag ? [['event-loop lag p50 / p99 / max', `${f.lag.p50} / ${f.lag.p99} / ${f.lag.max} ms`]] : []),
    ['`docker run --rm busybox echo ok` afterwards', f.runAfter ? 'ok' : 'FAILED'],
    ['statuses', statuses],
  ];
  const distinct = Object.entries(f.errors500Distinct ?? {})
    .map(([k, v]) => `- ${v} × \`${k.trim()}\``)
    .join('\n');
  return `### Fuzz: ${f.requests.toLocaleString('en')} mutated real-client requests

${metaLine(f.meta)}

| | |
|---|---|
${rows.map(([k, v]) => `| ${k} | ${v} |`).join('\n')}
${f.errors500 ? `\nThe ${f.errors500} answers 500, by message (IDs masked). A 500 is not counted as a failure: the first request of each kind is printed by the run, and those seen were \`docker cp\` uploads whose tar the mutations broke, or requests whose client half-closed mid-way (kuber-api, like Go's net/http under dockerd, cancels the work of a client whose side has ended).\n\n${distinct}\n` : ''}`;
}

function loadMarkdown(l: LoadRecord): string {
  const rows = l.phases.map(
    (p) =>
      `| ${p.phase} | ${p.errors}${p.firstError ? ` (first: ${masked(p.firstError).slice(0, 200)})` : ''} | ${p.verifiedMiB} | ${p.seconds} | ${p.cpuSeconds ?? '–'} | ${p.lag.p50} / ${p.lag.p99} / ${p.lag.max} | ${p.rss.startMiB} / ${p.rss.peakMiB} / ${p.rss.endMiB} | ${p.load.join('/')} |`,
  );
  return `### Load

${metaLine(l.meta)}

| phase | errors | MiB verified | wall s | kuber-api CPU s | kuber-api event-loop lag p50 / p99 / max (ms) | kuber-api RSS start / peak / end (MiB) | load average after |
|---|---|---|---|---|---|---|---|
${rows.join('\n')}
`;
}

/** The section, or '' when no reliability run was recorded. */
export function reliabilityMarkdown(): string {
  if (!existsSync(RELIABILITY_JSON)) return '';
  const all = JSON.parse(readFileSync(RELIABILITY_JSON, 'utf8')) as { fuzz?: FuzzRecord; load?: LoadRecord };
  const parts = [all.fuzz && fuzzMarkdown(all.fuzz), all.load && loadMarkdown(all.load)].filter(Boolean);
  if (!parts.length) return '';
  return `${HEADING}

Issue 14's reliability runs, from bench/reliability.json (each written by the command shown; a full
\`npm run bench\` keeps this section). The fuzz: the generator of test/e2e/fuzz.test.ts
(test/helpers/fuzz.ts) on seeds captured from real clients, against a kuber-api process on kube-sim
with 2 s header and body timeouts; the load: bench/reliability/load.ts, every byte of every stream
checked against the producer's known output; the event-loop lag is measured inside kuber-api
(perf_hooks.monitorEventLoopDelay, bench/lib/probe.ts), sampled at 10 ms resolution.

${parts.join('\n')}`;
}

/** Put the current section into bench/RESULTS.md, replacing the previous one (or before "## Optimisations kept"). */
export function spliceReliability(): void {
  const file = join(ROOT, 'bench', 'RESULTS.md');
  if (!existsSync(file)) return;
  const md = readFileSync(file, 'utf8');
  const section = reliabilityMarkdown().trimEnd() + '\n\n';
  const start = md.indexOf(`\n${HEADING}\n`);
  if (start >= 0) {
    const end = md.indexOf('\n## ', start + HEADING.length + 2);
    writeFileSync(file, md.slice(0, start + 1) + section + (end >= 0 ? md.slice(end + 1) : ''));
    return;
  }
  const at = md.indexOf('\n## Optimisations kept');
  writeFileSync(file, at >= 0 ? md.slice(0, at + 1) + section + md.slice(at + 1) : md.trimEnd() + '\n\n' + section);
}
