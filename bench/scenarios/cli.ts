/**
 * @module bench/scenarios/cli
 * Path (e), the user's view: the docker CLI itself is the consumer, side by side against kuber-api
 * (a), the docker host (d: dockerd, when path d is on) and the in-memory Engine API endpoint (e:
 * the CLI's own ceiling, bench/lib/cli-ceiling). Every byte the CLI writes on its stdout is
 * verified against the model, and the exit code must be 0.
 * - `docker logs` of a finished container with N MiB of output; (b) is the same Pod's pods/log
 *   read directly by the harness: what the simulator can serve;
 * - `docker run` of the producer (create, attach, start, stream, wait: the attach path);
 * - `docker exec` of the producer in a running container; (b) the same command on pods/exec;
 * - wall time of `docker exec <running> true` and `docker run --rm busybox true`.
 * Throughput is the verified bytes over the CLI's whole wall time (spawn to exit), so it includes
 * the CLI's start and its few API calls, as the user waits for them.
 */
import { Verifier, producerCmd } from '../lib/model.js';
import { dockerCli, type CliRun } from '../lib/docker-cli.js';
import { alternate, CpuMeter, fmtMiB, measure, removeAll, streamTimeout } from '../lib/helpers.js';
import type { DockerClient } from '../lib/docker-client.js';
import type { Ctx, PathId, Sample } from '../lib/types.js';
import { asSample, finishedProducers, readLogs } from './logs.js';
import { dropSleepers, execProducer, sleepers } from './stream.js';

export const CLI_CASES = {
  logs: 'docker logs (CLI)',
  run: 'docker run (CLI)',
  exec: 'docker exec (CLI)',
  execTrue: 'docker exec true (CLI)',
  runTrue: 'docker run --rm true (CLI)',
} as const;

/** The Docker endpoint the CLI talks to on a path: kuber-api, the docker host, the ceiling. */
function endpoint(ctx: Ctx, p: PathId): DockerClient {
  if (p === 'd') return ctx.other!;
  if (p === 'e') return ctx.ceiling!;
  return ctx.docker;
}

function cliSample(r: CliRun): Partial<Sample> {
  return { ok: r.ok, error: r.error, bytes: r.bytes, seconds: r.seconds, reads: r.reads };
}

