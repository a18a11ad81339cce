/**
 * @module bench/scenarios/stream
 * Attach and exec stdout throughput, TTY and non-TTY.
 * - attach: a container whose command waits for one line on stdin, then writes N MiB. (a/d)
 *   create, attach (hijacked, stdin+stdout+stderr), start, send the newline, read to EOF (stdcopy
 *   without a TTY, raw with one); (b) the same container started through kuber-api, attached
 *   directly on pods/attach (v5 channels), the newline on channel 0, read to the close. The clock
 *   starts at the newline on both paths.
 * - exec: in a running container, (a/d) exec create + start hijacked with CloseWrite at once (what
 *   the docker CLI does without -i), read to EOF, then exec inspect for the exit code; (b) the same
 *   command on pods/exec. The clock covers create, start and the whole stream.
 * (c) is the same byte count from the raw producer (`\r\n` line ends for TTY) in every case.
 * (f) is path b's session opened by the Node floor, its payload written to a socket unframed (the
 * attach trigger newline goes through it to channel 0).
 */
import { Verifier, producerCmd, triggeredProducerCmd } from '../lib/model.js';
import { channelSource, readAll, readableSource, type ReadResult, type Source } from '../lib/consume.js';
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
import { CH_STDIN } from '../lib/kube-direct.js';
import type { Ctx, PathId } from '../lib/types.js';
import { asSample } from './logs.js';

const SLEEP = ['sleep', '3600'];

async function read(
  ctx: Ctx,
  label: string,
  p: PathId,
  v: Verifier,
  open: () => Promise<Source>,
  stdcopy: boolean,
  t0?: number,
  rate?: number,
): Promise<ReadResult> {
  const start = t0 ?? performance.now();
  const src = await open();
  return readAll(src, v, {
    stdcopy,
    t0: start,
    rate,
    timeoutMs: streamTimeout(v.expected * (ctx.sharedBy ?? 1)) + (rate ? (v.expected / rate) * 1000 : 0),
    onProgress: (b) => ctx.progress(`${label} ${p}: ${fmtMiB(b)} / ${fmtMiB(v.expected)}`),
  });
}

/** One exec of the producer on path `p` in container `target`; checks the exit code is 0. */
export async function execProducer(
  ctx: Ctx,
  p: PathId,
  target: { id: string; pod?: string },
  blocks: number,
  tty: boolean,
  label: string,
  rate?: number,
): Promise<ReadResult> {
  const v = new Verifier({ blocks, tty });
  const t0 = performance.now();
  if (p === 'c')
    return read(
      ctx,
      label,
      p,
      v,
      async () => readableSource(await rawConnect(ctx, `stream ${blocks} ${tty ? 1 : 0} 0`)),
      false,
      t0,
      rate,
    );
  if (p === 'b') {
    const r = await read(
      ctx,
      label,
      p,
      v,
      async () => channelSource((await ctx.kube.exec(target.pod!, producerCmd(blocks), { container: MAIN, tty })).ws),
      false,
      t0,
      rate,
    );
    if (r.ok && r.exitCode !== 0) return { ...r, ok: false, error: `exit code ${r.exitCode}` };
    return r;
  }
  // The floor destroys the socket on a non-zero exit code: a clean end means exit 0.
  if (p === 'f')
    return read(
      ctx,
      label,
      p,
      v,
      async () =>
        readableSource(
          await floorConnect(ctx, { op: 'exec', pod: target.pod!, container: MAIN, command: producerCmd(blocks), tty }),
        ),
      false,
      t0,
      rate,
    );
  const c = dockerOf(ctx, p);
  const execId = await c.execCreate(target.id, {
    Cmd: producerCmd(blocks),
    AttachStdout: true,
    AttachStderr: true,
    Tty: tty,
  });
  const r = await read(
    ctx,
    label,
    p,
    v,
    async () => {
      const h = await c.hijack(`/exec/${execId}/start`, { Detach: false, Tty: tty });
      h.socket.end(); // CloseWrite: no stdin (docker CLI hijackedIOStreamer)
      return readableSource(h.socket, h.head);
    },
    !tty,
    t0,
    rate,
  );
  if (!r.ok) return r;
  const ins = await c.execInspect(execId);
  if (ins.ExitCode !== 0)
    return { ...r, ok: false, error: `exec ExitCode ${ins.ExitCode} (Running ${ins.Running}) right after EOF` };
  return r;
}

