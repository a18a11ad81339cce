/**
 * @module bench/lib/reliability
 * What the reliability benches (bench/fuzz.ts, bench/load.ts) share: kube-sim and a kuber-api
 * carrying the probe (bench/lib/probe.ts: its event-loop lag and any uncaught exception), kuber-api's
 * RSS sampled over a phase, and bench/reliability.json, the committed record of their last full
 * runs, which bench/RESULTS.md renders as its "Reliability" section whatever regenerates it.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { DockerClient } from './docker-client.js';
import { waitReady } from './meta.js';
import {
  KUBER_CLI,
  loadAverage,
  memStatus,
  ROOT,
  startKuber,
  startSim,
  type KuberProc,
  type SimProc,
} from './procs.js';

export const RELIABILITY_JSON = join(ROOT, 'bench', 'reliability.json');

export interface Lag {
  /** event-loop delay percentiles, ms */
  p50: number;
  p99: number;
  max: number;
  samples: number;
}

/** Reads what bench/lib/probe.ts appends inside kuber-api. */
export class Probe {
  constructor(
    private readonly pid: number,
    readonly file: string,
  ) {}

  private lines(): Array<Record<string, unknown>> {
    if (!existsSync(this.file)) return [];
    return readFileSync(this.file, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  }

  /** The lag since the previous call (the first call only resets it). */
  async lag(): Promise<Lag> {
    const count = () => this.lines().filter((l) => l.kind === 'lag').length;
    const before = count();
    process.kill(this.pid, 'SIGUSR2');
    for (let i = 0; i < 200; i++) {
      const lags = this.lines().filter((l) => l.kind === 'lag');
      if (lags.length > before) {
        const { p50, p99, max, samples } = lags.at(-1) as unknown as Lag;
        return { p50, p99, max, samples };
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error('the probe in kuber-api did not answer SIGUSR2 within 10 s');
  }

  /** Uncaught exceptions and unhandled rejections kuber-api met. */
  uncaught(): string[] {
    return this.lines()
      .filter((l) => l.kind === 'uncaught')
      .map((l) => `${l.origin}: ${l.message}`);
  }
}

export interface Rss {
  startMiB: number;
  peakMiB: number;
  endMiB: number;
}

/** kuber-api's RSS every `everyMs` (and its VmHWM at the end) from start() to stop(). */
export class RssSampler {
  private start = 0;
  private peak = 0;
  private timer: NodeJS.Timeout | undefined;
  constructor(private readonly pid: number) {}

  begin(everyMs = 250): void {
    this.start = memStatus(this.pid)?.rssKiB ?? 0;
    this.peak = this.start;
    this.timer = setInterval(() => (this.peak = Math.max(this.peak, memStatus(this.pid)?.rssKiB ?? 0)), everyMs);
  }

  stop(): Rss {
    clearInterval(this.timer);
    const end = memStatus(this.pid)?.rssKiB ?? 0;
    const mib = (k: number) => Math.round(k / 102.4) / 10;
    return { startMiB: mib(this.start), peakMiB: mib(Math.max(this.peak, end)), endMiB: mib(end) };
  }
}

/** One phase of the load bench (bench/reliability/load.ts). */
export interface PhaseResult {
  phase: string;
  operations: number;
  errors: number;
  firstError?: string;
  verifiedMiB: number;
  seconds: number;
  lag: { p50: number; p99: number; max: number };
  /** kuber-api's CPU seconds over the phase: far below the wall time with a high lag means a starved process, not a busy loop */
  cpuSeconds?: number;
  rss: { startMiB: number; peakMiB: number; endMiB: number };
  load: number[];
}

export interface Environment {
  sim: SimProc;
  kuber: KuberProc;
  docker: DockerClient;
  probe: Probe;
  stop(): Promise<void>;
}

/** The bundle kuber-api runs from is older than the tsc tree: `node dist/bench/run.js` after `npx tsc` alone. */
function warnStaleBundle(): void {
  const tree = join(ROOT, 'dist', 'src');
  if (!KUBER_CLI.includes(join('dist', 'bundle')) || !existsSync(tree)) return;
  const newest = Math.max(
    ...readdirSync(tree, { recursive: true, encoding: 'utf8' })
      .filter((f) => f.endsWith('.js'))
      .map((f) => statSync(join(tree, f)).mtimeMs),
  );
  if (statSync(KUBER_CLI).mtimeMs < newest)
    process.stderr.write(`warning: ${KUBER_CLI} is older than dist/src: run \`npm run build\` (npm run bench does)\n`);
}

/** kube-sim (HTTPS, as an apiserver) and a kuber-api with the probe and `args`, serving. */
export async function startEnvironment(args: string[]): Promise<Environment> {
  warnStaleBundle();
  const sim = await startSim({ tls: true, splitStreams: false });
  const dir = mkdtempSync(join(tmpdir(), 'kapi-bench-probe-'));
  const file = join(dir, 'probe.jsonl');
  let kuber: KuberProc;
  try {
    kuber = await startKuber({
      kubeconfig: sim.kubeconfigPath,
      namespace: 'default',
      unix: false,
      args,
      nodeArgs: ['--import', pathToFileURL(join(ROOT, 'dist', 'bench', 'lib', 'probe.js')).href],
      env: { KAPI_BENCH_PROBE: file },
    });
  } catch (err) {
    await sim.stop();
    throw err;
  }
  const docker = new DockerClient(kuber.dockerHost);
  const stop = async () => {
    docker.close();
    await kuber.stop();
    await sim.stop();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitReady(docker);
  } catch (err) {
    await stop();
    throw err;
  }
  return { sim, kuber, docker, probe: new Probe(kuber.pid, file), stop };
}

/** Where and when a reliability run happened. */
export interface RunMeta {
  command: string;
  date: string;
  commit: string;
  machine: string;
  loadStart: number[];
  loadEnd: number[];
  durationS: number;
}

export function roundedLoad(): number[] {
  return loadAverage().map((x) => Math.round(x * 100) / 100);
}

/** Replace one run's record (`fuzz` or `load`) in bench/reliability.json. */
export function saveReliability(key: 'fuzz' | 'load', record: { meta: RunMeta } & Record<string, unknown>): void {
  const all = existsSync(RELIABILITY_JSON)
    ? (JSON.parse(readFileSync(RELIABILITY_JSON, 'utf8')) as Record<string, unknown>)
    : {};
  all[key] = record;
  writeFileSync(RELIABILITY_JSON, JSON.stringify(all, null, 1) + '\n');
}
