/**
 * @module log
 * The pino root logger. Children carry a request id (`rid`) or a component name.
 * Nothing on the hot path logs per chunk: streams log once when they open and once when they end.
 * Lines are JSON (one object a line, for log collectors) or, for a person at a terminal,
 * `12:00:01.234 INFO  listening on tcp://127.0.0.1:2375 host=...` from log-pretty.ts (no
 * pino-pretty dependency: pino writes its JSON lines into that small formatter).
 */
import { pino, type Logger, type LevelWithSilent } from 'pino';
import { PrettyStream } from './log-pretty.js';

export type { Logger };

export type LogFormat = 'auto' | 'json' | 'pretty';

let root: Logger = pino({ level: process.env.KUBER_API_LOG_LEVEL ?? 'info', base: { name: 'kuber-api' } });

/** `auto` is pretty when stdout is a terminal (a person reads it), JSON otherwise (a collector does). */
export function resolveLogFormat(format: LogFormat, isTTY = !!process.stdout.isTTY): 'json' | 'pretty' {
  return format === 'auto' ? (isTTY ? 'pretty' : 'json') : format;
}

/** Replace the root logger (the CLI calls this once with `--log-level` and `--log-format`). */
export function configureLogger(
  level: LevelWithSilent,
  destination?: pino.DestinationStream,
  format: LogFormat = 'json',
): Logger {
  const opts = { level, base: { name: 'kuber-api' } };
  if (resolveLogFormat(format) === 'pretty') {
    const out = destination ?? process.stdout;
    root = pino(
      opts,
      new PrettyStream(out, { color: out === process.stdout && !!process.stdout.isTTY && !process.env.NO_COLOR }),
    );
  } else root = destination ? pino(opts, destination) : pino(opts);
  return root;
}

export function logger(): Logger {
  return root;
}

export function childLogger(bindings: Record<string, unknown>): Logger {
  return root.child(bindings);
}
