/**
 * @module sim/kubelet/container-exec
 * Processes started in a running container beside its main one (the runtime's ExecSync/Exec):
 * `kubectl exec` sessions, exec probes, and lifecycle hooks (postStart, preStop).
 */
import { openSync } from 'node:fs';
import { joinCgroup } from './cgroups.js';
import type { ContainerState } from './container-state.js';
import type { ContainerInstance } from './container.js';
import { podHostname } from './hosts.js';
import type { PodHost } from './pod-host.js';
import { PTY_HELPER_SOURCE } from './pty-helper.js';
import { execCommand, resolveProgram } from './sandbox.js';
import { SandboxProcess } from './sandbox-process.js';

type Obj = Record<string, any>;

/** Spawn a process in a running container's sandbox (exec, probes, hooks). */
export async function spawnExec(
  host: PodHost,
  inst: ContainerInstance,
  argv: string[],
  opts: { tty: boolean; stdin: boolean },
): Promise<SandboxProcess | { code: 126 | 127; message: string }> {
  const resolved = await resolveProgram(inst.view, argv[0] ?? '', inst.env.PATH);
  if (!resolved.ok)
    return {
      code: resolved.code,
      message: `OCI runtime exec failed: exec failed: unable to start container process: ${resolved.message}: unknown`,
    };
  if (!inst.proc?.pid)
    return { code: 126, message: 'OCI runtime exec failed: exec failed: container is not running: unknown' };
  // Joining the container's PID namespace needs privilege; unprivileged, an exec gets its own.
  const pidFd = host.env.root ? openSync(`/proc/${inst.proc.pid}/ns/pid`, 'r') : undefined;
  const { hostname } = podHostname(host.pod);
  const env = { ...inst.env };
  if (opts.tty) env.TERM = 'xterm';
  // In the container's PID namespace, bwrap reports the exec's host PID (what kill() signals) on an info pipe.
  const infoFd = pidFd === undefined ? undefined : opts.tty ? 4 : 3;
  const built = execCommand(host.sandbox.namespaces(), inst.view, argv, {
    pidFd: infoFd === undefined ? undefined : infoFd + 1,
    infoFd,
    hostname,
    tty: opts.tty ? { python: host.env.cfg.python, helper: PTY_HELPER_SOURCE, stdin: opts.stdin } : undefined,
  });
  // Execs run in the container's cgroup, as runc exec puts them.
  const command = joinCgroup(inst.cgroup, built.file, built.args);
  return new SandboxProcess({
    command,
    env,
    tty: opts.tty,
    stdin: opts.stdin,
    infoFd,
    passFds: pidFd === undefined ? [] : [pidFd],
  });
}

/** Run a command to completion (exec probes, hooks): its exit code and its first 10 KiB of output. */
export async function execCapture(
  host: PodHost,
  inst: ContainerInstance,
  argv: string[],
  timeoutMs: number,
): Promise<{ code: number; output: string; timedOut: boolean }> {
  const p = await spawnExec(host, inst, argv, { tty: false, stdin: false });
  if (!(p instanceof SandboxProcess)) return { code: p.code, output: p.message, timedOut: false };
  let output = '';
  const take = (d: Buffer) => {
    if (output.length < 10240) output += d.toString('utf8');
  };
  p.stdout.on('data', take);
  p.stderr.on('data', take);
  let timedOut = false;
  const t = setTimeout(() => {
    timedOut = true;
    p.kill('SIGKILL');
  }, timeoutMs);
  const exit = await p.exited;
  clearTimeout(t);
  return { code: exit.code, output, timedOut };
}

/** Run a lifecycle hook (exec or sleep) in the container's current instance. */
export async function runHook(host: PodHost, cs: ContainerState, hook: Obj, name: string): Promise<void> {
  const inst = cs.current;
  if (!inst?.running) return;
  if (hook.exec?.command) {
    const r = await execCapture(host, inst, hook.exec.command, 30_000);
    if (r.code !== 0) host.event('Warning', `Failed${name}Hook`, `${name}Hook failed`);
  } else if (hook.sleep?.seconds) await new Promise((r) => setTimeout(r, Number(hook.sleep.seconds) * 1000));
}
