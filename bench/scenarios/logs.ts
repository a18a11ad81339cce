/**
 * @module bench/scenarios/logs
 * Log throughput: `docker logs` of a finished container with N MiB of output, and `docker logs -f`
 * of a running producer, timestamps off and on. (a/d) GET /containers/{id}/logs (stdcopy frames
 * in a chunked body); (b) GET pods/{pod}/log of the same Pod (text/plain, chunked); (c) the same
 * bytes from the raw producer through the TCP pass-through; (f) the same pods/log read by the Node
 * floor and written to a socket unframed. Every byte is verified.
 */
import { Verifier, producerCmd, type StreamShape } from '../lib/model.js';
import { readAll, readableSource, type ReadResult, type Source } from '../lib/consume.js';
import {
  alternate,
  dockerOf,
  floorConnect,
  fmtMiB,
  measure,
  MAIN,
  mibOn,
  podOf,
  rawConnect,
  removeAll,
  run,
  streamPaths,
  streamTimeout,
} from '../lib/helpers.js';
import type { Ctx, PathId } from '../lib/types.js';

/** Open the log stream of container `id` (its Pod `pod` for b) on path `p`. */
export async function openLogs(
  ctx: Ctx,
  p: PathId,
  target: { id: string; pod?: string },
  shape: StreamShape,
  follow: boolean,
): Promise<Source> {
  if (p === 'c') return readableSource(await rawConnect(ctx, `stream ${shape.blocks} 0 ${shape.timestamps ? 1 : 0}`));
  if (p === 'b')
    return readableSource(
      await ctx.kube.logStream(target.pod!, { container: MAIN, follow, timestamps: !!shape.timestamps }),
    );
  if (p === 'f')
    return readableSource(
      await floorConnect(ctx, { op: 'log', pod: target.pod!, container: MAIN, follow, timestamps: !!shape.timestamps }),
    );
  const q = `stdout=1&stderr=1${follow ? '&follow=1' : ''}${shape.timestamps ? '&timestamps=1' : ''}`;
  return readableSource(await dockerOf(ctx, p).stream(`/containers/${target.id}/logs?${q}`));
}

export async function readLogs(
  ctx: Ctx,
  p: PathId,
  target: { id: string; pod?: string },
  shape: StreamShape,
  follow: boolean,
  o: { rate?: number; label: string },
): Promise<ReadResult> {
  const v = new Verifier(shape);
  const t0 = performance.now();
  const src = await openLogs(ctx, p, target, shape, follow);
  return readAll(src, v, {
    stdcopy: p === 'a' || p === 'd',
    timeoutMs: streamTimeout(v.expected * (ctx.sharedBy ?? 1)) + (o.rate ? (v.expected / o.rate) * 1000 : 0),
    t0,
    rate: o.rate,
    onProgress: (b) => ctx.progress(`${o.label} ${p}: ${fmtMiB(b)} / ${fmtMiB(v.expected)}`),
  });
}

export function asSample(r: ReadResult) {
  return {
    ok: r.ok,
    error: r.error,
    bytes: r.bytes,
    seconds: r.seconds,
    ttfbMs: Math.round(r.ttfbMs * 100) / 100,
    reads: r.reads,
  };
}

/**
 * A finished container with `mib` MiB of output on each Docker side (b and f use a's); on d at
 * most --docker-host-mib unless `capD` is false.
 */
export async function finishedProducers(
  ctx: Ctx,
  mib: number,
  label: string,
  capD = true,
): Promise<Map<PathId, { id: string; pod?: string }>> {
  const out = new Map<PathId, { id: string; pod?: string }>();
  for (const p of ctx.paths.filter((x) => x === 'a' || x === 'd')) {
    const blocks = capD ? mibOn(ctx, p, mib) : mib;
    ctx.progress(`${label}: producing ${blocks} MiB in a container on ${p}`);
    const c = dockerOf(ctx, p);
    const id = await run(c, producerCmd(blocks), {}, ctx.opts.image);
    const code = await c.wait(id);
    if (code !== 0) throw new Error(`the producer container exited with ${code}`);
    out.set(p, { id, ...(p === 'a' ? { pod: await podOf(ctx, id) } : {}) });
  }
  if (out.has('a')) {
    out.set('b', out.get('a')!);
    out.set('f', out.get('a')!);
  }
  return out;
}

export async function logs(ctx: Ctx): Promise<void> {
  const blocks = ctx.opts.sizeMiB;
  const v = ctx.variant;
  const how = v ? ' (split streams: kuber-api merges the Stdout and Stderr bodies)' : '';
  for (const ts of [false, true]) {
    ctx.declare({
      id: `logs${ts ? ' -t' : ''}${v}`,
      group: 'logs',
      metric: 'throughput',
      what: `logs of a finished container, ${blocks} MiB${ts ? ', with timestamps' : ''}${how}`,
    });
  }
  for (const ts of [false, true]) {
    ctx.declare({
      id: `logs -f${ts ? ' -t' : ''}${v}`,
      group: 'logs',
      metric: 'throughput',
      what: `logs -f of a running producer, ${blocks} MiB${ts ? ', with timestamps' : ''}${how}`,
    });
  }
  const finished = await finishedProducers(ctx, blocks, 'logs');
  try {
    for (const ts of [false, true]) {
      const id = `logs${ts ? ' -t' : ''}${v}`;
      await alternate(ctx, ctx.opts.reps, streamPaths(ctx), async (p, rep) => {
        await measure(ctx, id, p, rep, async () =>
          asSample(
            await readLogs(
              ctx,
              p,
              finished.get(p) ?? { id: '' },
              { blocks: mibOn(ctx, p, blocks), timestamps: ts },
              false,
              { label: `${id} #${rep}` },
            ),
          ),
        );
      });
    }
  } finally {
    for (const p of ['a', 'd'] as const) if (finished.has(p)) await removeAll(dockerOf(ctx, p), [finished.get(p)!.id]);
  }
  // logs -f: a fresh producer per run, started (not timed), then followed from its first line.
  for (const ts of [false, true]) {
    const id = `logs -f${ts ? ' -t' : ''}${v}`;
    await alternate(ctx, ctx.opts.reps, streamPaths(ctx), async (p, rep) => {
      let target: { id: string; pod?: string } = { id: '' };
      const side = p === 'd' ? 'd' : 'a';
      try {
        if (p !== 'c') {
          const cid = await run(dockerOf(ctx, side), producerCmd(mibOn(ctx, p, blocks)), {}, ctx.opts.image);
          target = { id: cid, ...(p === 'b' || p === 'f' ? { pod: await podOf(ctx, cid) } : {}) };
        }
        await measure(ctx, id, p, rep, async () =>
          asSample(
            await readLogs(ctx, p, target, { blocks: mibOn(ctx, p, blocks), timestamps: ts }, true, {
              label: `${id} #${rep}`,
            }),
          ),
        );
      } finally {
        if (target.id) await removeAll(dockerOf(ctx, side), [target.id]);
      }
    });
  }
}
