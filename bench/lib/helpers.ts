/**
 * @module bench/lib/helpers
 * What every scenario does: run the same work on each path in alternating order (a, b, c, a, b,
 * c...), record a sample per run with the CPU each process spent, find the Pod behind a
 * kuber-api container (path b works on that Pod), and reach the raw producer through the proxy.
 */
import { connect, type Socket } from 'node:net';
import { cpuSeconds, machineBusySeconds, reapedChildrenCpuSeconds, treeCpuSeconds } from './procs.js';
import type { DockerClient } from './docker-client.js';
import type { Ctx, PathId, Sample } from './types.js';

export const MiB = 1024 * 1024;

/** The Docker client of a Docker-side path. */
export function dockerOf(ctx: Ctx, p: PathId): DockerClient {
  if (p === 'd') {
    if (!ctx.other) throw new Error('path d needs --docker-host');
    return ctx.other;
  }
  return ctx.docker;
}

export function cpuSnapshot(ctx: Ctx): Record<string, number> {
  const s: Record<string, number> = {};
  for (const [name, pid] of Object.entries(ctx.pids)) {
    // kube-sim's sandboxed processes (the producers) are its descendants: counted apart.
    if (name === 'kube-sim') {
      s[name] = cpuSeconds(pid) ?? 0;
      s['pods'] = treeCpuSeconds(pid) - s[name]!;
    } else s[name] = cpuSeconds(pid) ?? 0;
  }
  const u = process.cpuUsage();
  s['harness'] = (u.user + u.system) / 1e6;
  // The docker CLI runs (path e cases) are the harness's children that exit during a sample.
  s['docker CLI'] = reapedChildrenCpuSeconds();
  s['machine'] = machineBusySeconds();
  return s;
}

export function cpuDelta(a: Record<string, number>, b: Record<string, number>, round = true): Record<string, number> {
  const d: Record<string, number> = {};
  for (const k of Object.keys(b)) {
    const v = Math.max(0, (b[k] ?? 0) - (a[k] ?? 0));
    d[k] = round ? Math.round(v * 100) / 100 : v;
  }
  return d;
}

/**
 * CPU per path summed over many short operations (latency scenarios): each operation is wrapped,
 * the deltas are kept unrounded and rounded once at the end (10 ms ticks, so only sums mean much).
 */
export class CpuMeter {
  private readonly acc = new Map<PathId, Record<string, number>>();
  constructor(private readonly ctx: Ctx) {}
  async around<T>(p: PathId, fn: () => Promise<T>): Promise<T> {
    const a = cpuSnapshot(this.ctx);
    try {
      return await fn();
    } finally {
      const d = cpuDelta(a, cpuSnapshot(this.ctx), false);
      const t = this.acc.get(p) ?? {};
      for (const [k, v] of Object.entries(d)) t[k] = (t[k] ?? 0) + v;
      this.acc.set(p, t);
    }
  }
  of(p: PathId): Record<string, number> | undefined {
    const t = this.acc.get(p);
    return t && Object.fromEntries(Object.entries(t).map(([k, v]) => [k, Math.round(v * 100) / 100]));
  }
}

/**
 * One measured run: `fn` returns the sample's fields; CPU is recorded around it; an exception
 * becomes a failed sample (errors are data: the run goes on).
 */
export async function measure(
  ctx: Ctx,
  caseId: string,
  path: PathId,
  rep: number,
  fn: () => Promise<Partial<Sample>>,
): Promise<Sample> {
  const c0 = cpuSnapshot(ctx);
  let s: Sample;
  try {
    const r = await fn();
    s = { case: caseId, path, rep, ok: r.ok ?? true, ...r };
  } catch (err) {
    s = { case: caseId, path, rep, ok: false, error: (err as Error).message };
  }
  s.cpu = cpuDelta(c0, cpuSnapshot(ctx));
  ctx.record(s);
  return s;
}

