/**
 * @module bench/run
 * `npm run bench -- [scenario...] [flags]` (see bench/lib/args.ts): starts kube-sim (or uses the
 * cluster of KUBECONFIG), kuber-api, the raw producer and the raw pass-through, the Node floor
 * (path f) and, with the docker CLI on PATH, its in-memory ceiling endpoint (path e), each as its
 * own process; turns path d on when a docker host is given or the dockerd-oracle is up; runs the
 * scenarios, every one the same work on paths a, b, c (and d, e, f where they apply) in alternating
 * order; prints a table; writes results.json (raw samples), the table, SVG charts, and for a full
 * run bench/RESULTS.md. Exits 1 when any run failed (a wrong byte, an error, a timeout).
 */
import { execFileSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { loadavg } from 'node:os';
import { join, relative } from 'node:path';
import { parseArgs, USAGE } from './lib/args.js';
import { DockerClient } from './lib/docker-client.js';
import { KubeDirect } from './lib/kube-direct.js';
import { gitCommit, machine, waitReady } from './lib/meta.js';
import {
  KUBER_CLI,
  loadAverage,
  ROOT,
  startCeiling,
  startFloor,
  startKuber,
  startProducer,
  startProxy,
  startSim,
  type Proc,
} from './lib/procs.js';
import { dockerCliAvailable } from './lib/docker-cli.js';
import {
  cpuMarkdown,
  cpuOpMarkdown,
  floorMarkdown,
  markdownTable,
  resultsMarkdown,
  targets15,
  targetsMarkdown,
  terminalTable,
  type Meta,
} from './lib/report.js';
import { summarise } from './lib/summary.js';
import { cliSvg, latencySvg, throughputSvg } from './lib/svg.js';
import type { CaseDef, Ctx, Options, PathId, Sample } from './lib/types.js';
import { run as runContainer, removeAll } from './lib/helpers.js';
import { controlPlane } from './scenarios/control.js';
import { logs } from './scenarios/logs.js';
import { attach, exec } from './scenarios/stream.js';
import { echo, roundTrip } from './scenarios/latency.js';
import { backpressure } from './scenarios/backpressure.js';
import { concurrency } from './scenarios/concurrency.js';
import { cli } from './scenarios/cli.js';
import { startup } from './scenarios/startup.js';

const SCENARIOS: Record<string, (ctx: Ctx) => Promise<void>> = {
  control: controlPlane,
  startup,
  logs,
  attach,
  exec,
  cli,
  roundtrip: roundTrip,
  echo,
  backpressure,
  concurrency,
};

class Progress {
  private last = 0;
  private shown = '';
  private readonly tty = !!process.stderr.isTTY;
  constructor(private readonly t0: number) {}
  show(text: string): void {
    const el = ((performance.now() - this.t0) / 1000).toFixed(0).padStart(4);
    const line = `[${el}s] ${text}`;
    if (this.tty) {
      process.stderr.write(`\r\x1b[K${line.slice(0, (process.stderr.columns || 120) - 1)}`);
    } else if (performance.now() - this.last > 10_000 || text.split(':')[0] !== this.shown.split(':')[0]) {
      process.stderr.write(line + '\n');
      this.last = performance.now();
    }
    this.shown = text;
  }
  log(text: string): void {
    if (this.tty) process.stderr.write('\r\x1b[K');
    process.stderr.write(text + '\n');
  }
}

interface Output {
  meta: Meta;
  cases: CaseDef[];
  samples: Sample[];
}

function writeOutputs(out: Output, opts: Pick<Options, 'outDir' | 'results'>, progress: Progress): void {
  const cases = summarise(out.cases, out.samples);
  const table = terminalTable(cases);
  progress.log('\n' + table + '\n');
  const cpu = cpuMarkdown(cases);
  if (cpu.split('\n').length > 2) progress.log('CPU seconds per GiB moved, per process:\n' + cpu + '\n');
  const cpuOp = cpuOpMarkdown(cases);
  if (cpuOp.split('\n').length > 2) progress.log('CPU milliseconds per operation, per process:\n' + cpuOp + '\n');
  const floor = floorMarkdown(cases);
  if (floor) progress.log("kuber-api's CPU per GiB against the Node floor (path f):\n" + floor + '\n');
  const t15 = targets15(cases, out.meta);
  if (t15.length) progress.log('Targets (issue 15):\n' + targetsMarkdown(t15) + '\n');
  mkdirSync(opts.outDir, { recursive: true });
  const files = {
    json: join(opts.outDir, 'results.json'),
    table: join(opts.outDir, 'table.txt'),
    md: join(opts.outDir, 'table.md'),
    throughput: join(opts.outDir, 'throughput.svg'),
    latency: join(opts.outDir, 'latency.svg'),
    cli: join(opts.outDir, 'cli.svg'),
    report: join(opts.outDir, 'report.md'),
  };
  const sub = `${out.meta.mode.split(' (')[0]}, ${out.meta.cores} cores`;
  writeFileSync(files.json, JSON.stringify({ ...out, summary: cases }, null, 1));
  writeFileSync(files.table, table + '\n');
  writeFileSync(files.md, markdownTable(cases) + '\n');
  writeFileSync(files.throughput, throughputSvg(cases, sub));
  writeFileSync(files.latency, latencySvg(cases, sub));
  writeFileSync(files.cli, cliSvg(cases, sub));
  // The whole report of this run (what bench/RESULTS.md would be), beside its charts.
  writeFileSync(
    files.report,
    resultsMarkdown(cases, out.meta, { throughput: 'throughput.svg', latency: 'latency.svg', cli: 'cli.svg' }),
  );
  progress.log(
    `wrote ${Object.values(files)
      .map((f) => relative(process.cwd(), f))
      .join(', ')}`,
  );
  try {
    const latest = join(ROOT, 'bench', 'out', 'latest');
    if (opts.outDir.startsWith(join(ROOT, 'bench', 'out'))) {
      rmSync(latest, { force: true });
      symlinkSync(relative(join(ROOT, 'bench', 'out'), opts.outDir), latest);
    }
  } catch {
    /* best effort */
  }
  if (opts.results) {
    copyFileSync(files.throughput, join(ROOT, 'bench', 'results-throughput.svg'));
    copyFileSync(files.latency, join(ROOT, 'bench', 'results-latency.svg'));
    copyFileSync(files.cli, join(ROOT, 'bench', 'results-cli.svg'));
    writeFileSync(
      join(ROOT, 'bench', 'RESULTS.md'),
      resultsMarkdown(cases, out.meta, {
        throughput: 'results-throughput.svg',
        latency: 'results-latency.svg',
        cli: 'results-cli.svg',
      }),
    );
    progress.log(
      'wrote bench/RESULTS.md, bench/results-throughput.svg, bench/results-latency.svg, bench/results-cli.svg',
    );
  }
}

/** The pid of a local Docker daemon behind a unix socket, from its pid file. */
function localDaemonPid(host: string): number | undefined {
  if (!host.startsWith('unix://') && !host.startsWith('/')) return undefined;
  const sock = host.replace(/^unix:\/\//, '');
  const candidates = sock.includes('docker-oracle')
    ? ['/run/docker-oracle.pid']
    : ['/var/run/docker.pid', '/run/docker.pid'];
  for (const f of candidates) {
    try {
      const pid = Number(readFileSync(f, 'utf8').trim());
      if (pid > 0) return pid;
    } catch {
      /* next */
    }
  }
  return undefined;
}

/**
 * The dockerd-oracle's socket when it is up (`../shared/tools/dockerd-oracle env` from the
 * repository root names it; a /version answer within 5 s says it is up), else undefined.
 */
async function oracleHost(progress: Progress): Promise<string | undefined> {
  const script = join(ROOT, '..', 'shared', 'tools', 'dockerd-oracle');
  if (!existsSync(script)) return undefined;
  let host: string | undefined;
  try {
    host = /DOCKER_HOST=(\S+)/.exec(execFileSync('bash', [script, 'env'], { encoding: 'utf8', timeout: 10_000 }))?.[1];
  } catch {
    return undefined;
  }
  if (!host) return undefined;
  const c = new DockerClient(host);
  let t: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      c.negotiate(),
      new Promise((_, rej) => (t = setTimeout(() => rej(new Error('no answer within 5 s')), 5000))),
    ]);
    progress.log(`path d: the dockerd-oracle is up at ${host} (--no-docker-host to leave it out)`);
    return host;
  } catch {
    return undefined;
  } finally {
    clearTimeout(t);
    c.close();
  }
}

