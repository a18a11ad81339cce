/**
 * The pod sandbox's pause against the race that killed it on a loaded machine: bwrap reports the
 * child's PID on --info-fd right after clone(), before the child has brought up its loopback
 * (bubblewrap.c, network.c loopback_setup). A kubelet that plugged the pod network in at that
 * point (`ip link set lo up` inside the new netns, as netns.ts attach does) made bwrap's own
 * RTM_NEWADDR of 127.0.0.1 fail with EEXIST: the pause died, and the next container start failed
 * with "nsenter: cannot open /proc/<pid>/ns/net". Here strace delays every socket() by 300 ms, so
 * the child is always late and the race deterministic. Root, bwrap, strace, ip and /bin/busybox
 * are needed (skipped otherwise).
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { createReadStream, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pauseRunning } from '../../../src/sim/kubelet/pod-sandbox.js';
import { pauseCommand } from '../../../src/sim/kubelet/sandbox.js';
import { SandboxProcess } from '../../../src/sim/kubelet/sandbox-process.js';
import { onPath, SANDBOX_ENV } from './helpers.js';

const test = suite<{ dir: string }>('pause');

const usable =
  process.getuid?.() === 0 && onPath('bwrap') && onPath('strace') && onPath('ip') && existsSync('/bin/busybox');
if (!usable) console.log('SKIP pause: needs root, bwrap, strace, ip and /bin/busybox');
const t = (name: string, fn: Parameters<typeof test>[1]) => (usable ? test(name, fn) : test.skip(name, fn));

/**
 * The pause as the kubelet starts it, under strace with every socket() delayed, so bwrap's child
 * reaches loopback_setup late. strace would hold the --info-fd pipe open for its whole life, so here
 * bwrap writes it to a FIFO that strace never sees (opened by the traced shell), read by the test.
 */
function slowPause(dir: string): { p: SandboxProcess; pid: Promise<number>; err: () => string } {
  const fifo = join(dir, 'info');
  execFileSync('mkfifo', [fifo]);
  const c = pauseCommand({ unshareNet: true, hostname: 'pause-test', infoFd: 3, privileged: true });
  const traced = ['-f', '-qq', '-o', '/dev/null', '-e', 'trace=socket', '-e', 'inject=socket:delay_enter=300000'];
  const p = new SandboxProcess({
    command: { file: 'strace', args: [...traced, '--', 'sh', '-c', 'exec "$@" 3>"$0"', fifo, c.file, ...c.args] },
    env: SANDBOX_ENV,
    tty: false,
    stdin: false,
  });
  let err = '';
  p.stderr.on('data', (d) => (err += d));
  const pid = new Promise<number>((resolve, reject) => {
    let text = '';
    createReadStream(fifo)
      .on('data', (d) => (text += d))
      .on('error', reject)
      .on('close', () => resolve(Number(/"child-pid"\s*:\s*(\d+)/.exec(text)?.[1] ?? 0)));
  });
  return { p, pid, err: () => err };
}

/** What netns.ts attach runs in the pod's netns first. */
const loUp = (pid: number) =>
  execFileSync('nsenter', [`--net=/proc/${pid}/ns/net`, '--', 'ip', 'link', 'set', 'lo', 'up'], { stdio: 'pipe' });

const settled = (p: SandboxProcess, ms: number) =>
  Promise.race([p.exited.then(() => 'exited'), new Promise((r) => setTimeout(() => r('running'), ms))]);

test.before.each((ctx) => {
  if (usable) ctx.dir = mkdtempSync(join(tmpdir(), 'kubesim-pause-'));
});
test.after.each((ctx) => {
  if (ctx.dir) rmSync(ctx.dir, { recursive: true, force: true });
});

t('~> the race is real: lo brought up on the PID from --info-fd kills a pause still in its setup', async (ctx) => {
  const { p, pid, err } = slowPause(ctx.dir);
  try {
    const n = await pid;
    assert.ok(n > 0, 'bwrap reported a PID before its child set anything up');
    loUp(n);
    assert.is(await settled(p, 5000), 'exited');
    assert.match(err(), /loopback: Failed RTM_NEWADDR/);
  } finally {
    p.kill('SIGKILL');
  }
});

t('~> waiting for the pause to run first: the same late child survives the kubelet plugging in lo', async (ctx) => {
  const { p, pid } = slowPause(ctx.dir);
  try {
    const n = await pid;
    assert.ok(await pauseRunning(p), 'the pause announced itself');
    loUp(n);
    const lo = execFileSync('nsenter', [`--net=/proc/${n}/ns/net`, '--', 'ip', '-4', 'addr', 'show', 'lo'], {
      encoding: 'utf8',
    });
    assert.match(lo, '127.0.0.1/8');
    assert.is(await settled(p, 500), 'running');
    assert.is(
      readFileSync(`/proc/${n}/comm`, 'utf8').trim(),
      'sleep',
      'the pause became sleep under the PID bwrap reported',
    );
  } finally {
    p.kill('SIGKILL');
    await p.exited;
  }
});

t('~> a pause that dies in its setup is reported as not running, with bwrap’s reason', async () => {
  // sethostname(2) takes at most 64 bytes: the child fails after bwrap has reported its PID.
  const p = new SandboxProcess({
    command: pauseCommand({ unshareNet: true, hostname: 'h'.repeat(100), infoFd: 3, privileged: true }),
    env: SANDBOX_ENV,
    tty: false,
    stdin: false,
    infoFd: 3,
  });
  p.stderr.resume();
  assert.ok((await p.ready) > 0);
  assert.is(await pauseRunning(p), false);
  assert.match((await p.exited).setupError ?? '', /hostname/i);
});

test.run();
