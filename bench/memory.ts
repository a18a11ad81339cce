/**
 * @module bench/memory
 * Where kuber-api's memory goes (issue 15's two RSS targets), for the profiles behind
 * bench/analysis.md and bench/optimisations.md 10:
 *
 *   node dist/bench/memory.js imports [MODULE...]
 *     The cost of each import, in order, in one fresh `node --expose-gc`: RSS (anonymous and
 *     file-backed: the node binary's pages a module's code touches), V8 heap used and external
 *     memory after a full GC. Default modules: what dist/src/main.js loads, in its order, then the
 *     backend (engine/boot.js).
 *
 *   node dist/bench/memory.js streams [--kind exec|logs] [-n N] [--cli PATH] [--no-tls]
 *        [--heap-snapshot DIR] [--node-flags "..."]
 *     N streams held open without data through one kuber-api (exec: `cat` waiting on its stdin;
 *     logs: `logs -f` of a container that prints nothing) on a kube-sim: kuber-api's RSS before,
 *     with the N open, and V8's view of it (process.memoryUsage and the heap spaces, from a
 *     `--import` hook on SIGWINCH) — what one open stream holds, apart from data in flight. With
 *     --heap-snapshot, snapshots before and with the N open land in DIR (--diagnostic-dir).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { KUBER_CLI, ROOT, memStatus, startKuber, startSim } from './lib/procs.js';
import { DockerClient } from './lib/docker-client.js';
import { run, sleep } from './lib/helpers.js';
import { waitReady } from './lib/meta.js';

const MiB = 1024 * 1024;
const SRC = join(ROOT, 'dist', 'src');

/** dist/src/main.js's imports in its order, then the backend it boots. */
const MAIN_IMPORTS = [
  'config.js',
  'log.js',
  'http/index.js',
  'http/unix-group.js',
  'exposure.js',
  'api/index.js',
  'engine/events/events.js',
  'engine/engine-options.js',
  'engine/backend/lazy-backend.js',
  'router/version.js',
  'api/cli-detach.js',
  'main.js',
  'engine/boot.js',
].map((m) => join(SRC, m));

/** Runs in the child (`node --expose-gc memory.js --imports-child ...`). */
async function importsChild(mods: string[]): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc!;
  const snap = () => {
    gc();
    gc();
    const s = readFileSync('/proc/self/status', 'utf8');
    const kib = (k: string) => Number(new RegExp(`${k}:\\s+(\\d+)`).exec(s)?.[1] ?? 0);
    const m = process.memoryUsage();
    return { anon: kib('RssAnon') / 1024, file: kib('RssFile') / 1024, heap: m.heapUsed / MiB, ext: m.external / MiB };
  };
  const f = (x: number) => `${x >= 0 ? '+' : ''}${x.toFixed(2)}`.padStart(7);
  let prev = snap();
  console.log(`${'node alone'.padEnd(36)} anon ${prev.anon.toFixed(1)} file ${prev.file.toFixed(1)} MiB`);
  console.log(`${'module'.padEnd(36)}    anon    file    heap     ext     ms`);
  for (const m of mods) {
    const t0 = performance.now();
    await import(pathToFileURL(m).href);
    const ms = performance.now() - t0;
    const now = snap();
    const name = m.startsWith(SRC) ? m.slice(SRC.length + 1) : m;
    console.log(
      `${name.padEnd(36)} ${f(now.anon - prev.anon)} ${f(now.file - prev.file)} ${f(now.heap - prev.heap)} ${f(now.ext - prev.ext)} ${ms.toFixed(0).padStart(6)}`,
    );
    prev = now;
  }
  console.log(`${'total'.padEnd(36)} anon ${prev.anon.toFixed(1)} file ${prev.file.toFixed(1)} MiB`);
}

function imports(mods: string[]): void {
  const r = spawnSync(
    process.execPath,
    ['--expose-gc', new URL(import.meta.url).pathname, '--imports-child', ...(mods.length ? mods : MAIN_IMPORTS)],
    { stdio: 'inherit' },
  );
  process.exitCode = r.status ?? 1;
}

/** The SIGWINCH hook loaded into kuber-api: V8's view of its memory, one line on stderr. */
const HOOK = `import v8 from 'node:v8';
process.on('SIGWINCH', () => {
  const mib = (v) => (v / 1048576).toFixed(1);
  const m = process.memoryUsage();
  const spaces = v8.getHeapSpaceStatistics().filter((s) => s.space_size > 0)
    .map((s) => s.space_name.replace('_space', '') + ' ' + mib(s.space_size) + '/' + mib(s.space_used_size)).join(', ');
  process.stderr.write('MEMORY rss ' + mib(m.rss) + ' heapTotal ' + mib(m.heapTotal) + ' heapUsed ' + mib(m.heapUsed) +
    ' external ' + mib(m.external) + ' arrayBuffers ' + mib(m.arrayBuffers) + ' | spaces (size/used) ' + spaces + '\\n');
});
`;

