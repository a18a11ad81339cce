/**
 * @module bench/scenarios/latency
 * Latency of the two interactive paths:
 * - exec round trip: the sequence testcontainers' port check repeats every 100 ms
 *   (testcontainers-node wait-strategies/utils/port-check.ts): exec create of
 *   `cat /proc/net/tcp* | awk | grep -i :1f90`, exec start without upgrade
 *   (`{"stdin":true,"Detach":false,"Tty":false}`), read the stdcopy body to EOF, then exec inspect
 *   for the exit code. (b) is the same command on pods/exec, exit code from channel 3; (c) is one
 *   request/response of the same size through the raw pass-through. The container runs busybox
 *   httpd on :8080, so the check succeeds (exit 0, one line of output) on every path.
 * - interactive echo: `exec -it sh -c 'stty raw -echo; echo READY; exec cat'`, then one byte at a
 *   time, each echoed back by cat before the next is sent. (b) the same on pods/exec with a TTY;
 *   (c) an echo server through the pass-through.
 */
import type { Socket } from 'node:net';
import { StdcopyDemuxer } from '../lib/demux.js';
import { CH_STDIN, CH_STDOUT, CH_STATUS, exitCodeOfStatus } from '../lib/kube-direct.js';
import { CpuMeter, dockerOf, MAIN, rawConnect } from '../lib/helpers.js';
import type { Ctx, PathId, Sample } from '../lib/types.js';
import { dropSleepers, sleepers } from './stream.js';

export const PORT_CHECK = ['/bin/sh', '-c', "cat /proc/net/tcp* | awk '{print $2}' | grep -i :1f90"];
export const HTTPD = ['sh', '-c', 'httpd -p 8080 -h /tmp && exec sleep 3600'];

export async function roundTrip(ctx: Ctx): Promise<void> {
  const id = 'exec round trip';
  ctx.declare({
    id,
    group: 'roundtrip',
    metric: 'latency',
    what: 'testcontainers port check: exec create, start (no upgrade), read to EOF, inspect exit code',
  });
  const targets = await sleepers(ctx, 1, HTTPD);
  const lat = new Map<PathId, number[]>(ctx.paths.map((p) => [p, []]));
  const errors = new Map<PathId, string>();
  const outputs = new Map<PathId, string>();
  const meter = new CpuMeter(ctx);
  try {
    const one = async (p: PathId): Promise<void> => {
      const t = targets.get(p)?.[0];
      const t0 = performance.now();
      let out = '';
      let code: number;
      if (p === 'c') {
        const s = await rawConnect(ctx, 'reply 14');
        out = await new Promise<string>((res, rej) => {
          let got = '';
          s.on('data', (d: Buffer) => (got += d.toString('latin1')));
          s.on('end', () => res(got));
          s.on('error', rej);
        });
        s.destroy();
        code = 0;
      } else if (p === 'b') {
        const { ws } = await ctx.kube.exec(t!.pod!, PORT_CHECK, { container: MAIN });
        let status = '';
        code = await new Promise<number>((res, rej) => {
          ws.on('message', (m: Buffer) => {
            if (m[0] === CH_STDOUT) out += m.toString('latin1', 1);
            else if (m[0] === CH_STATUS) status += m.toString('utf8', 1);
          });
          ws.resume(); // handed over paused (KubeDirect)
          ws.once('close', () => {
            try {
              res(status ? exitCodeOfStatus(status) : 0);
            } catch (err) {
              rej(err);
            }
          });
          ws.once('error', rej);
        });
      } else {
        const c = dockerOf(ctx, p);
        const execId = await c.execCreate(t!.id, { Cmd: PORT_CHECK, AttachStdout: true, AttachStderr: true });
        const body = await c.execStartPlain(execId, { stdin: true, Detach: false, Tty: false });
        const d = new StdcopyDemuxer(
          (b) => (out += b.toString('latin1')),
          () => {},
        );
        d.push(body);
        if (!d.clean) throw new Error(d.error ?? 'truncated stdcopy frame');
        const ins = await c.execInspect(execId);
        if (ins.ExitCode === null || ins.Running)
          throw new Error(`exec inspect right after EOF: Running=${ins.Running} ExitCode=${ins.ExitCode}`);
        code = ins.ExitCode;
      }
      const ms = performance.now() - t0;
      if (code !== 0) throw new Error(`exit code ${code}, output ${JSON.stringify(out)}`);
      if (p === 'c' ? out.length !== 14 : !/:1F90/i.test(out))
        throw new Error(`unexpected output ${JSON.stringify(out)}`);
      outputs.set(p, out.trim());
      lat.get(p)!.push(ms);
    };
    const n = ctx.opts.samples;
    for (let i = 0; i < n; i++) {
      if (i % 10 === 0) ctx.progress(`${id}: sample ${i}/${n}`);
      for (const p of ctx.paths) await meter.around(p, () => one(p)).catch((err: Error) => errors.set(p, err.message));
    }
  } finally {
    await dropSleepers(ctx, targets);
  }
  for (const p of ctx.paths) rec(ctx, id, p, lat.get(p)!, errors.get(p), outputs.get(p), meter.of(p));
}

