/**
 * @module bench/ab-logs
 * One `docker logs` case, several kuber-api builds side by side on one kube-sim: each build reads
 * the same producer's stream in turn (the order flips every repetition), every byte verified, and
 * kuber-api's own CPU-seconds per GiB read from /proc. For an optimisation's before and after on a
 * shared machine, where one case measured many times says more than the whole harness once (a
 * full `npm run bench` takes minutes per case and mixes in the other paths' load). The first
 * repetition is a warm-up (JIT, lazy modules) and is not counted. kuber-api's peak RSS during each
 * read is shown too (VmHWM, reset before the read): a stream that is not paused shows there.
 *
 *   node dist/bench/ab-logs.js [--follow] [--timestamps] [--no-split] [--mib N] [--reps N]
 *        [--cpu-prof DIR] CLI...      (CLI: a build's dist/src/cli.js or dist/bundle/cli.js)
 */
import { startSim, cpuSeconds, memStatus, resetPeak } from './lib/procs.js';
import { flagValue, hasFlag, runScript, startBuild, stopBuilds, type RunningBuild } from './lib/ab.js';
import { Verifier, producerCmd } from './lib/model.js';
import { readAll, readableSource } from './lib/consume.js';
import { run } from './lib/helpers.js';

interface Build extends RunningBuild {
  perGiB: number[];
  finished?: string;
}

async function main(argv: string[]): Promise<void> {
  const args = [...argv];
  const has = (f: string) => hasFlag(args, f);
  const follow = has('--follow');
  const timestamps = has('--timestamps');
  const split = !has('--no-split');
  const mib = Number(flagValue(args, '--mib', '128'));
  const reps = Number(flagValue(args, '--reps', '4'));
  const prof = flagValue(args, '--cpu-prof', '');
  if (!args.length || args.some((a) => a.startsWith('--'))) throw new Error(`usage: see ${import.meta.url}`);
  const sim = await startSim({ tls: true, splitStreams: split });
  const builds: Build[] = [];
  try {
    for (const cli of args) builds.push({ ...(await startBuild(sim, cli, prof)), perGiB: [] });
    const q = `stdout=1&stderr=1${follow ? '&follow=1' : ''}${timestamps ? '&timestamps=1' : ''}`;
    for (let rep = -1; rep < reps; rep++) {
      for (const b of rep % 2 ? [...builds].reverse() : builds) {
        // logs: one finished producer per build, read every time; logs -f: a fresh one per read.
        let id = b.finished;
        if (id === undefined) {
          id = await run(b.docker, producerCmd(mib), {}, 'busybox');
          if (!follow) {
            if ((await b.docker.wait(id)) !== 0) throw new Error('the producer failed');
            b.finished = id;
          }
        }
        const v = new Verifier({ blocks: mib, timestamps });
        resetPeak(b.kuber.pid);
        const c0 = cpuSeconds(b.kuber.pid)!;
        const res = await readAll(readableSource(await b.docker.stream(`/containers/${id}/logs?${q}`)), v, {
          stdcopy: true,
          timeoutMs: 600_000,
        });
        const perGiB = (cpuSeconds(b.kuber.pid)! - c0) / (res.bytes / 2 ** 30);
        if (!res.ok) throw new Error(`${b.cli}: ${res.error}`);
        if (rep >= 0) b.perGiB.push(perGiB);
        const peak = memStatus(b.kuber.pid)?.hwmKiB ?? 0;
        console.log(
          `${rep < 0 ? 'warm-up' : `rep ${rep}`} ${b.cli}: ${perGiB.toFixed(2)} CPU-s/GiB, peak RSS ${(peak / 1024).toFixed(0)} MiB, verified`,
        );
        if (follow) await b.docker.remove(id).catch(() => {});
      }
    }
    for (const b of builds) {
      const s = [...b.perGiB].sort((x, y) => x - y);
      console.log(`${b.cli}: kuber-api CPU-s per GiB median ${s[s.length >> 1]!.toFixed(2)}, min ${s[0]!.toFixed(2)}`);
    }
  } finally {
    await stopBuilds(builds, (b) => b.finished);
    await sim.stop();
  }
}

runScript(() => main(process.argv.slice(2)));
