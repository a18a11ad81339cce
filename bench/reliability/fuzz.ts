/**
 * @module bench/reliability/fuzz
 * `npm run bench -- fuzz [--cases N] [--seed N] [--seeds FILE] [--workers N] [--max-rss-mib N]`:
 * N (default 100,000) mutated real-client requests (test/helpers/fuzz.ts, the generator of the
 * small run in `npm test`) against a kuber-api process on kube-sim, from the committed corpus and
 * connections captured live from the docker CLI, docker-compose and dockerode (seeds.ts). Checked:
 * kuber-api stays up with no uncaught exception, every connection gets an answer or a close
 * within the bound, every answer parses as HTTP/1.1, its RSS stays under --max-rss-mib, and a
 * `docker run --rm busybox echo ok` works afterwards. The seed is printed; the seeds used are
 * written beside the run (--seeds replays them byte for byte).
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { connectionPayloads, exchange, rng, statusSummary } from '../../test/helpers/fuzz.js';
import type { Captured } from '../../test/helpers/record-proxy.js';
import { docker as dockerCli, dockerAvailable } from '../../test/helpers/docker-cli.js';
import { run, removeAll } from '../lib/helpers.js';
import { gitCommit, machine } from '../lib/meta.js';
import { ROOT } from '../lib/procs.js';
import type { DockerClient } from '../lib/docker-client.js';
import { roundedLoad, RssSampler, saveReliability, startEnvironment, type Environment } from '../lib/reliability.js';
import { committedSeeds, liveSeeds } from './seeds.js';
import { flag, progressLine } from './args.js';
import { spliceReliability } from '../lib/reliability-report.js';

/** kuber-api's timeouts in this run: short, so that every unfinished request ends soon. */
const KUBER_ARGS = ['--header-timeout-ms', '2000', '--body-timeout-ms', '2000', '--idle-timeout-ms', '5000'];
/** Header and body timeouts, plus room for a slow apiserver round trip on a loaded machine. */
const ANSWER_BOUND_MS = 10_000;

/** Every few seconds, remove what the fuzzed creates left (containers, networks, volumes). */
function janitor(docker: DockerClient, keep: Set<string>): { stop(): Promise<void> } {
  let busy: Promise<void> = Promise.resolve();
  const sweep = async () => {
    const list = await docker.json<Array<{ Id: string }>>('GET', '/containers/json?all=1').catch(() => []);
    await removeAll(
      docker,
      list.map((c) => c.Id).filter((id) => !keep.has(id)),
    );
    await docker.json('POST', '/networks/prune').catch(() => {});
    await docker.json('POST', '/volumes/prune').catch(() => {});
  };
  const t = setInterval(() => (busy = busy.then(sweep)), 5000);
  return {
    async stop() {
      clearInterval(t);
      await busy;
      await sweep();
    },
  };
}

interface Tally {
  sent: number;
  connections: number;
  statuses: Map<number, number>;
  hangs: string[];
  malformed: string[];
  /** distinct 500 messages (IDs masked): how often, and the first request that got it */
  errors: Map<string, { n: number; example: string }>;
}

async function fuzzAll(
  env: Environment,
  seeds: Buffer[],
  seed: number,
  cases: number,
  workers: number,
): Promise<Tally> {
  const port = Number(new URL(env.kuber.dockerHost.replace(/^tcp:/, 'http:')).port);
  const targets = [{ port, host: '127.0.0.1' }];
  const tally: Tally = { sent: 0, connections: 0, statuses: new Map(), hangs: [], malformed: [], errors: new Map() };
  let next = 0;
  const t0 = performance.now();
  const worker = async (w: number) => {
    const r = rng(seed + w + 1);
    while (next < cases && env.kuber.child.exitCode === null) {
      const payloads = connectionPayloads(r, seeds, cases - next);
      next += payloads.length;
      const out = await exchange(targets, r, payloads, r.next() < 0.7, {
        quietMs: 400,
        answerBoundMs: ANSWER_BOUND_MS,
      });
      tally.sent += payloads.length;
      tally.connections++;
      for (const st of out.statuses) tally.statuses.set(st, (tally.statuses.get(st) ?? 0) + 1);
      const text = () => JSON.stringify(Buffer.concat(payloads).toString('latin1').slice(0, 300));
      if (out.hang) tally.hangs.push(text());
      if (out.bad) tally.malformed.push(`${out.bad} for ${text()}`);
      for (const e of out.errors) {
        const key = e.replace(/[0-9a-f]{12,64}/g, '<id>').slice(0, 200);
        const seen = tally.errors.get(key);
        if (seen) seen.n++;
        else tally.errors.set(key, { n: 1, example: text() });
      }
      if (tally.connections % 500 === 0)
        progressLine(
          `fuzz: ${tally.sent}/${cases} requests, ${Math.round(tally.sent / ((performance.now() - t0) / 1000))}/s, hangs ${tally.hangs.length}`,
        );
    }
  };
  await Promise.all(Array.from({ length: workers }, (_, i) => worker(i)));
  return tally;
}

