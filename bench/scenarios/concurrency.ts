/**
 * @module bench/scenarios/concurrency
 * N (default 1000) streams at once, every byte of each verified: N execs of the producer spread
 * over a few running containers, and N `docker logs` of finished containers. Reported: the
 * aggregate throughput (all verified bytes over the wall time from the first request to the last
 * byte), the streams that failed (error, wrong exit code, any byte wrong or missing) and the first
 * error. (b) does the same on pods/exec and pods/log, (c) N raw streams through the pass-through.
 * The RSS of every process is tracked over each round: kuber-api's growth over idle divided by N
 * is its memory per open stream.
 */
import { alternate, dockerOf, measure, removeAll } from '../lib/helpers.js';
import type { Ctx, PathId } from '../lib/types.js';
import { finishedProducers, readLogs } from './logs.js';
import { dropSleepers, execProducer, sleepers } from './stream.js';
import type { ReadResult } from '../lib/consume.js';
import { withMemory } from './backpressure.js';

async function fanOut(ctx: Ctx, label: string, n: number, one: (i: number) => Promise<ReadResult>) {
  const { result, mem } = await withMemory(ctx, () => fanOutStreams(ctx, label, n, one));
  return { ...result, mem };
}

/** `n` streams at once: their verified bytes, the failures and the first error (also the load bench's phases). */
export async function fanOutStreams(ctx: Ctx, label: string, n: number, one: (i: number) => Promise<ReadResult>) {
  const t0 = performance.now();
  let done = 0;
  let failed = 0;
  let bytes = 0;
  let firstError: string | undefined;
  await Promise.all(
    Array.from({ length: n }, async (_, i) => {
      let r: ReadResult;
      try {
        r = await one(i);
      } catch (err) {
        r = { ok: false, error: (err as Error).message, bytes: 0, seconds: 0, ttfbMs: NaN, stderrBytes: 0, reads: 0 };
      }
      done++;
      bytes += r.bytes;
      if (!r.ok) {
        failed++;
        firstError ??= `stream ${i}: ${r.error}`;
      }
      if (done % 20 === 0) ctx.progress(`${label}: ${done}/${n} streams done`);
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  return { ok: failed === 0, bytes, seconds, streams: n, failed, ...(firstError ? { error: firstError } : {}) };
}

export async function concurrency(ctx: Ctx): Promise<void> {
  const n = ctx.opts.concurrency;
  const blocks = ctx.opts.concMiB;
  const k = ctx.opts.concContainers;
  const execId = `concurrency exec ×${n}`;
  const logsId = `concurrency logs ×${n}`;
  ctx.declare({
    id: execId,
    group: 'concurrency',
    metric: 'concurrency',
    what: `${n} concurrent execs of ${blocks} MiB each over ${k} containers`,
  });
  ctx.declare({
    id: logsId,
    group: 'concurrency',
    metric: 'concurrency',
    what: `${n} concurrent logs of ${blocks} MiB each over ${k} finished containers`,
  });
  // Every stream's timeout allows for the n streams sharing the path (a docker host serving 1,000
  // json-file logs at once needs minutes for them all).
  const quiet = () =>
    ({
      ...ctx,
      sharedBy: n,
      progress: (t: string) => (t.includes('streams done') ? ctx.progress(t) : undefined),
    }) as Ctx;

  const targets = await sleepers(ctx, k);
  try {
    await alternate(ctx, ctx.opts.reps, ctx.paths, async (p: PathId, rep) => {
      await measure(ctx, execId, p, rep, () =>
        fanOut(ctx, `${execId} #${rep} ${p}`, n, (i) =>
          execProducer(quiet(), p, targets.get(p)?.[i % k] ?? { id: '' }, blocks, false, execId),
        ),
      );
    });
  } finally {
    await dropSleepers(ctx, targets);
  }
  const finished = await Promise.all(Array.from({ length: k }, () => finishedProducers(ctx, blocks, logsId)));
  try {
    await alternate(ctx, ctx.opts.reps, ctx.paths, async (p: PathId, rep) => {
      await measure(ctx, logsId, p, rep, () =>
        fanOut(ctx, `${logsId} #${rep} ${p}`, n, (i) =>
          readLogs(quiet(), p, finished[i % k]!.get(p) ?? { id: '' }, { blocks }, false, { label: logsId }),
        ),
      );
    });
  } finally {
    for (const f of finished)
      for (const p of ['a', 'd'] as PathId[]) if (f.has(p)) await removeAll(dockerOf(ctx, p), [f.get(p)!.id]);
  }
}
