/**
 * @module engine/streams/exec-store
 * Docker exec instances, kept in memory (issue 4: "exec instances may be in memory"): what
 * `POST /containers/{id}/exec` created, its state while it runs, and its exit code afterwards, so
 * that `GET /exec/{id}/json` answers as dockerd does (moby daemon/exec.go, api/types/backend
 * ExecInspect; the JSON shape checked against dockerd 26).
 *
 * Bounded: testcontainers' port check creates execs every 100 ms per port
 * (testcontainers-node packages/testcontainers/src/wait-strategies/utils/port-check.ts), so finished (and never started) instances are dropped `retentionMs` after they
 * ended (or were created), and the oldest finished ones go first when `maxEntries` is reached.
 * The sweep runs on insertion: no timers.
 */
import { randomBytes } from 'node:crypto';
import { conflict, notFound } from '../../errors.js';

/** The exec-create body (moby api/types/container ExecOptions) as the engine keeps it. */
export interface ExecConfig {
  Cmd: string[];
  Env: string[];
  WorkingDir: string;
  User: string;
  Tty: boolean;
  AttachStdin: boolean;
  AttachStdout: boolean;
  AttachStderr: boolean;
  /** The spec as given ("" = the default ctrl-p,ctrl-q). */
  DetachKeys: string;
  Privileged: boolean;
  ConsoleSize?: [number, number] | null;
}

/** A running exec session, as far as resize is concerned. */
export interface ExecSession {
  resize(width: number, height: number): void;
}

export class ExecInstance {
  readonly id = randomBytes(32).toString('hex');
  readonly createdAt: number;
  running = false;
  /** null until the process ended (moby `*int`): clients read it right after the stream's EOF. */
  exitCode: number | null = null;
  /** start was called (a second start is a 409). */
  started = false;
  endedAt = 0;
  /** The last size asked for (resize may come before the process exists). */
  size: { width: number; height: number } | undefined;
  session: ExecSession | undefined;

  constructor(
    readonly containerId: string,
    /** The Pod (and its namespace) of the container run the exec belongs to. */
    readonly pod: { namespace: string; name: string; container: string },
    readonly config: ExecConfig,
    /** The parsed detach keys (moby rejects a bad spec at create). */
    readonly detachKeys: Buffer,
    now: number,
  ) {
    this.createdAt = now;
    const cs = config.ConsoleSize;
    if (cs && cs[0] > 0 && cs[1] > 0) this.size = { height: cs[0], width: cs[1] };
  }

  /** Mark started; a second start is a conflict with moby's texts. */
  begin(): void {
    if (this.exitCode !== null) throw conflict(`Error: Exec command ${this.id} has already run`);
    if (this.running || this.started) throw conflict(`Error: Exec command ${this.id} is already running`);
    this.started = true;
    this.running = true;
  }

  /**
   * Record the exit code before anything is closed (clients inspect right after EOF); null when
   * the session ended before the process and its exit is unknown.
   */
  finish(exitCode: number | null, now: number): void {
    this.exitCode = exitCode;
    this.running = false;
    this.endedAt = now;
    this.session = undefined;
  }

  /** Remember a size and apply it to the session if there is one. */
  resize(width: number, height: number): void {
    this.size = { width, height };
    this.session?.resize(width, height);
  }

  /** GET /exec/{id}/json (moby backend.ExecInspect; `user` and `privileged` as dockerd 26 writes them). */
  inspect(): Record<string, unknown> {
    const [entrypoint, ...args] = this.config.Cmd;
    return {
      ID: this.id,
      Running: this.running,
      ExitCode: this.exitCode,
      ProcessConfig: {
        tty: this.config.Tty,
        entrypoint: entrypoint ?? '',
        arguments: args,
        privileged: this.config.Privileged,
        ...(this.config.User ? { user: this.config.User } : {}),
      },
      OpenStdin: this.config.AttachStdin,
      OpenStderr: this.config.AttachStderr,
      OpenStdout: this.config.AttachStdout,
      CanRemove: false,
      ContainerID: this.containerId,
      // moby keeps the parsed keys as []byte: JSON base64 ("" when not given).
      DetachKeys: this.config.DetachKeys ? this.detachKeys.toString('base64') : '',
      Pid: 0,
    };
  }
}

export interface ExecStoreOptions {
  /** How long a finished (or never started) exec stays inspectable. */
  retentionMs: number;
  /** Upper bound on instances kept; the oldest finished ones are dropped first. */
  maxEntries: number;
}

export class ExecStore {
  private readonly byId = new Map<string, ExecInstance>();

  constructor(
    private readonly opts: ExecStoreOptions,
    private readonly now: () => number = Date.now,
  ) {}

  get size(): number {
    return this.byId.size;
  }

  add(e: ExecInstance): void {
    this.sweep();
    this.byId.set(e.id, e);
  }

  /** The instance, or 404 with moby's text. */
  get(id: string): ExecInstance {
    const e = this.byId.get(id);
    if (!e) throw notFound(`No such exec instance: ${id}`);
    return e;
  }

  /** Running and recent execs of a container (inspect's ExecIDs lists the running ones). */
  forContainer(containerId: string): ExecInstance[] {
    return [...this.byId.values()].filter((e) => e.containerId === containerId);
  }

  /** Drop expired instances, then the oldest idle ones while over the bound. */
  sweep(): void {
    const now = this.now();
    const idle = (e: ExecInstance) => !e.running;
    for (const [id, e] of this.byId) {
      if (idle(e) && now - (e.endedAt || e.createdAt) > this.opts.retentionMs) this.byId.delete(id);
    }
    if (this.byId.size < this.opts.maxEntries) return;
    // Map iteration is insertion order: the first idle ones are the oldest.
    for (const [id, e] of this.byId) {
      if (this.byId.size < this.opts.maxEntries) break;
      if (idle(e)) this.byId.delete(id);
    }
  }
}