/** A TTY session on a path: `send` one keystroke, `onOutput` sees every output byte. */
interface Session {
  send(b: Buffer): void;
  onOutput(cb: (b: Buffer) => void): void;
  close(): void;
}

const ECHO_CMD = ['sh', '-c', 'stty raw -echo; echo READY; exec cat'];

async function openSession(ctx: Ctx, p: PathId, t: { id: string; pod?: string } | undefined): Promise<Session> {
  let cb: (b: Buffer) => void = () => {};
  if (p === 'c') {
    const s = await rawConnect(ctx, 'echo');
    s.on('data', (d: Buffer) => cb(d));
    s.write('READY\n');
    return { send: (b) => s.write(b), onOutput: (f) => (cb = f), close: () => s.destroy() };
  }
  if (p === 'b') {
    const { ws } = await ctx.kube.exec(t!.pod!, ECHO_CMD, { container: MAIN, tty: true, stdin: true });
    ws.on('message', (m: Buffer) => {
      if (m[0] === CH_STDOUT) cb(m.subarray(1));
    });
    ws.resume(); // handed over paused (KubeDirect)
    return {
      send: (b) => ws.send(Buffer.concat([Buffer.from([CH_STDIN]), b])),
      onOutput: (f) => (cb = f),
      close: () => ws.close(1000),
    };
  }
  const c = dockerOf(ctx, p);
  const execId = await c.execCreate(t!.id, {
    Cmd: ECHO_CMD,
    AttachStdin: true,
    AttachStdout: true,
    AttachStderr: true,
    Tty: true,
  });
  const h = await c.hijack(`/exec/${execId}/start`, { Detach: false, Tty: true });
  const s: Socket = h.socket;
  s.setNoDelay(true);
  s.on('data', (d: Buffer) => cb(d));
  if (h.head.length) setImmediate(() => cb(h.head));
  return { send: (b) => s.write(b), onOutput: (f) => (cb = f), close: () => s.destroy() };
}

export async function echo(ctx: Ctx): Promise<void> {
  const id = 'echo exec -it';
  ctx.declare({
    id,
    group: 'echo',
    metric: 'latency',
    what: 'one keystroke through exec -it, echoed back by cat in raw mode',
  });
  const targets = await sleepers(ctx, 1);
  const lat = new Map<PathId, number[]>(ctx.paths.map((p) => [p, []]));
  const errors = new Map<PathId, string>();
  const reps = ctx.opts.reps;
  const per = Math.max(10, Math.ceil(ctx.opts.samples / reps));
  const meter = new CpuMeter(ctx);
  try {
    for (let rep = 1; rep <= reps; rep++) {
      for (const p of ctx.paths) {
        ctx.progress(`${id} #${rep} ${p}: ${per} keystrokes`);
        let s: Session | undefined;
        try {
          s = await openSession(ctx, p, targets.get(p)?.[0]);
          await waitFor(s, 'READY', 30_000);
          // CPU over the keystrokes only (not the session's exec).
          await meter.around(p, async () => {
            for (let i = 0; i < per; i++) {
              const key = 0x61 + (i % 26);
              const t0 = performance.now();
              await new Promise<void>((res, rej) => {
                const timer = setTimeout(() => rej(new Error(`no echo within 10 s (keystroke ${i})`)), 10_000);
                s!.onOutput((b) => {
                  if (b.includes(key)) {
                    clearTimeout(timer);
                    res();
                  }
                });
                s!.send(Buffer.from([key]));
              });
              lat.get(p)!.push(performance.now() - t0);
            }
          });
        } catch (err) {
          errors.set(p, (err as Error).message);
        } finally {
          s?.close();
        }
      }
    }
  } finally {
    await dropSleepers(ctx, targets);
  }
  for (const p of ctx.paths) rec(ctx, id, p, lat.get(p)!, errors.get(p), undefined, meter.of(p));
}

function waitFor(s: Session, text: string, ms: number): Promise<void> {
  return new Promise((res, rej) => {
    let got = '';
    const timer = setTimeout(
      () => rej(new Error(`no ${text} within ${ms} ms (got ${JSON.stringify(got.slice(-200))})`)),
      ms,
    );
    s.onOutput((b) => {
      got += b.toString('latin1');
      if (got.includes(text)) {
        clearTimeout(timer);
        res();
      }
    });
  });
}

function rec(
  ctx: Ctx,
  id: string,
  p: PathId,
  latenciesMs: number[],
  error: string | undefined,
  note?: string,
  cpu?: Record<string, number>,
): void {
  const s: Sample = {
    case: id,
    path: p,
    rep: 1,
    ok: !error && latenciesMs.length > 0,
    latenciesMs: latenciesMs.map((x) => Math.round(x * 1000) / 1000),
  };
  if (cpu) s.cpu = cpu;
  if (error) s.error = error;
  if (note) s.note = note;
  ctx.record(s);
}
