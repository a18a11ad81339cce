/**
 * @module bench/reliability/load
 * `npm run bench -- load [--streams N] [--cycles N] [--containers K] [--mib M] [--thousand]`:
 * issue 14's load on a kuber-api process on kube-sim, each phase with every byte verified
 * (bench/lib/model.ts: the producer's output is known, so each stream is checked byte for byte,
 * a stronger check than a checksum) and zero errors required:
 *   - N (200) concurrent `docker exec` of the producer over K (10) running containers;
 *   - N concurrent `docker logs -f` of K producers that start writing after a pause, so the
 *     follows are open first and end with their containers;
 *   - C (50) concurrent create / start / wait / logs / rm cycles;
 *   - with --thousand, the exec and follow phases again with 1,000 streams (the size of the
 *     `concurrency` scenario, whose functions these phases reuse).
 * Per phase: kuber-api's event-loop lag p50/p99/max (bench/lib/probe.ts, inside kuber-api), its
 * RSS at start/peak/end, the wall time, and the load average beside them.
 */
import { producerCmd, PRODUCER_SCRIPT } from '../lib/model.js';
import type { ReadResult } from '../lib/consume.js';
import { removeAll, run } from '../lib/helpers.js';
import { gitCommit, machine } from '../lib/meta.js';
import { cpuSeconds } from '../lib/procs.js';
import type { Ctx } from '../lib/types.js';
import { execProducer } from '../scenarios/stream.js';
import { fanOutStreams } from '../scenarios/concurrency.js';
import { readLogs } from '../scenarios/logs.js';
import {
  roundedLoad,
  RssSampler,
  saveReliability,
  startEnvironment,
  type Environment,
  type PhaseResult,
} from '../lib/reliability.js';
import { flag, progressLine } from './args.js';
import { spliceReliability } from '../lib/reliability-report.js';

/** The part of a scenario context that execProducer and readLogs use on path a. */
function contextOf(env: Environment, sharedBy: number): Ctx {
  return { docker: env.docker, sharedBy, progress: () => {} } as unknown as Ctx;
}

async function phase(env: Environment, name: string, n: number, one: (i: number) => Promise<ReadResult>) {
  const rss = new RssSampler(env.kuber.pid);
  await env.probe.lag();
  rss.begin();
  const cpu0 = cpuSeconds(env.kuber.pid) ?? 0;
  const ctx = { progress: (t: string) => progressLine(t) } as unknown as Ctx;
  const r = await fanOutStreams(ctx, name, n, one);
  const { p50, p99, max } = await env.probe.lag();
  const result: PhaseResult = {
    phase: name,
    operations: n,
    errors: r.failed,
    ...(r.error ? { firstError: r.error } : {}),
    verifiedMiB: Math.round(r.bytes / 2 ** 20),
    seconds: Math.round(r.seconds * 10) / 10,
    lag: { p50, p99, max },
    cpuSeconds: Math.round(((cpuSeconds(env.kuber.pid) ?? 0) - cpu0) * 10) / 10,
    rss: rss.stop(),
    load: roundedLoad(),
  };
  process.stderr.write(`${JSON.stringify(result)}\n`);
  return result;
}

async function execPhase(env: Environment, n: number, k: number, mib: number): Promise<PhaseResult> {
  const targets = await Promise.all(Array.from({ length: k }, () => run(env.docker, ['sleep', '3600'])));
  try {
    const ctx = contextOf(env, n);
    return await phase(env, `${n} concurrent docker exec`, n, (i) =>
      execProducer(ctx, 'a', { id: targets[i % k]! }, mib, false, 'exec'),
    );
  } finally {
    await removeAll(env.docker, targets);
  }
}

async function followPhase(env: Environment, n: number, k: number, mib: number): Promise<PhaseResult> {
  // The pause lets every follow open before the first line: they see the stream live, then its end.
  const cmd = ['sh', '-c', `sleep 5; ${PRODUCER_SCRIPT}`, 'sh', String(mib)];
  const targets = await Promise.all(Array.from({ length: k }, () => run(env.docker, cmd)));
  try {
    const ctx = contextOf(env, n);
    return await phase(env, `${n} concurrent docker logs -f`, n, (i) =>
      readLogs(ctx, 'a', { id: targets[i % k]! }, { blocks: mib }, true, { label: 'logs -f' }),
    );
  } finally {
    await removeAll(env.docker, targets);
  }
}

async function cyclePhase(env: Environment, n: number): Promise<PhaseResult> {
  const ctx = contextOf(env, n);
  return phase(env, `${n} concurrent create/start/rm cycles`, n, async () => {
    const id = await run(env.docker, producerCmd(1));
    try {
      const code = await env.docker.wait(id);
      if (code !== 0) throw new Error(`exit code ${code}`);
      return await readLogs(ctx, 'a', { id }, { blocks: 1 }, false, { label: 'cycle' });
    } finally {
      await env.docker.remove(id);
    }
  });
}

export async function loadBench(argv: string[]): Promise<number> {
  const n = Number(flag(argv, '--streams') ?? 200);
  const cycles = Number(flag(argv, '--cycles') ?? 50);
  const k = Number(flag(argv, '--containers') ?? 10);
  const mib = Number(flag(argv, '--mib') ?? 1);
  const thousand = argv.includes('--thousand');
  const loadStart = roundedLoad();
  const commit = gitCommit(); // the code that ran, whatever changes while it runs
  const t0 = performance.now();
  const env = await startEnvironment([]);
  const phases: PhaseResult[] = [];
  try {
    phases.push(await execPhase(env, n, k, mib));
    phases.push(await followPhase(env, n, k, mib));
    phases.push(await cyclePhase(env, cycles));
    if (thousand) {
      phases.push(await execPhase(env, 1000, k, mib));
      phases.push(await followPhase(env, 1000, k, mib));
    }
  } finally {
    await env.stop();
  }
  const m = machine();
  const record = {
    meta: {
      command: `npm run bench -- load --streams ${n} --cycles ${cycles} --containers ${k} --mib ${mib}${thousand ? ' --thousand' : ''}`,
      date: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
      commit,
      machine: `${m.cpu}, ${m.cores} cores, ${m.memGiB} GiB, Node ${m.node}`,
      loadStart,
      loadEnd: roundedLoad(),
      durationS: Math.round((performance.now() - t0) / 1000),
    },
    phases,
  };
  const ok = phases.every((p) => p.errors === 0);
  if (n >= 200 && cycles >= 50) {
    saveReliability('load', record);
    spliceReliability();
  }
  process.stderr.write(ok ? 'load: zero errors\n' : 'load: FAILED\n');
  return ok ? 0 : 1;
}
