/**
 * @module log
 * The pino root logger. Children carry a request id (`rid`) or a component name.
 * Nothing on the hot path logs per chunk: streams log once when they open and once when they end.
 */
import { pino, type Logger, type LevelWithSilent } from 'pino';

export type { Logger };

let root: Logger = pino({ level: process.env.KUBER_API_LOG_LEVEL ?? 'info', base: { name: 'kuber-api' } });

/** Replace the root logger (the CLI calls this once with `--log-level`). */
export function configureLogger(level: LevelWithSilent, destination?: pino.DestinationStream): Logger {
  root = destination ? pino({ level, base: { name: 'kuber-api' } }, destination) : pino({ level, base: { name: 'kuber-api' } });
  return root;
}

export function logger(): Logger {
  return root;
}

export function childLogger(bindings: Record<string, unknown>): Logger {
  return root.child(bindings);
}
