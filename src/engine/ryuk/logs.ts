/**
 * @module engine/ryuk/logs
 * `docker logs` and `docker attach` of an emulated Ryuk: its stamped log lines
 * (engine/ryuk/ryuk-log.ts) through the same framer as a Pod's log (src/stream/log-frames.ts:
 * since/until, timestamps, stdcopy or raw for a TTY), with `tail`, and `follow` until the Ryuk
 * exits. Ryuk 0.10+ logs to stdout (slog.NewTextHandler(os.Stdout)); older ones to stderr (Go's
 * `log` package default).
 */
import { PassThrough } from 'node:stream';
import { invalid } from '../../errors.js';
import { timestampKey } from '../../stream/log-lines.js';
import { LogFramer, pumpLog } from '../../stream/log-frames.js';
import type { AttachOptions, AttachStart, ContainerLogs, LogSink, LogsOptions } from '../backend/streams.js';
import type { RyukLog } from './ryuk-log.js';

/** The live side of a Ryuk: its log, and whether (and when) it stops running. */
export interface LogSubject {
  log: RyukLog;
  tty: boolean;
  running(): boolean;
  /** Calls `cb` once the current run ends; returns the unsubscribe. */
  onExit(cb: () => void): () => void;
}

function key(v: string | undefined, what: string): Buffer | undefined {
  if (v === undefined) return undefined;
  try {
    return timestampKey(v);
  } catch {
    throw invalid(`invalid value for ${what}: failed to parse value as time or duration: "${v}"`);
  }
}

/**
 * Write `lines` then (when following) the lines to come, until the run ends or `signal` aborts.
 * `follow`: 'running' follows the current run only (logs -f); 'next' also waits for a start (an
 * attach made before `docker start`, as `docker run` and `start -a` make it).
 */
async function pump(
  s: LogSubject,
  sink: LogSink,
  framer: LogFramer,
  lines: readonly string[],
  follow: 'no' | 'running' | 'next',
  signal: AbortSignal,
): Promise<void> {
  const src = new PassThrough();
  for (const l of lines) src.write(l);
  const stops: Array<() => void> = [];
  if (follow === 'next' || (follow === 'running' && s.running())) {
    stops.push(s.log.follow((l) => src.write(l)));
    stops.push(s.onExit(() => src.end()));
  } else src.end();
  const p = pumpLog(src, sink, framer);
  const abort = () => p.stop();
  signal.addEventListener('abort', abort, { once: true });
  try {
    await p.done;
  } finally {
    signal.removeEventListener('abort', abort);
    for (const stop of stops) stop();
    src.destroy();
  }
}

export function ryukLogs(s: LogSubject, opts: LogsOptions): ContainerLogs {
  const since = key(opts.since, 'since');
  const until = key(opts.until, 'until');
  const stream: 1 | 2 = s.log.legacy ? 2 : 1;
  const wanted = s.tty || (stream === 1 ? opts.stdout : opts.stderr);
  return {
    tty: s.tty,
    run: async (sink, signal) => {
      if (!wanted) return;
      const all = s.log.all();
      const lines = opts.tail === undefined ? all : opts.tail === 0 ? [] : all.slice(-opts.tail);
      const framer = new LogFramer(sink, {
        stream,
        tty: s.tty,
        timestamped: true,
        keepTimestamps: opts.timestamps,
        ...(since ? { since } : {}),
        ...(until ? { until } : {}),
      });
      await pump(s, sink, framer, lines, opts.follow ? 'running' : 'no', signal);
    },
  };
}

/** attach: the log so far (`logs=1`) and what it prints from now on (`stream=1`); stdin is read and dropped (Ryuk reads none). */
export function ryukAttach(s: LogSubject, opts: AttachOptions): AttachStart {
  const stream: 1 | 2 = s.log.legacy ? 2 : 1;
  const wanted = s.tty || (stream === 1 ? opts.stdout : opts.stderr);
  return {
    tty: s.tty,
    run: async (conn) => {
      conn.input.resume();
      const ac = new AbortController();
      conn.onClose(() => ac.abort());
      if (wanted && (opts.logs || opts.stream)) {
        const framer = new LogFramer(conn.output, { stream, tty: s.tty, timestamped: true, keepTimestamps: false });
        await pump(
          s,
          conn.output as unknown as LogSink,
          framer,
          opts.logs ? s.log.all() : [],
          opts.stream ? 'next' : 'no',
          ac.signal,
        );
      }
      if (!conn.closed) conn.closeWrite();
    },
  };
}