async function streams(o: {
  kind: string;
  n: number;
  cli: string;
  tls: boolean;
  snapshots?: string;
  nodeFlags: string[];
}): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'kapi-bench-memory-'));
  const hook = join(dir, 'hook.mjs');
  writeFileSync(hook, HOOK);
  const sim = await startSim({ tls: o.tls, splitStreams: false });
  const nodeArgs = [...o.nodeFlags, '--import', pathToFileURL(hook).href];
  if (o.snapshots) nodeArgs.push('--heapsnapshot-signal=SIGUSR2', `--diagnostic-dir=${o.snapshots}`);
  const kuber = await startKuber({
    kubeconfig: sim.kubeconfigPath,
    namespace: 'default',
    unix: false,
    cli: o.cli,
    nodeArgs,
  });
  const docker = new DockerClient(kuber.dockerHost);
  const open: { destroy(): void }[] = [];
  const report = async (label: string) => {
    await sleep(2000); // settled: what the setup left for the GC is collected or not, as at idle
    kuber.child.kill('SIGWINCH');
    await sleep(300);
    const v8line = [...kuber.tail().matchAll(/MEMORY (.*)/g)].pop()?.[1] ?? '';
    const m = memStatus(kuber.pid)!;
    const anon = Number(/RssAnon:\s+(\d+)/.exec(readFileSync(`/proc/${kuber.pid}/status`, 'utf8'))?.[1] ?? 0);
    console.log(`${label}: RSS ${(m.rssKiB / 1024).toFixed(1)} MiB (anonymous ${(anon / 1024).toFixed(1)}); ${v8line}`);
    if (o.snapshots) {
      kuber.child.kill('SIGUSR2');
      await sleep(5000 + o.n * 20);
    }
    return { rss: m.rssKiB, anon };
  };
  const targets: string[] = [];
  try {
    await waitReady(docker);
    // Four silent containers share the streams, as the concurrency scenario's sleepers do.
    for (let i = 0; i < 4; i++) targets.push(await run(docker, ['sleep', '3600']));
    const idle = await report('idle');
    await Promise.all(
      Array.from({ length: o.n }, async (_, i) => {
        const id = targets[i % targets.length]!;
        if (o.kind === 'exec') {
          const e = await docker.execCreate(id, {
            Cmd: ['cat'],
            AttachStdin: true,
            AttachStdout: true,
            AttachStderr: true,
          });
          const h = await docker.hijack(`/exec/${e}/start`, { Detach: false, Tty: false });
          h.socket.resume();
          open.push(h.socket);
        } else {
          const r = await docker.stream(`/containers/${id}/logs?follow=1&stdout=1&stderr=1`);
          r.resume();
          open.push(r);
        }
      }),
    );
    const full = await report(`${o.n} ${o.kind} streams open`);
    console.log(
      `per open stream: RSS +${((full.rss - idle.rss) / o.n).toFixed(1)} KiB (anonymous +${((full.anon - idle.anon) / o.n).toFixed(1)} KiB)`,
    );
  } finally {
    for (const s of open) s.destroy();
    for (const id of targets) await docker.json('DELETE', `/containers/${id}?force=1`).catch(() => {});
    docker.close();
    await kuber.stop();
    await sim.stop();
  }
}

function flag(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  return i < 0 ? undefined : args[i + 1];
}

const argv = process.argv.slice(2);
if (argv[0] === '--imports-child') await importsChild(argv.slice(1));
else if (argv[0] === 'imports') imports(argv.slice(1));
else if (argv[0] === 'streams')
  await streams({
    kind: flag(argv, '--kind') ?? 'exec',
    n: Number(flag(argv, '-n') ?? 300),
    cli: flag(argv, '--cli') ?? KUBER_CLI,
    tls: !argv.includes('--no-tls'),
    ...(flag(argv, '--heap-snapshot') ? { snapshots: flag(argv, '--heap-snapshot')! } : {}),
    nodeFlags: (flag(argv, '--node-flags') ?? '').split(/\s+/).filter(Boolean),
  });
else {
  process.stderr.write(`usage: see the header of ${new URL(import.meta.url).pathname.replace(/\.js$/, '.ts')}\n`);
  process.exitCode = 2;
}
