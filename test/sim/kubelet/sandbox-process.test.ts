/**
 * SandboxProcess.kill (src/sim/kubelet/sandbox-process.ts) signals the sandboxed command by the host
 * PID bwrap reported, but only while that PID is still the command's: once the command is gone its PID
 * can belong to another process (pid_max 32768 on these machines), and in CI that stranger was a pod's
 * pause process, so the pod's next container failed with "nsenter: cannot open /proc/<pid>/ns/net".
 * A stand-in for bwrap writes its own PID on the info fd and closes it, as `bwrap --info-fd` does ({"child-pid": N}).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { SandboxProcess } from '../../../src/sim/kubelet/sandbox-process.js';

const INFO_FD = 3;
const reportingSleep = () =>
  new SandboxProcess({
    command: {
      file: 'sh',
      args: ['-c', `echo "{\\"child-pid\\": $$}" >&${INFO_FD}; exec ${INFO_FD}>&-; exec sleep 30`],
    },
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
    tty: false,
    stdin: false,
    infoFd: INFO_FD,
  });

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

test('~> kill signals the command by its reported PID', async () => {
  const p = reportingSleep();
  const pid = await p.ready;
  assert.ok(pid > 0 && alive(pid));
  p.kill('SIGTERM');
  const exit = await p.exited;
  assert.is(exit.code, 128 + 15);
});

test('~> a PID that now belongs to another process (reused) is not signalled', async () => {
  const p = reportingSleep();
  await p.ready;
  // The command's PID, as the kernel might hand it out again: here, to an innocent sleep. A reuse
  // takes a wrap through pid_max, so the two never start in the same clock tick (/proc stat's unit).
  await new Promise((r) => setTimeout(r, 50));
  const stranger = spawn('sleep', ['30']);
  await new Promise((r) => stranger.once('spawn', r));
  p.pid = stranger.pid!;
  p.kill('SIGTERM'); // no SIGKILL: that one also goes to the spawned process itself
  await new Promise((r) => setTimeout(r, 200));
  assert.ok(alive(stranger.pid!), 'the process that took over the PID was killed');
  stranger.kill('SIGKILL');
  p.kill('SIGKILL');
  assert.is((await p.exited).code, 128 + 9);
});

test.run();
