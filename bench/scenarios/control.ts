/**
 * @module bench/scenarios/control
 * Control plane:
 * - `docker ps` with N running containers: GET /containers/json (a, d) against the equivalent
 *   direct list of the Pods by label (b) and a request/response of the same size through the raw
 *   pass-through (c);
 * - create+start: POST /containers/create + /start, which returns once the container runs (a, d),
 *   against creating the same Pod directly and watching it until its container runs (b). There is
 *   nothing for a raw pass-through to do here: no (c).
 * Latencies alternate path by path, sample by sample.
 */
import { alternate, CpuMeter, dockerOf, rawConnect, removeAll, run, podOf } from '../lib/helpers.js';
import type { Ctx, PathId, Sample } from '../lib/types.js';

const SLEEP = ['sleep', '3600'];

export async function controlPlane(ctx: Ctx): Promise<void> {
  const n = ctx.opts.psContainers;
  const psCase = `docker ps (${n})`;
  ctx.declare({
    id: psCase,
    group: 'control',
    metric: 'latency',
    what: `GET /containers/json with ${n} running containers, vs listing their Pods directly`,
  });
  ctx.declare({
    id: 'create+start',
    group: 'control',
    metric: 'latency',
    what: 'create + start until running, vs creating the same Pod directly and watching it run',
  });
  const dockerPaths = ctx.paths.filter((p) => p === 'a' || p === 'd');
  const made = new Map<PathId, string[]>();
  try {
    // ---- setup: n running containers on each Docker side ----
    for (const p of dockerPaths) {
      const c = dockerOf(ctx, p);
      const ids: string[] = [];
      made.set(p, ids);
      for (let i = 0; i < n; i += 10) {
        ctx.progress(`${psCase}: starting containers on ${p} ${i}/${n}`);
        const batch = await Promise.all(
          Array.from({ length: Math.min(10, n - i) }, () => run(c, SLEEP, {}, ctx.opts.image)),
        );
        ids.push(...batch);
      }
    }
    // The size of kuber-api's answer, for the raw request/response of the same size.
    const body = JSON.stringify(await ctx.docker.json('GET', '/containers/json'));
    const lat = new Map<PathId, number[]>(ctx.paths.map((p) => [p, []]));
    const errors = new Map<PathId, string>();
    const samples = ctx.opts.samples;
    const meter = new CpuMeter(ctx);
    const one = async (p: PathId): Promise<void> => {
      const t0 = performance.now();
      if (p === 'a' || p === 'd') {
        const list = await dockerOf(ctx, p).json<unknown[]>('GET', '/containers/json');
        if (list.length < n) throw new Error(`docker ps listed ${list.length} containers, expected ${n}`);
      } else if (p === 'b') {
        const list = await ctx.kube.listPods(`kuber-api.io/instance=${ctx.instance},kuber-api.io/kind=container`);
        if (list.items.length < n) throw new Error(`listed ${list.items.length} pods, expected ${n}`);
      } else {
        const s = await rawConnect(ctx, `reply ${Buffer.byteLength(body)}`);
        let got = 0;
        await new Promise<void>((res, rej) => {
          s.on('data', (d: Buffer) => (got += d.length));
          s.on('end', () => (got === Buffer.byteLength(body) ? res() : rej(new Error(`raw reply: ${got} bytes`))));
          s.on('error', rej);
        });
        s.destroy();
      }
      lat.get(p)!.push(performance.now() - t0);
    };
    for (let i = 0; i < samples; i++) {
      if (i % 10 === 0) ctx.progress(`${psCase}: sample ${i}/${samples}`);
      for (const p of ctx.paths) await meter.around(p, () => one(p)).catch((err: Error) => errors.set(p, err.message));
    }
    for (const p of ctx.paths)
      record(
        ctx,
        psCase,
        p,
        lat.get(p)!,
        errors.get(p),
        `${Buffer.byteLength(body)} bytes of JSON from kuber-api`,
        meter.of(p),
      );

    // ---- create+start ----
    const csPaths = ctx.paths.filter((p) => p !== 'c');
    const cs = new Map<PathId, number[]>(csPaths.map((p) => [p, []]));
    const csErrors = new Map<PathId, string>();
    const template = csPaths.includes('b')
      ? podTemplate(await ctx.kube.getPod(await podOf(ctx, made.get('a')![0]!)))
      : undefined;
    const direct: string[] = [];
    const csSamples = Math.max(3, Math.ceil(samples / 5));
    let k = 0;
    const csMeter = new CpuMeter(ctx);
    await alternate(ctx, csSamples, csPaths, async (p, rep) => {
      if (p === csPaths[0]) ctx.progress(`create+start: sample ${rep}/${csSamples}`);
      await csMeter.around(p, async () => {
        try {
          const t0 = performance.now();
          if (p === 'b') {
            const name = `bench-direct-${process.pid}-${k++}`;
            const created = await ctx.kube.createPod({ ...template, metadata: { ...template!.metadata, name } });
            direct.push(name);
            await ctx.kube.waitRunning(name, created.metadata.resourceVersion);
          } else {
            const id = await run(dockerOf(ctx, p), SLEEP, {}, ctx.opts.image);
            made.get(p)!.push(id);
          }
          cs.get(p)!.push(performance.now() - t0);
        } catch (err) {
          csErrors.set(p, (err as Error).message);
        }
      });
    });
    for (const p of csPaths) record(ctx, 'create+start', p, cs.get(p)!, csErrors.get(p), undefined, csMeter.of(p));
    await Promise.all(direct.map((name) => ctx.kube.deletePod(name).catch(() => {})));
  } finally {
    ctx.progress(`control: removing containers`);
    for (const [p, ids] of made) await removeAll(dockerOf(ctx, p), ids);
  }
}

function record(
  ctx: Ctx,
  id: string,
  p: PathId,
  latenciesMs: number[],
  error: string | undefined,
  note?: string,
  cpu?: Record<string, number>,
): void {
  const s: Sample = { case: id, path: p, rep: 1, ok: !error && latenciesMs.length > 0, latenciesMs };
  if (cpu) s.cpu = cpu;
  if (error) s.error = error;
  if (note) s.note = note;
  ctx.record(s);
}

/** A Pod kuber-api created, made into a fresh Pod that kuber-api does not consider its own. */
function podTemplate(pod: any): any {
  const strip = (m: Record<string, string> = {}) =>
    Object.fromEntries(Object.entries(m).filter(([k]) => !k.startsWith('kuber-api.io/')));
  const spec = { ...pod.spec };
  delete spec.nodeName;
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      labels: { ...strip(pod.metadata.labels), 'kuber-api.bench': 'direct' },
      annotations: strip(pod.metadata.annotations),
    },
    spec,
  };
}
