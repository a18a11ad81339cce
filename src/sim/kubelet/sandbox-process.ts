/**
 * @module sim/kubelet/sandbox-process
 * One sandboxed process (a container's main process or an exec): spawns the command built by
 * sandbox.ts with plain pipes, or under the pty helper for a TTY (fd 3 then carries resize lines),
 * learns the in-sandbox PID 1 from bwrap's --info-fd, and reports the exit as runc would: the
 * exit status, or 128+signal.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync } from 'node:fs';
import type { Readable, Writable } from 'node:stream';
import { constants } from 'node:os';
import type { Command } from './sandbox.js';
import { startTime } from './claim-owner.js';

export interface ExitInfo {
  code: number;
  /** The sandbox could not be set up (bwrap's own error), as opposed to the program exiting. */
  setupError?: string;
}

export interface SpawnSpec {
  command: Command;
  env: Record<string, string>;
  tty: boolean;
  /** Give the process a stdin pipe (else /dev/null; for a TTY: no input relayed). */
  stdin: boolean;
  /** Extra fds to pass (e.g. an open /proc/<pid>/ns/pid for --pidns), at positions after the pipes. */
  passFds?: number[];
  /** Read bwrap's --info-fd at this stdio position (the command line must name the same fd). */
  infoFd?: number;
}

export class SandboxProcess {
  readonly proc: ChildProcess;
  readonly stdout: Readable;
  readonly stderr: Readable;
  readonly stdin: Writable | undefined;
  private readonly resizeW: Writable | undefined;
  /** Host PID of the sandbox's PID 1 (from --info-fd), once known. */
  pid = 0;
  readonly ready: Promise<number>;
  readonly exited: Promise<ExitInfo>;
  private stderrHead = '';
  private done = false;
  private readonly infoFd: number | undefined;
  /** bwrap's --info-fd was read (or closed without a PID). */
  private infoRead = false;
  /**
   * The start time of `pid` when it was reported (/proc/<pid>/stat): the command can be gone and
   * its PID taken by another process (where pid_max is 32768, within minutes on a busy machine)
   * before bwrap's own exit reaches us, and a signal by PID would then hit that stranger.
   */
  private pidStart: string | undefined;

  constructor(spec: SpawnSpec) {
    const stdio: Array<'pipe' | 'ignore' | number> = [spec.stdin || spec.tty ? 'pipe' : 'ignore', 'pipe', 'pipe'];
    if (spec.tty) stdio.push('pipe'); // fd 3: resize lines for the pty helper
    const infoAt = spec.infoFd;
    this.infoFd = infoAt;
    if (infoAt !== undefined) while (stdio.length <= infoAt) stdio.push('pipe');
    for (const fd of spec.passFds ?? []) stdio.push(fd);
    this.proc = spawn(spec.command.file, spec.command.args, { env: spec.env, stdio });
    for (const fd of spec.passFds ?? []) {
      try {
        closeSync(fd);
      } catch {
        /* already closed */
      }
    }
    this.stdout = this.proc.stdout!;
    this.stderr = this.proc.stderr!;
    this.stdin = (this.proc.stdin as Writable | null) ?? undefined;
    this.stdin?.on('error', () => {}); // EPIPE when the process is gone: nothing to do
    if (spec.tty) {
      this.resizeW = this.proc.stdio[3] as Writable;
      this.resizeW.on('error', () => {});
      if (!spec.stdin) this.stdin?.end();
    }
    this.stderr.on('data', (d: Buffer) => {
      if (this.stderrHead.length < 4096) this.stderrHead += d.toString('utf8');
    });
    this.ready = new Promise<number>((resolve) => {
      if (infoAt === undefined) return resolve(this.proc.pid ?? 0);
      const info = this.proc.stdio[infoAt] as Readable;
      let text = '';
      info.on('data', (d) => (text += d));
      info.on('error', () => {});
      info.on('close', () => {
        const m = /"child-pid"\s*:\s*(\d+)/.exec(text);
        this.pid = m ? Number(m[1]) : 0;
        this.pidStart = this.pid ? startTime(this.pid) : undefined;
        this.infoRead = true;
        resolve(this.pid);
      });
    });
    this.exited = new Promise<ExitInfo>((resolve) => {
      let code = -1;
      this.proc.on('error', (err) => {
        this.stderrHead += String(err);
      });
      this.proc.on('exit', (c, sig) => {
        code = c ?? 128 + (sig ? ((constants.signals as Record<string, number>)[sig] ?? 9) : 9);
      });
      this.proc.on('close', (c, sig) => {
        if (code < 0) code = c ?? 128 + (sig ? ((constants.signals as Record<string, number>)[sig] ?? 9) : 9);
        this.done = true;
        const spawnFailed = this.proc.pid === undefined ? this.stderrHead || 'spawn failed' : undefined;
        // The outcome waits for --info-fd: the pipe's close may come after the process's.
        void this.ready.then(() =>
          resolve({ code: spawnFailed ? 128 : code, setupError: spawnFailed ?? this.setupFailure(code) }),
        );
      });
    });
  }

  /**
   * Why the sandbox never ran the command, if it did not: bwrap's own error, or (no PID on
   * --info-fd, so bwrap never created the sandbox) the first line of what the chain in front of it
   * said, e.g. nsenter finding the pod's namespaces gone. runc reports both as a start failure
   * (`runc create failed: unable to start container process`), never as the program's exit code.
   */
  private setupFailure(code: number): string | undefined {
    const first = this.stderrHead.trim().split('\n')[0] ?? '';
    if (code === 1 && first.startsWith('bwrap: ')) return first.replace(/^bwrap: /, '');
    if (this.infoFd === undefined || this.pid || code >= 128) return undefined; // no --info-fd, or killed
    return first || `the sandbox exited with code ${code} before it started the process`;
  }

  get running(): boolean {
    return !this.done;
  }

  resize(rows: number, cols: number): void {
    if (this.resizeW && rows > 0 && cols > 0) this.resizeW.write(`${rows | 0} ${cols | 0}\n`);
  }

  /**
   * Signal the sandboxed command by its host PID (from --info-fd). A kill that comes before bwrap
   * reported that PID waits for it: bwrap killed before it releases the command would leave the
   * command blocked in its setup for good, outside our reach (and, joined to a PID namespace, with
   * no death signal: see sandbox.ts). SIGKILL also goes to bwrap itself.
   */
  kill(signal: NodeJS.Signals = 'SIGKILL'): void {
    if (this.done) return;
    if (this.infoFd !== undefined && !this.infoRead) {
      void this.ready.then(() => this.kill(signal));
      return;
    }
    try {
      if (!this.pid) this.proc.kill(signal);
      else if (this.pidStart !== undefined && startTime(this.pid) === this.pidStart) process.kill(this.pid, signal);
      // else: the command is gone, and its PID may be another process's now (a pod's pause, whose
      // loss showed as "nsenter: cannot open /proc/<pid>/ns/net" on the next container start).
    } catch {
      /* gone */
    }
    if (signal === 'SIGKILL') this.proc.kill('SIGKILL');
  }
}