export async function cli(ctx: Ctx): Promise<void> {
  if (!ctx.ceiling) {
    ctx.progress('cli: no docker CLI on PATH: skipped');
    return;
  }
  const blocks = ctx.opts.cliMiB;
  const docker: PathId[] = ['a', ...(ctx.other ? (['d'] as PathId[]) : []), 'e'];
  const withB = (ps: PathId[]): PathId[] => [ps[0]!, 'b', ...ps.slice(1)];
  ctx.declare({
    id: CLI_CASES.logs,
    group: 'cli',
    metric: 'throughput',
    what: `docker logs of a finished container, ${blocks} MiB, the CLI's stdout verified; (b) the same Pod's pods/log read directly`,
  });
  ctx.declare({
    id: CLI_CASES.run,
    group: 'cli',
    metric: 'throughput',
    what: `docker run of the producer, ${blocks} MiB (create, attach, start, stream, wait), the CLI's stdout verified`,
  });
  ctx.declare({
    id: CLI_CASES.exec,
    group: 'cli',
    metric: 'throughput',
    what: `docker exec of the producer, ${blocks} MiB, the CLI's stdout verified; (b) the same on pods/exec`,
  });
  ctx.declare({
    id: CLI_CASES.execTrue,
    group: 'cli',
    metric: 'latency',
    what: "docker exec <running container> true: the CLI's wall time",
  });
  ctx.declare({
    id: CLI_CASES.runTrue,
    group: 'cli',
    metric: 'latency',
    what: "docker run --rm busybox true: the CLI's wall time",
  });
  const timeoutMs = streamTimeout(blocks * 1024 * 1024);
  const progress = (label: string, p: PathId) => (b: number) =>
    ctx.progress(`${label} ${p}: ${fmtMiB(b)} / ${fmtMiB(blocks * 1024 * 1024)}`);
  const image = ctx.opts.image;

  // ---- docker logs ----
  const finished = await finishedProducers(ctx, blocks, CLI_CASES.logs, false);
  const ceilingLogs = await ceilingContainer(ctx.ceiling, producerCmd(blocks), image);
  try {
    await alternate(ctx, ctx.opts.reps, withB(docker), async (p, rep) => {
      const label = `${CLI_CASES.logs} #${rep}`;
      await measure(ctx, CLI_CASES.logs, p, rep, async () => {
        if (p === 'b') return asSample(await readLogs(ctx, p, finished.get('a')!, { blocks }, false, { label }));
        const id = p === 'e' ? ceilingLogs : finished.get(p)!.id;
        return cliSample(
          await dockerCli(endpoint(ctx, p).host, ['logs', id], {
            verifier: new Verifier({ blocks }),
            timeoutMs,
            onProgress: progress(label, p),
          }),
        );
      });
    });
  } finally {
    for (const p of ['a', 'd'] as const) if (finished.has(p)) await removeAll(endpoint(ctx, p), [finished.get(p)!.id]);
  }

  // ---- docker run (attach) ----
  let n = 0;
  const names = new Map<PathId, string[]>();
  const name = (p: PathId) => {
    const x = `bench-cli-${process.pid}-${n++}`;
    names.set(p, [...(names.get(p) ?? []), x]);
    return x;
  };
  try {
    await alternate(ctx, ctx.opts.reps, docker, async (p, rep) => {
      const label = `${CLI_CASES.run} #${rep}`;
      await measure(ctx, CLI_CASES.run, p, rep, async () =>
        cliSample(
          await dockerCli(
            endpoint(ctx, p).host,
            ['run', '--rm', '--name', name(p), '--label', 'kuber-api.bench=1', image, ...producerCmd(blocks)],
            { verifier: new Verifier({ blocks }), timeoutMs, onProgress: progress(label, p) },
          ),
        ),
      );
    });

    // ---- docker exec, and docker exec true ----
    const targets = await sleepers(ctx, 1);
    const ceilingSleeper = await ceilingContainer(ctx.ceiling, ['sleep', '3600'], image);
    const target = (p: PathId) => (p === 'e' ? ceilingSleeper : targets.get(p)![0]!.id);
    try {
      await alternate(ctx, ctx.opts.reps, withB(docker), async (p, rep) => {
        const label = `${CLI_CASES.exec} #${rep}`;
        await measure(ctx, CLI_CASES.exec, p, rep, async () => {
          if (p === 'b') return asSample(await execProducer(ctx, p, targets.get('a')![0]!, blocks, false, label));
          return cliSample(
            await dockerCli(endpoint(ctx, p).host, ['exec', target(p), ...producerCmd(blocks)], {
              verifier: new Verifier({ blocks }),
              timeoutMs,
              onProgress: progress(label, p),
            }),
          );
        });
      });
      await wallTimes(ctx, CLI_CASES.execTrue, docker, (p) => ['exec', target(p), 'true']);
    } finally {
      await dropSleepers(ctx, targets);
    }
    await wallTimes(ctx, CLI_CASES.runTrue, docker, (p) => [
      'run',
      '--rm',
      '--name',
      name(p),
      '--label',
      'kuber-api.bench=1',
      image,
      'true',
    ]);
  } finally {
    // Containers a failed `docker run --rm` may have left behind (the docker host is long-lived).
    for (const [p, list] of names) await removeAll(endpoint(ctx, p), list);
  }
}

/** A container on the ceiling endpoint: created, started, its stream served to nobody, exited. */
async function ceilingContainer(c: DockerClient, cmd: string[], image: string): Promise<string> {
  const id = await c.create({ Image: image, Cmd: cmd, Tty: false });
  await c.start(id);
  return id;
}

/** `docker <args>` once per sample on every path, alternating, its wall time recorded. */
async function wallTimes(ctx: Ctx, id: string, paths: PathId[], args: (p: PathId) => string[]): Promise<void> {
  const lat = new Map<PathId, number[]>(paths.map((p) => [p, []]));
  const errors = new Map<PathId, string>();
  const meter = new CpuMeter(ctx);
  const n = ctx.opts.cliSamples;
  for (let i = 0; i < n; i++) {
    ctx.progress(`${id}: sample ${i + 1}/${n}`);
    for (const p of paths) {
      const r = await meter.around(p, () => dockerCli(endpoint(ctx, p).host, args(p), { timeoutMs: 120_000 }));
      if (r.ok) lat.get(p)!.push(Math.round(r.seconds * 1e6) / 1e3);
      else errors.set(p, r.error ?? 'failed');
    }
  }
  for (const p of paths) {
    const latenciesMs = lat.get(p)!;
    const s: Sample = { case: id, path: p, rep: 1, ok: !errors.has(p) && latenciesMs.length > 0, latenciesMs };
    const cpu = meter.of(p);
    if (cpu) s.cpu = cpu;
    if (errors.has(p)) s.error = errors.get(p);
    ctx.record(s);
  }
}
