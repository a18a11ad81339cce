/**
 * @module engine/backend/streams
 * The streaming seam types: attach, exec and logs as the API handlers (src/api/attach.ts,
 * exec.ts, logs.ts) call them, after moby's api/server/router/container/backend.go
 * (attachBackend, execBackend, logsBackend). engine/streams implements them.
 */
import type { Readable, Writable } from 'node:stream';
import type { DrainableSink } from '../../stream/backpressure.js';
import type { Emitter } from '../../stream/bridge.js';

/** POST /containers/{id}/attach query (moby ContainerAttachConfig). */
export interface AttachOptions {
  stream: boolean;
  logs: boolean;
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
  detachKeys?: string;
}

/**
 * How an attach session ended: the container's output ended (`ended`), or a detach: the detach
 * keys seen server-side (`detach-keys`), the client's half-close ending the session
 * (`stdin-eof`), or the client gone (`client-gone`). The container runs on after a detach.
 */
export type AttachEnd = 'ended' | 'detach-keys' | 'stdin-eof' | 'client-gone';

export interface AttachStart {
  /** Container.Config.Tty: raw stream; otherwise stdcopy (multiplexed). */
  tty: boolean;
  /** Streams until the session ends; resolves how it ended (void: a stream that cannot detach). */
  run(conn: ClientConn): Promise<AttachEnd | void>;
}

/** The hijacked client connection (src/http Hijacked fits). */
export interface ClientConn {
  readonly output: Writable;
  readonly input: Readable;
  closeWrite(): void;
  destroy(): void;
  onClose(cb: () => void): void;
  readonly closed: boolean;
}

export interface ExecStartOptions {
  Detach?: boolean;
  Tty?: boolean;
  ConsoleSize?: [number, number] | null;
}

/** The engine side of POST /exec/{id}/start once the checks passed. */
export interface ExecStart {
  /** Detached: answer an empty 200, nothing to stream. */
  detach: boolean;
  /** Raw stream (start body's Tty) or stdcopy. */
  tty: boolean;
  /** Stream the exec over the hijacked connection; resolves when the session is over. */
  run(conn: ClientConn): Promise<void>;
}

/** GET /containers/{id}/logs options (moby api/types/container LogsOptions), already parsed. */
export interface LogsOptions {
  stdout: boolean;
  stderr: boolean;
  follow: boolean;
  timestamps: boolean;
  /** Lines from the end; undefined = all (moby: anything that is not an integer, or negative). */
  tail?: number;
  /** Docker's since/until: unix seconds with an optional fraction, or RFC 3339. */
  since?: string;
  until?: string;
}

/** Where log bytes go: the chunked response, or a hijacked attach stream. */
export interface LogSink extends DrainableSink, Emitter {}

/** The engine side of GET /containers/{id}/logs. */
export interface ContainerLogs {
  /** Container.Config.Tty: raw output, no frames. */
  tty: boolean;
  /** Write the log into `sink` (which the caller then ends); stops when `signal` aborts. */
  run(sink: LogSink, signal: AbortSignal): Promise<void>;
}

/** POST /containers/{id}/attach and /resize (moby router/container backend attachBackend). */
export interface AttachBackend {
  /** 404/400/409 before the hijack; then `run()` streams over the hijacked connection. */
  attachContainer(nameOrId: string, opts: AttachOptions): AttachStart;
  resizeContainer(nameOrId: string, height: number, width: number): void;
}

/** /containers/{id}/exec and /exec/{id}/... (moby execBackend). */
export interface ExecBackend {
  createExec(nameOrId: string, body: Record<string, unknown> | undefined): { Id: string };
  inspectExec(id: string): Record<string, unknown>;
  resizeExec(id: string, height: number, width: number): void;
  /** 404/409 before the hijack (or the empty 200 of a detached exec); then `run()`. */
  startExec(id: string, opts: ExecStartOptions): Promise<ExecStart>;
}

/** GET /containers/{id}/logs (moby logsBackend). */
export interface LogsBackend {
  /** 404/400 before the response starts; then `run()` writes the log. */
  containerLogs(nameOrId: string, opts: LogsOptions): ContainerLogs;
}

export interface StreamsBackend extends AttachBackend, ExecBackend, LogsBackend {}
