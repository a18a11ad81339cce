/**
 * @module bench/ab-exec
 * The exec round trip (bench/scenarios/latency.ts: testcontainers' port check, create, start
 * without upgrade, read to EOF, inspect) through several kuber-api builds side by side on one
 * kube-sim, interleaved sample by sample with the same command dialled directly on pods/exec
 * (path b), so every build and the direct path see the same machine at the same moment. Reports,
 * per build, the median of each phase as the client sees it (create; start to the response head;
 * head to EOF; inspect), the round trip's overhead over direct, and kuber-api's CPU per round trip
 * from /proc. For an optimisation's before and after on a shared machine (bench/ab-logs.ts does
 * the same for logs); the first `--warm-up` samples are not counted. `--light` runs `echo :1f90`
 * instead of the port check's four processes: the same exchanges with less of the exec's own
 * run time, whose spread on a loaded machine otherwise hides a fraction of a millisecond.
 *
 *   node dist/bench/ab-exec.js [--samples N] [--warm-up N] [--light] [--cpu-prof DIR] CLI...
 *        (CLI: a build's dist/src/cli.js or dist/bundle/cli.js)
 */
import { startSim, cpuSeconds } from './lib/procs.js';
import { flagValue, hasFlag, runScript, startBuild, stopBuilds, type RunningBuild } from './lib/ab.js';
import { StdcopyDemuxer } from './lib/demux.js';
import { CH_STATUS, CH_STDOUT, KubeDirect, exitCodeOfStatus } from './lib/kube-direct.js';
import { MAIN, run } from './lib/helpers.js';
import { HTTPD, PORT_CHECK } from './scenarios/latency.js';

/** What `--light` runs: one process, the same one line of output as the port check. */
const LIGHT = ['echo', ':1f90'];
let command: readonly string[] = PORT_CHECK;

const PHASES = ['create', 'start head', 'head to EOF', 'inspect', 'total'] as const;
type Phase = (typeof PHASES)[number];

interface Build extends RunningBuild {
  target: { id: string; pod: string };
  ms: Record<Phase, number[]>;
  /** The direct samples taken right after this build's. */
  direct: number[];
  cpuMs: number[];
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1] ?? NaN;

/** One round trip through kuber-api, each phase timed as the client sees it. */
async function viaDocker(b: Build): Promise<Record<Phase, number>> {
  const t0 = performance.now();
  const execId = await b.docker.execCreate(b.target.id, {
    Cmd: command,
    AttachStdout: true,
    AttachStderr: true,
  });
  const t1 = performance.now();
  let t2 = 0;
  const body = await b.docker.execStartPlain(
    execId,
    { stdin: true, Detach: false, Tty: false },
    () => (t2 = performance.now()),
  );
  const t3 = performance.now();
  let out = '';
  const d = new StdcopyDemuxer(
    (x) => (out += x.toString('latin1')),
    () => {},
  );
  d.push(body);
  const ins = await b.docker.execInspect(execId);
  const t4 = performance.now();
  if (!d.clean || ins.ExitCode !== 0 || !/:1F90/i.test(out))
    throw new Error(`${b.cli}: exit ${ins.ExitCode}, output ${JSON.stringify(out)}`);
  return { create: t1 - t0, 'start head': t2 - t1, 'head to EOF': t3 - t2, inspect: t4 - t3, total: t4 - t0 };
}

/** The same command on pods/exec (path b): dial to the close, exit code from channel 3. */
async function direct(kube: KubeDirect, pod: string): Promise<number> {
  const t0 = performance.now();
  const { ws } = await kube.exec(pod, command, { container: MAIN });
  let out = '';
  let status = '';
  await new Promise<void>((resolve, reject) => {
    ws.on('message', (m: Buffer) => {
      if (m[0] === CH_STDOUT) out += m.toString('latin1', 1);
      else if (m[0] === CH_STATUS) status += m.toString('utf8', 1);
    });
    ws.resume();
    ws.once('close', () => resolve());
    ws.once('error', reject);
  });
  const ms = performance.now() - t0;
  if ((status ? exitCodeOfStatus(status) : 0) !== 0 || !/:1F90/i.test(out)) throw new Error(`direct: ${out}`);
  return ms;
}

async function main(argv: string[]): Promise<void> {
  const args = [...argv];
  const samples = Number(flagValue(args, '--samples', '100'));
  const warmUp = Number(flagValue(args, '--warm-up', '10'));
  const prof = flagValue(args, '--cpu-prof', '');
  if (hasFlag(args, '--light')) command = LIGHT;
  if (!args.length || args.some((a) => a.startsWith('--'))) throw new Error(`usage: see ${import.meta.url}`);
  const sim = await startSim({ tls: true, splitStreams: false });
  const kube = await KubeDirect.load(sim.kubeconfigPath, 'default');
  const builds: Build[] = [];
  try {
    for (const cli of args) {
      const ms = Object.fromEntries(PHASES.map((p) => [p, [] as number[]])) as Record<Phase, number[]>;
      const b: Build = {
        ...(await startBuild(sim, cli, prof)),
        target: { id: '', pod: '' },
        ms,
        direct: [],
        cpuMs: [],
      };
      builds.push(b);
      const id = await run(b.docker, HTTPD, {}, 'busybox');
      b.target.id = id;
      const pods = await kube.listPods(
        `kuber-api.io/container=${id.slice(0, 12)},kuber-api.io/instance=${b.kuber.instance}`,
      );
      if (!pods.items.length) throw new Error(`no pod for ${id}`);
      b.target.pod = pods.items[0].metadata.name;
    }
    for (let i = -warmUp; i < samples; i++) {
      for (const b of i % 2 ? [...builds].reverse() : builds) {
        const c0 = cpuSeconds(b.kuber.pid)!;
        const r = await viaDocker(b);
        const cpu = (cpuSeconds(b.kuber.pid)! - c0) * 1000;
        const d = await direct(kube, b.target.pod);
        if (i < 0) continue;
        for (const p of PHASES) b.ms[p].push(r[p]);
        b.direct.push(d);
        b.cpuMs.push(cpu);
      }
      if (i >= 0 && i % 20 === 0) console.log(`sample ${i}/${samples}`);
    }
    for (const b of builds) {
      const phases = PHASES.map((p) => `${p} ${median(b.ms[p]).toFixed(2)}`).join(', ');
      const cpu = b.cpuMs.reduce((x, y) => x + y, 0) / b.cpuMs.length;
      const over = median(b.ms.total) - median(b.direct);
      // Each round trip against the direct one taken right after it: robust to the load drifting.
      const paired = median(b.ms.total.map((t, i) => t - b.direct[i]!));
      const sign = (x: number) => `${x >= 0 ? '+' : ''}${x.toFixed(2)}`;
      console.log(
        `${b.cli}: p50 ms ${phases}; direct ${median(b.direct).toFixed(2)}; over direct ${sign(over)} ms (paired ${sign(paired)}); kuber-api CPU ${cpu.toFixed(2)} ms per round trip (${b.ms.total.length} samples)`,
      );
    }
  } finally {
    await stopBuilds(builds, (b) => b.target.id);
    kube.close();
    await sim.stop();
  }
}

runScript(() => main(process.argv.slice(2)));