async function attachOnce(ctx: Ctx, p: PathId, blocks: number, tty: boolean, label: string): Promise<ReadResult> {
  const v = new Verifier({ blocks, tty }, { allowLeadingNewlines: tty ? 2 : 0 });
  if (p === 'c')
    return read(
      ctx,
      label,
      p,
      v,
      async () => readableSource(await rawConnect(ctx, `stream ${blocks} ${tty ? 1 : 0} 0`)),
      false,
    );
  const side = p === 'd' ? 'd' : 'a';
  const c = dockerOf(ctx, side);
  const cmd = triggeredProducerCmd(blocks, tty);
  let id = '';
  try {
    if (p === 'b') {
      id = await run(c, cmd, { tty, openStdin: true }, ctx.opts.image);
      const pod = await podOf(ctx, id);
      const { ws } = await ctx.kube.attach(pod, { container: MAIN, tty, stdin: true });
      const t0 = performance.now();
      ws.send(Buffer.from([CH_STDIN, 0x0a]));
      return await read(ctx, label, p, v, async () => channelSource(ws), false, t0);
    }
    if (p === 'f') {
      id = await run(c, cmd, { tty, openStdin: true }, ctx.opts.image);
      const pod = await podOf(ctx, id);
      const t0 = performance.now();
      const s = await floorConnect(ctx, { op: 'attach', pod, container: MAIN, tty, stdin: true });
      s.write('\n');
      return await read(ctx, label, p, v, async () => readableSource(s), false, t0);
    }
    id = await c.create({
      Image: ctx.opts.image,
      Cmd: cmd,
      Tty: tty,
      OpenStdin: true,
      AttachStdin: true,
      AttachStdout: true,
      AttachStderr: true,
      Labels: { 'kuber-api.bench': '1' },
    });
    const h = await c.hijack(`/containers/${id}/attach?stream=1&stdin=1&stdout=1&stderr=1`);
    await c.start(id);
    const t0 = performance.now();
    h.socket.write('\n');
    const r = await read(ctx, label, p, v, async () => readableSource(h.socket, h.head), !tty, t0);
    if (r.ok) {
      const code = await c.wait(id);
      if (code !== 0) return { ...r, ok: false, error: `container exit code ${code}` };
    }
    return r;
  } finally {
    if (id) await removeAll(c, [id]);
  }
}

export async function attach(ctx: Ctx): Promise<void> {
  const blocks = ctx.opts.streamMiB;
  for (const tty of [false, true]) {
    const id = `attach${tty ? ' -t' : ''}`;
    ctx.declare({
      id,
      group: 'attach',
      metric: 'throughput',
      what: `attach stdout, ${blocks} MiB${tty ? ', TTY' : ''}`,
    });
  }
  for (const tty of [false, true]) {
    const id = `attach${tty ? ' -t' : ''}`;
    await alternate(ctx, ctx.opts.reps, streamPaths(ctx), async (p, rep) => {
      await measure(ctx, id, p, rep, async () =>
        asSample(await attachOnce(ctx, p, mibOn(ctx, p, blocks), tty, `${id} #${rep}`)),
      );
    });
  }
}

export async function exec(ctx: Ctx): Promise<void> {
  const blocks = ctx.opts.streamMiB;
  for (const tty of [false, true]) {
    const id = `exec${tty ? ' -t' : ''}`;
    ctx.declare({ id, group: 'exec', metric: 'throughput', what: `exec stdout, ${blocks} MiB${tty ? ', TTY' : ''}` });
  }
  const targets = await sleepers(ctx, 1);
  try {
    for (const tty of [false, true]) {
      const id = `exec${tty ? ' -t' : ''}`;
      await alternate(ctx, ctx.opts.reps, streamPaths(ctx), async (p, rep) => {
        await measure(ctx, id, p, rep, async () =>
          asSample(
            await execProducer(ctx, p, targets.get(p)?.[0] ?? { id: '' }, mibOn(ctx, p, blocks), tty, `${id} #${rep}`),
          ),
        );
      });
    }
  } finally {
    await dropSleepers(ctx, targets);
  }
}

/** `n` running containers on each Docker side (b and f get a's, with their Pods). */
export async function sleepers(
  ctx: Ctx,
  n: number,
  cmd: string[] = SLEEP,
): Promise<Map<PathId, Array<{ id: string; pod?: string }>>> {
  const out = new Map<PathId, Array<{ id: string; pod?: string }>>();
  for (const p of ctx.paths.filter((x) => x === 'a' || x === 'd')) {
    const c = dockerOf(ctx, p);
    const list = await Promise.all(
      Array.from({ length: n }, async () => {
        const id = await run(c, cmd, {}, ctx.opts.image);
        return { id, ...(p === 'a' ? { pod: await podOf(ctx, id) } : {}) };
      }),
    );
    out.set(p, list);
  }
  if (out.has('a')) {
    out.set('b', out.get('a')!);
    out.set('f', out.get('a')!);
  }
  return out;
}

export async function dropSleepers(ctx: Ctx, m: Map<PathId, Array<{ id: string }>>): Promise<void> {
  for (const p of ['a', 'd'] as const)
    if (m.has(p))
      await removeAll(
        dockerOf(ctx, p),
        m.get(p)!.map((x) => x.id),
      );
}
