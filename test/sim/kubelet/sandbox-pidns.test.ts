/**
 * Processes that join an existing PID namespace (execs; containers of a shareProcessNamespace pod)
 * against the bubblewrap race that killed exec streams with exit code 137 or 0 bytes on a loaded
 * machine: bwrap joins a PID namespace through an intermediate child that forks and exits
 * (bubblewrap utils.c fork_intermediate_child); with --die-with-parent, a grandchild that armed its
 * parent-death signal before that intermediate finished exiting was SIGKILLed by the kernel.
 * Under load the intermediate only has to lose the CPU for a few milliseconds; here strace delays
 * every exit_group by 300 ms, so the race is lost every time and the test is deterministic.
 * Sandboxes are built exactly as the kubelet builds them (sandbox.ts + SandboxProcess); root,
 * bwrap and strace are needed (skipped otherwise).
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, openSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  containerCommand,
  execCommand,
  pauseCommand,
  DEFAULT_CAPS,
  type Command,
  type ContainerView,
  type PodNamespaces,
} from '../../../src/sim/kubelet/sandbox.js';
import { SandboxProcess } from '../../../src/sim/kubelet/sandbox-process.js';
import { onPath, SANDBOX_ENV } from './helpers.js';

const test = suite<{
  dir: string;
  pause: SandboxProcess;
  ns: PodNamespaces;
  view: ContainerView;
  main: SandboxProcess;
}>('sandbox-pidns');

const usable = process.getuid?.() === 0 && onPath('bwrap') && onPath('strace') && existsSync('/bin/busybox');
if (!usable) console.log('SKIP sandbox-pidns: needs root, bwrap, strace and /bin/busybox');
const t = (name: string, fn: Parameters<typeof test>[1]) => (usable ? test(name, fn) : test.skip(name, fn));

/** Run `cmd` under strace with every exit_group delayed: bwrap's intermediate child exits late. */
function slowExits(cmd: Command): Command {
  return {
    file: 'strace',
    args: [
      '-f',
      '-qq',
      '-o',
      '/dev/null',
      '-e',
      'trace=exit_group',
      '-e',
      'inject=exit_group:delay_enter=300000',
      '--',
      cmd.file,
      ...cmd.args,
    ],
  };
}

function collect(p: SandboxProcess): Promise<{ out: string; err: string; code: number }> {
  let out = '';
  let err = '';
  p.stdout.on('data', (d) => (out += d));
  p.stderr.on('data', (d) => (err += d));
  return p.exited.then((e) => ({ out, err, code: e.code }));
}

const alive = (pid: number) =>
  existsSync(`/proc/${pid}`) &&
  !/^State:\s+Z/m.test(execFileSync('cat', [`/proc/${pid}/status`], { encoding: 'utf8' }));

test.before(async (ctx) => {
  if (!usable) return;
  ctx.dir = mkdtempSync(join(tmpdir(), 'kubesim-pidns-'));
  ctx.pause = new SandboxProcess({
    command: pauseCommand({ unshareNet: true, hostname: 'pidns', infoFd: 3, privileged: true }),
    env: SANDBOX_ENV,
    tty: false,
    stdin: false,
    infoFd: 3,
  });
  ctx.pause.stdout.resume();
  ctx.pause.stderr.resume();
  ctx.ns = { pausePid: await ctx.pause.ready };
  assert.ok(ctx.ns.pausePid > 0, 'pause started');
  ctx.view = { rootfs: 'host', tmpDir: ctx.dir, mounts: [], cwd: '/', caps: DEFAULT_CAPS };
  ctx.main = new SandboxProcess({
    command: containerCommand(ctx.ns, ctx.view, ['sleep', '120'], { infoFd: 3, hostname: 'pidns' }),
    env: SANDBOX_ENV,
    tty: false,
    stdin: false,
    infoFd: 3,
  });
  ctx.main.stdout.resume();
  ctx.main.stderr.resume();
  assert.ok((await ctx.main.ready) > 0, 'container started');
});

test.after(async (ctx) => {
  if (!usable) return;
  ctx.main.kill('SIGKILL');
  ctx.pause.kill('SIGKILL');
  await Promise.all([ctx.main.exited, ctx.pause.exited]);
  rmSync(ctx.dir, { recursive: true, force: true });
});

/** An exec in the container, built as container-exec.ts builds it (info pipe at 3, the container's PID namespace at 4). */
function exec(
  ctx: { ns: PodNamespaces; view: ContainerView; main: SandboxProcess },
  argv: string[],
  wrap = (c: Command) => c,
): SandboxProcess {
  const pidFd = openSync(`/proc/${ctx.main.pid}/ns/pid`, 'r');
  const command = wrap(execCommand(ctx.ns, ctx.view, argv, { pidFd: 4, infoFd: 3, hostname: 'pidns' }));
  return new SandboxProcess({ command, env: SANDBOX_ENV, tty: false, stdin: false, infoFd: 3, passFds: [pidFd] });
}

t("~> an exec in the container's PID namespace survives a bwrap intermediate that exits late", async (ctx) => {
  const r = await collect(exec(ctx, ['sh', '-c', 'sleep 0.5; echo survived; exit 7'], slowExits));
  assert.is(r.out, 'survived\n', r.err);
  assert.is(r.code, 7, "the command's own exit code, not 137 (SIGKILL)");
});

t("~> an exec sees the container's PID namespace: PID 1 is the container's command", async (ctx) => {
  const r = await collect(exec(ctx, ['sh', '-c', 'cat /proc/1/cmdline | tr "\\0" " "; echo; echo $$']));
  assert.is(r.code, 0, r.err);
  const [cmdline, pid] = r.out.split('\n');
  assert.is(cmdline!.trim(), 'sleep 120');
  assert.ok(Number(pid) > 1, 'the exec is not PID 1');
});

t(
  '~> a shareProcessNamespace container (joins the pause PID namespace) survives a late intermediate too',
  async (ctx) => {
    const shared = openSync(`/proc/${ctx.ns.pausePid}/ns/pid`, 'r');
    const cmd = slowExits(
      containerCommand(ctx.ns, ctx.view, ['sh', '-c', 'sleep 0.5; echo up; exit 3'], {
        infoFd: 3,
        sharedPidFd: 4,
        hostname: 'pidns',
      }),
    );
    const p = new SandboxProcess({
      command: cmd,
      env: SANDBOX_ENV,
      tty: false,
      stdin: false,
      infoFd: 3,
      passFds: [shared],
    });
    const r = await collect(p);
    assert.is(r.out, 'up\n', r.err);
    assert.is(r.code, 3);
  },
);

t(
  '~> killing an exec kills its command by its host PID, also when the kill comes before bwrap reported it',
  async (ctx) => {
    const late = exec(ctx, ['sleep', '60']);
    const early = exec(ctx, ['sleep', '60']);
    early.kill('SIGKILL'); // before --info-fd was read: waits for the PID, then kills both
    const pid = await late.ready;
    assert.ok(pid > 0 && alive(pid), 'running');
    late.kill('SIGKILL');
    const [a, b] = await Promise.all([late.exited, early.exited]);
    assert.is(a.code, 137);
    assert.is(b.code, 137);
    assert.not.ok(alive(pid), 'the command is gone, not orphaned in the container');
    const earlyPid = await early.ready;
    assert.ok(!earlyPid || !alive(earlyPid), 'the early-killed command is gone too');
  },
);

test.run();
