/**
 * @module bench/scenarios/backpressure
 * A consumer that reads at a fixed slow rate (default 64 MiB/s, far below what every path can
 * produce) a 1 GiB log of a finished container and a 1 GiB exec stdout. Memory is what counts:
 * the RSS of every tracked process right before the stream (idle) and its peak over the stream
 * (VmRSS sampled every 50 ms, and VmHWM after resetting it through /proc/<pid>/clear_refs).
 * The headline is kuber-api's growth (peak - idle) on path a: it must stay bounded however slow
 * the reader is, which only holds if a full client socket pauses the upstream WebSocket/log
 * stream and the pause reaches kube-sim and the producer.
 */
import { memStatus, resetPeak } from '../lib/procs.js';
import { alternate, dockerOf, measure, MiB, mibOn, removeAll } from '../lib/helpers.js';
import type { Ctx, MemPeak, PathId, Sample } from '../lib/types.js';
import { asSample, finishedProducers, readLogs } from './logs.js';
import { dropSleepers, execProducer, sleepers } from './stream.js';

/** Track RSS of every process in ctx.pids while `fn` runs. */
export async function withMemory<T>(
  ctx: Ctx,
  fn: () => Promise<T>,
): Promise<{ result: T; mem: Record<string, MemPeak>; timeline: Record<string, number[]> }> {
  const mem: Record<string, MemPeak> = {};
  // RSS (MiB) of kuber-api and kube-sim every 500 ms: growth that levels off vs growth that keeps going.
  const timeline: Record<string, number[]> = {};
  let ticks = 0;
  for (const [name, pid] of Object.entries(ctx.pids)) {
    const m = memStatus(pid);
    if (!m) continue;
    resetPeak(pid);
    mem[name] = { idleKiB: m.rssKiB, peakKiB: m.rssKiB };
  }
  const poll = () => {
    const record = ticks++ % 10 === 0;
    for (const [name, pid] of Object.entries(ctx.pids)) {
      const m = memStatus(pid);
      if (m && mem[name]) mem[name]!.peakKiB = Math.max(mem[name]!.peakKiB, m.rssKiB);
      if (m && record && (name === 'kuber-api' || name === 'kube-sim'))
        (timeline[name] ??= []).push(Math.round(m.rssKiB / 102.4) / 10);
    }
  };
  const timer = setInterval(poll, 50);
  try {
    const result = await fn();
    return { result, mem, timeline };
  } finally {
    clearInterval(timer);
    poll();
    for (const [name, pid] of Object.entries(ctx.pids)) {
      const m = memStatus(pid);
      if (m && mem[name]) mem[name]!.peakKiB = Math.max(mem[name]!.peakKiB, m.hwmKiB);
    }
  }
}

/** MiB streamed at full speed on each path before memory is measured. */
const WARM_MIB = 64;

export async function backpressure(ctx: Ctx): Promise<void> {
  const blocks = ctx.opts.slowMiB;
  const rate = ctx.opts.slowMiBps * MiB;
  const logsId = `backpressure logs${ctx.variant}`;
  const execId = 'backpressure exec';
  ctx.declare({
    id: logsId,
    group: 'backpressure',
    metric: 'memory',
    what: `logs of ${blocks} MiB read at ${ctx.opts.slowMiBps} MiB/s: peak RSS and growth over idle`,
  });
  if (!ctx.variant)
    ctx.declare({
      id: execId,
      group: 'backpressure',
      metric: 'memory',
      what: `exec stdout of ${blocks} MiB read at ${ctx.opts.slowMiBps} MiB/s: peak RSS and growth over idle`,
    });
  const paths = ctx.paths;
  const reps = 1;
  const finished = await finishedProducers(ctx, blocks, logsId);
  const warm = Math.min(WARM_MIB, blocks);
  const warmLogs = await finishedProducers(ctx, warm, `${logsId} warm-up`);
  try {
    // A fresh Node process's first stream grows V8's young generation once (~30-40 MiB on every
    // path, the bare proxy included): stream once at full speed first, so that "idle" is a process
    // that has streamed before and the growth is what the slow reader adds.
    for (const p of paths) {
      ctx.progress(`${logsId}: warm-up ${warm} MiB on ${p}`);
      await readLogs(ctx, p, warmLogs.get(p) ?? { id: '' }, { blocks: warm }, false, { label: 'warm-up' }).catch(
        () => undefined,
      );
    }
    await alternate(ctx, reps, paths, async (p, rep) => {
      await measure(ctx, logsId, p, rep, async () => {
        const { result, mem, timeline } = await withMemory(ctx, () =>
          readLogs(ctx, p, finished.get(p) ?? { id: '' }, { blocks: mibOn(ctx, p, blocks) }, false, {
            rate,
            label: `${logsId}`,
          }),
        );
        return { ...asSample(result), mem, timeline } as Partial<Sample>;
      });
    });
  } finally {
    for (const p of ['a', 'd'] as PathId[])
      if (finished.has(p)) await removeAll(dockerOf(ctx, p), [finished.get(p)!.id, warmLogs.get(p)!.id]);
  }
  if (ctx.variant) return; // exec does not depend on the log variant
  const targets = await sleepers(ctx, 1);
  try {
    for (const p of paths) {
      ctx.progress(`${execId}: warm-up ${warm} MiB on ${p}`);
      await execProducer(ctx, p, targets.get(p)?.[0] ?? { id: '' }, warm, false, 'warm-up').catch(() => undefined);
    }
    await alternate(ctx, reps, paths, async (p, rep) => {
      await measure(ctx, execId, p, rep, async () => {
        const { result, mem, timeline } = await withMemory(ctx, () =>
          execProducer(ctx, p, targets.get(p)?.[0] ?? { id: '' }, mibOn(ctx, p, blocks), false, execId, rate),
        );
        return { ...asSample(result), mem, timeline } as Partial<Sample>;
      });
    });
  } finally {
    await dropSleepers(ctx, targets);
  }
}