/** `docker run --rm busybox echo ok` (the CLI when on PATH, else the same calls through the API). */
async function runStillWorks(env: Environment): Promise<boolean> {
  if (dockerAvailable()) {
    const r = await dockerCli(env.kuber.dockerHost, ['run', '--rm', 'busybox', 'echo', 'ok'], { timeoutMs: 60_000 });
    return r.code === 0 && r.stdout.trim() === 'ok';
  }
  const id = await run(env.docker, ['echo', 'ok']);
  const code = await env.docker.wait(id);
  await removeAll(env.docker, [id]);
  return code === 0;
}

export async function fuzzBench(argv: string[]): Promise<number> {
  const cases = Number(flag(argv, '--cases') ?? 100_000);
  const seed = Number(flag(argv, '--seed') ?? 0x5eed);
  const workers = Number(flag(argv, '--workers') ?? 64);
  const maxRssMiB = Number(flag(argv, '--max-rss-mib') ?? 512);
  const seedsFile = flag(argv, '--seeds');
  const outDir = join(ROOT, 'bench', 'out', `fuzz-${new Date().toISOString().replace(/[:.]/g, '-').slice(0, 19)}`);
  const loadStart = roundedLoad();
  const commit = gitCommit(); // the code that ran, whatever changes while it runs
  const t0 = performance.now();
  process.stderr.write(
    `fuzz: seed ${seed} (--seed ${seed} replays it), ${cases} requests, ${workers} connections at once\n`,
  );
  const env = await startEnvironment(KUBER_ARGS);
  try {
    const sleeper = await run(env.docker, ['sleep', '3600']);
    const finished = await run(env.docker, ['sh', '-c', 'echo hello; echo oops >&2']);
    await env.docker.wait(finished);
    const port = Number(new URL(env.kuber.dockerHost.replace(/^tcp:/, 'http:')).port);
    const captured: Captured[] = seedsFile
      ? (JSON.parse(readFileSync(seedsFile, 'utf8')) as { requests: Captured[] }).requests
      : [...committedSeeds(), ...(await liveSeeds({ port }, sleeper, finished))];
    mkdirSync(outDir, { recursive: true });
    writeFileSync(join(outDir, 'seeds.json'), JSON.stringify({ seed, requests: captured }, null, 1) + '\n');
    const byClient = new Map<string, number>();
    for (const c of captured) byClient.set(c.client, (byClient.get(c.client) ?? 0) + 1);
    process.stderr.write(
      `fuzz: ${captured.length} seed connections (${[...byClient].map(([k, v]) => `${k} ${v}`).join(', ')}) in ${relative(process.cwd(), join(outDir, 'seeds.json'))}\n`,
    );
    const seeds = captured.map((c) => Buffer.from(c.bytes, 'base64'));
    const sweeper = janitor(env.docker, new Set([sleeper, finished]));
    const rss = new RssSampler(env.kuber.pid);
    await env.probe.lag();
    rss.begin();
    const tally = await fuzzAll(env, seeds, seed, cases, workers);
    const lag = env.kuber.child.exitCode === null ? await env.probe.lag() : undefined;
    const mem = rss.stop();
    await sweeper.stop();
    const alive = env.kuber.child.exitCode === null && env.kuber.child.signalCode === null;
    const uncaught = env.probe.uncaught();
    const runOk = alive && (await runStillWorks(env).catch(() => false));
    const statuses = Object.fromEntries(tally.statuses);
    const record = {
      meta: {
        command: `npm run bench -- fuzz --cases ${cases} --seed ${seed}`,
        date: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
        commit,
        machine: machineLine(),
        loadStart,
        loadEnd: roundedLoad(),
        durationS: Math.round((performance.now() - t0) / 1000),
      },
      seed,
      requests: tally.sent,
      connections: tally.connections,
      seedConnections: Object.fromEntries(byClient),
      statuses,
      crashes: (alive ? 0 : 1) + uncaught.length,
      hangs: tally.hangs.length,
      malformed: tally.malformed.length,
      errors500: [...tally.errors.values()].reduce((a, b) => a + b.n, 0),
      errors500Distinct: Object.fromEntries([...tally.errors].map(([k, v]) => [k, v.n])),
      answerBoundMs: ANSWER_BOUND_MS,
      rss: mem,
      lag,
      runAfter: runOk,
    };
    process.stderr.write(
      `\nfuzz: statuses ${statusSummary(tally.statuses)}\n` + JSON.stringify(record, null, 1) + '\n',
    );
    for (const h of tally.hangs.slice(0, 5)) process.stderr.write(`HANG ${h}\n`);
    for (const m of tally.malformed.slice(0, 5)) process.stderr.write(`MALFORMED ${m}\n`);
    for (const [e, v] of tally.errors) process.stderr.write(`500 ×${v.n}: ${e}\n  first for ${v.example}\n`);
    for (const u of uncaught) process.stderr.write(`UNCAUGHT ${u}\n`);
    const ok =
      record.crashes === 0 && record.hangs === 0 && record.malformed === 0 && mem.peakMiB <= maxRssMiB && runOk;
    if (cases >= 100_000 && !seedsFile) {
      saveReliability('fuzz', record);
      spliceReliability();
    }
    process.stderr.write(ok ? 'fuzz: all checks held\n' : 'fuzz: FAILED\n');
    return ok ? 0 : 1;
  } finally {
    await env.stop();
  }
}

function machineLine(): string {
  const m = machine();
  return `${m.cpu}, ${m.cores} cores, ${m.memGiB} GiB, Node ${m.node}`;
}
