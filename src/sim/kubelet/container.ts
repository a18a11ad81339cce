/**
 * @module sim/kubelet/container
 * One container instance (one runtime container ID): its main process, its log file, and the
 * fan-out of its output to attached sessions. Output flows pipe -> log file (+ each attach
 * session) with backpressure: the pipes are paused while the log writer is behind or any attach
 * session's socket is over its high-water mark, so a process that out-produces its consumers
 * blocks in write(2) instead of growing memory. With `stdin: true` the main process keeps an open
 * stdin pipe that attach sessions write into (`stdinOnce`: closed after the first session).
 */
import { randomBytes } from 'node:crypto';
import type { ContainerCgroup } from './cgroups.js';
import { LogFile, STDERR, STDOUT } from './log-store.js';
import type { ContainerView } from './sandbox.js';
import type { ExitInfo, SandboxProcess } from './sandbox-process.js';

export interface OutputSink {
  write(stream: number, chunk: Buffer): void;
  /** The container's output ended (the process exited and every byte was delivered). */
  end(): void;
}

export class ContainerInstance {
  readonly id = randomBytes(32).toString('hex');
  proc: SandboxProcess | undefined;
  startedAt = '';
  finishedAt = '';
  exit: ExitInfo | undefined;
  /** Why it was killed by the kubelet, if it was (reason for the terminated state). */
  killReason: string | undefined;
  /** Its memory cgroup, when it has a memory limit. */
  cgroup: ContainerCgroup | undefined;
  readonly log: LogFile;
  private readonly sinks = new Set<OutputSink>();
  private readonly pausedBy = new Set<unknown>();
  private stdinSessions = 0;
  stdinClosed = false;
  /** The sandbox reported the process's PID: set by the kubelet's start step (container-supervisor). */
  started = false;
  /** Resolves when the process exited and its output is fully logged. */
  readonly finished: Promise<ExitInfo>;
  private resolveFinished!: (e: ExitInfo) => void;

  constructor(
    readonly name: string,
    logPath: string,
    readonly view: ContainerView,
    readonly env: Record<string, string>,
    readonly tty: boolean,
    readonly stdinOpen: boolean,
    readonly stdinOnce: boolean,
    logHighWaterMark: number,
  ) {
    this.log = new LogFile(logPath, logHighWaterMark);
    this.finished = new Promise((r) => (this.resolveFinished = r));
  }

  get containerID(): string {
    return `kubesim://${this.id}`;
  }

  get running(): boolean {
    return !!this.proc && !this.exit;
  }

  /**
   * Running as the runtime reports it: the sandbox said it started the process (the kubelet's
   * start step passed). Until then the container is still being created, whatever its process
   * does: runc answers `start` only once the container's init ran, and a failure there is a
   * StartError, not a container that ran (kuberuntime_container.go startContainer).
   */
  get up(): boolean {
    return this.started && this.running;
  }

  /** Wire a started process: output to the log and attached sessions, exit bookkeeping. */
  adopt(proc: SandboxProcess): void {
    this.proc = proc;
    this.startedAt = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    let open = 2;
    const onEnd = () => {
      if (--open === 0) void this.onOutputEnd();
    };
    const feed = (stream: number) => (chunk: Buffer) => {
      if (!this.log.append(stream, chunk)) {
        this.pause(this.log);
        this.log.onDrain(() => this.resume(this.log));
      }
      for (const s of this.sinks) s.write(stream, chunk);
    };
    proc.stdout.on('data', feed(STDOUT));
    proc.stderr.on('data', feed(STDERR));
    proc.stdout.on('end', onEnd);
    proc.stderr.on('end', onEnd);
    proc.stdout.on('error', onEnd);
    proc.stderr.on('error', onEnd);
  }

  private async onOutputEnd(): Promise<void> {
    const exit = await this.proc!.exited;
    await this.log.end();
    this.exit = exit;
    this.finishedAt = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    for (const s of [...this.sinks]) s.end();
    this.sinks.clear();
    this.resolveFinished(exit);
  }

  pause(key: unknown): void {
    if (this.pausedBy.has(key)) return;
    this.pausedBy.add(key);
    if (this.pausedBy.size === 1 && this.proc) {
      this.proc.stdout.pause();
      this.proc.stderr.pause();
    }
  }

  resume(key: unknown): void {
    if (!this.pausedBy.delete(key)) return;
    if (this.pausedBy.size === 0 && this.proc) {
      this.proc.stdout.resume();
      this.proc.stderr.resume();
    }
  }

  /** Attach an output sink; returns the detach function. */
  addSink(sink: OutputSink): () => void {
    if (this.exit) {
      sink.end();
      return () => {};
    }
    this.sinks.add(sink);
    return () => {
      this.sinks.delete(sink);
      this.resume(sink);
    };
  }

  /** An attach session with stdin begins; returns the function to call when its stdin ends. */
  openStdin(): () => void {
    this.stdinSessions++;
    let closed = false;
    return () => {
      if (closed) return;
      closed = true;
      this.stdinSessions--;
      // stdinOnce: the container's stdin closes when the first attached client's stdin ends, but
      // only without a TTY (containerd internal/cri/io/container_io.go Attach: `if opts.StdinOnce
      // && !opts.Tty`; moby CopyStreams: CloseStdin && !TTY). A TTY session that ends (detach)
      // leaves the terminal's input open, so `docker run -it` survives ctrl-p ctrl-q.
      if (this.stdinOnce && !this.tty) this.closeStdin();
    };
  }

  writeStdin(chunk: Buffer): boolean {
    if (this.stdinClosed || !this.proc?.stdin || !this.stdinOpen) return true;
    return this.proc.stdin.write(chunk);
  }

  onStdinDrain(cb: () => void): void {
    if (this.proc?.stdin) this.proc.stdin.once('drain', cb);
    else cb();
  }

  /** The process could not start (runc's StartError): no process, exit 128, the runtime's message. */
  async failStart(message: string): Promise<void> {
    this.startedAt = this.finishedAt = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    this.exit = { code: 128, setupError: message };
    await this.log.end();
    this.resolveFinished(this.exit);
  }

  closeStdin(): void {
    if (this.stdinClosed) return;
    this.stdinClosed = true;
    this.proc?.stdin?.end();
  }
}
