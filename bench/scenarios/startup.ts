/**
 * @module bench/scenarios/startup
 * The sidecar's footprint: (a) a fresh kuber-api process against the running apiserver (the
 * embedded simulator is not in it: kube-sim is its own process), from its spawn to its first
 * answered `GET /containers/json` (200, what `docker ps` waits for; kuber-api answers 503 until
 * its Kubernetes backend is up), and its RSS two seconds later, idle; (c) the same for a bare
 * node:http server answering `[]`: what any Node sidecar costs before it does anything.
 */
import { DockerClient } from '../lib/docker-client.js';
import { memStatus, startBareHttp } from '../lib/procs.js';
import { sleep } from '../lib/helpers.js';
import type { Ctx, PathId, Sample } from '../lib/types.js';

export const STARTUP_CASE = 'start → first docker ps';
/** How long after its first answer the process is considered idle (its startup garbage collected or not). */
const SETTLE_MS = 2000;

/** Poll GET /containers/json every 5 ms until it answers 200. */
async function firstAnswer(host: string, deadline: number): Promise<void> {
  const c = new DockerClient(host);
  try {
    for (;;) {
      try {
        await c.json('GET', '/containers/json');
        return;
      } catch (err) {
        if (performance.now() > deadline) throw err;
        await sleep(5);
      }
    }
  } finally {
    c.close();
  }
}

export async function startup(ctx: Ctx): Promise<void> {
  if (!ctx.spawnKuber) return;
  ctx.declare({
    id: STARTUP_CASE,
    group: 'startup',
    metric: 'latency',
    what: 'a new kuber-api process, spawn to its first answered GET /containers/json, and its idle RSS 2 s later; (c) a bare node:http server',
  });
  const runs = ctx.opts.quick ? 2 : 5;
  const lat = new Map<PathId, number[]>([
    ['a', []],
    ['c', []],
  ]);
  const rss = new Map<PathId, number[]>([
    ['a', []],
    ['c', []],
  ]);
  const errors = new Map<PathId, string>();
  for (let i = 0; i < runs; i++) {
    for (const p of ['a', 'c'] as PathId[]) {
      ctx.progress(`${STARTUP_CASE}: run ${i + 1}/${runs} on ${p}`);
      const t0 = performance.now();
      let proc: { pid: number; stop(): Promise<void> } | undefined;
      try {
        let host: string;
        if (p === 'a') {
          const k = await ctx.spawnKuber();
          proc = k;
          host = k.dockerHost;
        } else {
          const b = await startBareHttp();
          proc = b;
          host = `tcp://127.0.0.1:${b.port}`;
        }
        await firstAnswer(host, t0 + 60_000);
        lat.get(p)!.push(Math.round((performance.now() - t0) * 1000) / 1000);
        await sleep(SETTLE_MS);
        const m = memStatus(proc.pid);
        if (m) rss.get(p)!.push(m.rssKiB);
      } catch (err) {
        errors.set(p, (err as Error).message);
      } finally {
        await proc?.stop();
      }
    }
  }
  for (const p of ['a', 'c'] as PathId[]) {
    const r = rss.get(p)!;
    const s: Sample = {
      case: STARTUP_CASE,
      path: p,
      rep: 1,
      ok: !errors.has(p) && lat.get(p)!.length > 0,
      latenciesMs: lat.get(p)!,
    };
    if (r.length) s.rssKiB = [...r].sort((x, y) => x - y)[Math.floor((r.length - 1) / 2)]!;
    if (errors.has(p)) s.error = errors.get(p);
    ctx.record(s);
  }
}
