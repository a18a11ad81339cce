/**
 * @module engine/streams/streams
 * The streaming half of the engine, composed: attach (attach.ts), exec (exec.ts) and logs
 * (logs.ts) on one {@link StreamsHost} (the KubeEngine), and the capability interfaces the API
 * handlers call (src/api/attach.ts, exec.ts, logs.ts), which `Backend` extends.
 */
import type { Logger } from '../../log.js';
import { AttachService } from './attach.js';
import { ExecService } from './exec.js';
import { containerLogs } from './logs.js';
import type { StreamsHost } from './host.js';
import type {
  AttachOptions,
  AttachStart,
  ExecStart,
  ExecStartOptions,
  ContainerLogs,
  LogsOptions,
} from '../backend/streams.js';
export type { ClientConn, LogSink } from '../backend/streams.js';
import type { StreamsBackend } from '../backend/streams.js';

export type { AttachOptions, AttachStart, ExecStart, ExecStartOptions, ContainerLogs, LogsOptions };

/** Limits of the streaming side (named options in src/config.ts). */
export interface StreamsOptions {
  /** follow + split streams: how long a quiet stream may hold the other's lines (ms). */
  logMergeHoldMs: number;
  /** TTY attach before start: live output held while the log is replayed (bytes). */
  attachReplayBytes: number;
  /** A finished exec stays inspectable this long (ms). */
  execRetentionMs: number;
  /** At most this many exec instances are kept. */
  maxExecs: number;
  /** Detached execs drained at once (503 beyond). */
  maxDetachedExecs: number;
  /** A detached exec silent this long is let go (0 = never). */
  detachedExecIdleMs: number;
  /** exec create opens the apiserver connection its start will use; closed unused after this long (ms; 0: off). */
  execPreconnectMs: number;
}

export class Streams implements StreamsBackend {
  readonly attach: AttachService;
  readonly exec: ExecService;

  constructor(
    private readonly host: StreamsHost,
    private readonly opts: StreamsOptions,
    log: Logger,
  ) {
    this.attach = new AttachService(
      host,
      { holdMs: opts.logMergeHoldMs, replayHoldBytes: opts.attachReplayBytes },
      log.child({ component: 'attach' }),
    );
    this.exec = new ExecService(
      host,
      {
        store: { retentionMs: opts.execRetentionMs, maxEntries: opts.maxExecs },
        maxDetached: opts.maxDetachedExecs,
        detachedIdleMs: opts.detachedExecIdleMs,
        preconnectMs: opts.execPreconnectMs,
      },
      log.child({ component: 'exec' }),
    );
  }

  attachContainer(nameOrId: string, opts: AttachOptions): AttachStart {
    return this.attach.attach(nameOrId, opts);
  }

  resizeContainer(nameOrId: string, height: number, width: number): void {
    this.attach.resize(nameOrId, height, width);
  }

  createExec(nameOrId: string, body: Record<string, unknown> | undefined): { Id: string } {
    return this.exec.create(nameOrId, body);
  }

  inspectExec(id: string): Record<string, unknown> {
    return this.exec.inspect(id);
  }

  resizeExec(id: string, height: number, width: number): void {
    this.exec.resize(id, height, width);
  }

  startExec(id: string, opts: ExecStartOptions): Promise<ExecStart> {
    return this.exec.start(id, opts);
  }

  containerLogs(nameOrId: string, opts: LogsOptions): ContainerLogs {
    return containerLogs(this.host, nameOrId, opts, { holdMs: this.opts.logMergeHoldMs });
  }

  /** The container was removed: drop what is kept for it. */
  forget(id: string): void {
    this.attach.forget(id);
  }
}