/** node names profiles CPU.<date>.<pid>.<tid>.<seq>.cpuprofile: rename them after their process. */
function nameProfiles(dir: string, names: Record<number, string>): void {
  try {
    for (const f of readdirSync(dir)) {
      const pid = Number(/^CPU\.\d+\.\d+\.(\d+)\./.exec(f)?.[1]);
      if (names[pid]) renameSync(join(dir, f), join(dir, `${names[pid]}-${pid}.cpuprofile`));
    }
  } catch {
    /* no profiles */
  }
}

async function main(argv: string[]): Promise<number> {
  // The reliability benches (issue 14): their own processes and checks, not the paths a-f.
  if (argv[0] === 'fuzz') return (await import('./reliability/fuzz.js')).fuzzBench(argv.slice(1));
  if (argv[0] === 'load') return (await import('./reliability/load.js')).loadBench(argv.slice(1));
  if (argv[0] === 'reliability-report') {
    (await import('./lib/reliability-report.js')).spliceReliability();
    return 0;
  }
  let opts: ReturnType<typeof parseArgs>;
  try {
    opts = parseArgs(argv);
  } catch (err) {
    process.stderr.write(`bench: ${(err as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (opts.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const t0 = performance.now();
  const progress = new Progress(t0);
  if (opts.report) {
    const out = JSON.parse(readFileSync(opts.report, 'utf8')) as Output;
    writeOutputs(out, { outDir: opts.outDir, results: opts.results }, progress);
    return 0;
  }
  mkdirSync(opts.outDir, { recursive: true });
  const loadStart = loadAverage().map((x) => Math.round(x * 100) / 100);
  const procs: Proc[] = [];
  const clients: Array<{ close(): void }> = [];
  const profDir = join(opts.outDir, 'prof');
  const nodeArgs = opts.cpuProf ? ['--cpu-prof', '--cpu-prof-dir', profDir] : [];
  const cases: CaseDef[] = [];
  const samples: Sample[] = [];
  const profNames: Record<number, string> = {};
  let failed = 0;
  const made: Array<{ client: DockerClient; id: string }> = [];
  let stopping = false;
  const stopAll = async () => {
    for (const { client, id } of made) await client.remove(id).catch(() => {});
    for (const c of clients) c.close();
    await Promise.all(procs.reverse().map((p) => p.stop()));
  };
  process.once('SIGINT', () => {
    if (stopping) process.exit(130);
    stopping = true;
    progress.log('interrupted: cleaning up');
    void stopAll().then(() => process.exit(130));
  });
  try {
    // ---- the processes ----
    const producer = await startProducer();
    procs.push(producer);
    const proxy = await startProxy(producer.port);
    procs.push(proxy);
    let ceiling: DockerClient | undefined;
    let ceilingPid: number | undefined;
    if (opts.groups.includes('cli')) {
      if (dockerCliAvailable()) {
        const ceil = await startCeiling();
        procs.push(ceil);
        ceilingPid = ceil.pid;
        ceiling = new DockerClient(`tcp://127.0.0.1:${ceil.port}`);
        clients.push(ceiling);
      } else progress.log('path e: no docker CLI on PATH: the cli scenario is skipped');
    }
    let other: DockerClient | undefined;
    if (!opts.dockerHost && !opts.noDockerHost) opts.dockerHost = await oracleHost(progress);
    if (opts.dockerHost) {
      other = new DockerClient(opts.dockerHost);
      clients.push(other);
      await other.negotiate();
    }
    const paths: PathId[] = ['a', 'b', 'c', ...(other ? (['d'] as PathId[]) : [])];
    /** kube-sim (or the cluster) + kuber-api on it, as one context for the scenarios. */
    const environment = async (split: boolean, variant: string, withOther: boolean): Promise<Ctx> => {
      let kubeconfig: string;
      let simPid: number | undefined;
      if (opts.cluster) {
        kubeconfig = opts.kubeconfig!;
        progress.show(`using the cluster of ${kubeconfig}`);
      } else {
        progress.show(`starting kube-sim${variant}`);
        const sim = await startSim({ tls: opts.tls, splitStreams: split, nodeArgs });
        procs.push(sim);
        kubeconfig = sim.kubeconfigPath;
        simPid = sim.pid;
        profNames[sim.pid] = `kube-sim${variant ? '-split' : ''}`;
      }
      progress.show(`starting kuber-api${variant}`);
      const spawnKuber = () =>
        startKuber({
          kubeconfig,
          namespace: opts.namespace ?? (opts.cluster ? undefined : 'default'),
          unix: opts.unix,
          nodeArgs,
          ...(opts.kuberCli ? { cli: opts.kuberCli } : {}),
        });
      const kuber = await spawnKuber();
      procs.push(kuber);
      profNames[kuber.pid] = `kuber-api${variant ? '-split' : ''}`;
      const docker = new DockerClient(kuber.dockerHost);
      clients.push(docker);
      await waitReady(docker);
      const kube = await KubeDirect.load(kubeconfig, opts.namespace ?? (opts.cluster ? undefined : 'default'));
      clients.push(kube);
      // Path f: the Node floor on the same apiserver (and namespace) as kuber-api and path b.
      const floor = await startFloor(kubeconfig, kube.namespace, { nodeArgs });
      procs.push(floor);
      profNames[floor.pid] = `node-floor${variant ? '-split' : ''}`;
      const pids: Record<string, number> = {
        'kuber-api': kuber.pid,
        ...(simPid ? { 'kube-sim': simPid } : {}),
        'raw proxy': proxy.pid,
        'raw producer': producer.pid,
        'node floor': floor.pid,
      };
      const dockerPid = withOther && other ? (opts.dockerPid ?? localDaemonPid(opts.dockerHost!)) : undefined;
      if (dockerPid) pids['docker host'] = dockerPid;
      if (withOther && ceilingPid) pids['CLI ceiling'] = ceilingPid;
      // Track what the scenarios create so that an interrupted run cleans up a real cluster too.
      for (const c of [docker, ...(withOther && other ? [other] : [])]) {
        const create = c.create.bind(c);
        c.create = async (body, name) => {
          const id = await create(body, name);
          made.push({ client: c, id });
          return id;
        };
        // Warm-up: the image is pulled (a real cluster) and every code path loaded once.
        progress.show(`warm-up on ${c.host}`);
        const id = await runContainer(c, ['true'], {}, opts.image);
        await c.wait(id);
        await removeAll(c, [id]);
      }
      return {
        opts,
        docker,
        ...(withOther && other ? { other } : {}),
        kube,
        proxyPort: proxy.port,
        floorPort: floor.port,
        spawnKuber,
        ...(withOther && ceiling ? { ceiling } : {}),
        pids,
        instance: kuber.instance,
        paths: withOther ? paths : paths.filter((p) => p !== 'd'),
        variant,
        record: (s) => {
          samples.push(s);
          if (!s.ok) {
            failed++;
            progress.log(`FAIL ${s.case} (${s.path}) #${s.rep}: ${s.error}`);
          }
        },
        progress: (t) => progress.show(t),
        declare: (c) => cases.push(c),
      };
    };
    // The primary environment: kube-sim with the split-streams gate as asked ("both": off, as
    // real clusters run it: it is alpha and off by default); with "both", a second kube-sim with
    // the gate on serves the log cases again, where kuber-api merges two timestamped bodies.
    const ctx = await environment(opts.splitStreams === 'on', '', true);
    const splitGroups = opts.groups.filter((g) => g === 'logs' || g === 'backpressure');
    const splitCtx =
      opts.splitStreams === 'both' && !opts.cluster && splitGroups.length
        ? await environment(true, ' (split)', false)
        : undefined;
    const runs: Array<[string, Ctx]> = opts.groups.map((g) => [g, ctx]);
    // The split-stream log cases right after their plain counterparts.
    if (splitCtx) for (const g of splitGroups) runs.splice(runs.findIndex(([x]) => x === g) + 1, 0, [g, splitCtx]);
    for (const [g, c] of runs) {
      progress.show(`${g}${c.variant}: starting`);
      const before = samples.length;
      try {
        await SCENARIOS[g]!(c);
      } catch (err) {
        failed++;
        progress.log(`FAIL ${g}${c.variant}: ${(err as Error).stack ?? err}`);
      }
      progress.log(
        `${g}${c.variant}: ${samples.length - before} samples in ${((performance.now() - t0) / 1000).toFixed(0)} s so far`,
      );
    }
  } catch (err) {
    failed++;
    progress.log(`bench: ${(err as Error).stack ?? err}`);
    for (const p of procs) if (p.tail()) progress.log(`--- ${p.name} (last output) ---\n${p.tail().slice(-2000)}`);
  } finally {
    progress.show('stopping processes');
    await stopAll();
  }
  const meta: Meta = {
    date: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
    command: opts.command,
    commit: gitCommit(),
    ...machine(),
    loadStart,
    loadEnd: loadavg().map((x) => Math.round(x * 100) / 100),
    mode: opts.cluster
      ? `real cluster (${opts.kubeconfig})`
      : `kube-sim (${opts.tls ? 'HTTPS' : 'HTTP'}, PodLogsQuerySplitStreams ${opts.splitStreams === 'both' ? 'off, and on for the "(split)" cases' : opts.splitStreams}), kuber-api (${relative(ROOT, opts.kuberCli ?? KUBER_CLI)}) on ${opts.unix ? 'a unix socket' : 'TCP 127.0.0.1'}${opts.dockerHost ? `, docker host ${opts.dockerHost}` : ''}`,
    durationS: Math.round((performance.now() - t0) / 1000),
    options: { ...opts, command: undefined },
  };
  if (samples.length) writeOutputs({ meta, cases, samples }, opts, progress);
  if (opts.cpuProf) nameProfiles(profDir, profNames);
  if (opts.cpuProf)
    progress.log(
      `profiles in ${relative(process.cwd(), profDir)} (summarise: node dist/bench/prof.js ${relative(process.cwd(), profDir)})`,
    );
  progress.log(failed ? `${failed} failed run(s)` : 'all runs verified');
  return failed ? 1 : 0;
}

process.exitCode = await main(process.argv.slice(2));