/** reps × paths in alternating order: a, b, c, a, b, c... */
export async function alternate(
  ctx: Ctx,
  reps: number,
  paths: PathId[],
  fn: (p: PathId, rep: number) => Promise<void>,
): Promise<void> {
  for (let rep = 1; rep <= reps; rep++) for (const p of paths) await fn(p, rep);
}

/** Connect to the raw producer through the pass-through and send its command line. */
export function rawConnect(ctx: Ctx, command: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect({ port: ctx.proxyPort, host: '127.0.0.1', noDelay: true }, () => {
      s.off('error', reject);
      s.write(command + '\n');
      resolve(s);
    });
    s.once('error', reject);
  });
}

/** MiB per stream on path `p`: path d (the docker host) is capped at --docker-host-mib. */
export function mibOn(ctx: Ctx, p: PathId, mib: number): number {
  return p === 'd' ? Math.min(mib, ctx.opts.dMiB) : mib;
}

/** The paths of a stream case: the environment's, plus the Node floor (f) when it runs. */
export function streamPaths(ctx: Ctx): PathId[] {
  return ctx.floorPort ? [...ctx.paths, 'f'] : ctx.paths;
}

/**
 * Ask the Node floor (path f) for a stream (bench/lib/floor-proxy: one JSON line, then the
 * payload with no framing until FIN; a failure upstream destroys the socket).
 */
export function floorConnect(ctx: Ctx, req: Record<string, unknown>): Promise<Socket> {
  return new Promise((resolve, reject) => {
    if (!ctx.floorPort) return reject(new Error('path f: no Node floor in this environment'));
    const s = connect({ port: ctx.floorPort, host: '127.0.0.1', noDelay: true, allowHalfOpen: true }, () => {
      s.off('error', reject);
      s.write(JSON.stringify(req) + '\n');
      resolve(s);
    });
    s.once('error', reject);
  });
}

/** The Pod running kuber-api container `id` (its current run). */
export async function podOf(ctx: Ctx, id: string): Promise<string> {
  const list = await ctx.kube.listPods(
    `kuber-api.io/container=${id.slice(0, 12)},kuber-api.io/instance=${ctx.instance}`,
  );
  const pods = list.items.sort(
    (x, y) =>
      Number(y.metadata.annotations?.['kuber-api.io/run'] ?? 0) -
      Number(x.metadata.annotations?.['kuber-api.io/run'] ?? 0),
  );
  if (!pods.length) throw new Error(`no pod found for container ${id.slice(0, 12)}`);
  return pods[0].metadata.name as string;
}

/** The container name inside kuber-api's Pods. */
export const MAIN = 'main';

/** Create and start a container; returns its ID. */
export async function run(
  client: DockerClient,
  cmd: string[],
  o: { tty?: boolean; openStdin?: boolean; name?: string; labels?: Record<string, string> } = {},
  image = 'busybox',
): Promise<string> {
  const id = await client.create(
    {
      Image: image,
      Cmd: cmd,
      Tty: !!o.tty,
      OpenStdin: !!o.openStdin,
      AttachStdin: !!o.openStdin,
      AttachStdout: true,
      AttachStderr: true,
      Labels: { 'kuber-api.bench': '1', ...o.labels },
    },
    o.name,
  );
  await client.start(id);
  return id;
}

/** A throughput timeout: a minute plus 5 MiB/s worth of the stream. */
export function streamTimeout(bytes: number): number {
  return 60_000 + Math.ceil(bytes / (5 * MiB)) * 1000;
}

export function fmtMiB(bytes: number): string {
  return `${(bytes / MiB).toFixed(0)} MiB`;
}

export async function removeAll(client: DockerClient, ids: Iterable<string>): Promise<void> {
  const all = [...ids];
  for (let i = 0; i < all.length; i += 16)
    await Promise.all(all.slice(i, i + 16).map((id) => client.remove(id).catch(() => {})));
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
