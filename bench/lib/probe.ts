/**
 * @module bench/lib/probe
 * Loaded into kuber-api by the reliability benches (`node --import`), so that kuber-api itself
 * carries no metrics endpoint for them: perf_hooks.monitorEventLoopDelay measures the event-loop
 * lag inside the process (a harness outside can only see its own loop), and each SIGUSR2 appends
 * the histogram since the previous one to $KAPI_BENCH_PROBE as a JSON line, then resets it. An
 * uncaught exception or unhandled rejection is appended as well (uncaughtExceptionMonitor
 * observes without changing what the process does: it still dies).
 */
import { appendFileSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';

const out = process.env.KAPI_BENCH_PROBE;
if (out) {
  const h = monitorEventLoopDelay({ resolution: 10 });
  h.enable();
  const ms = (ns: number) => Math.round(ns / 1e4) / 100;
  process.on('SIGUSR2', () => {
    const lag = { p50: ms(h.percentile(50)), p99: ms(h.percentile(99)), max: ms(h.max), samples: h.count };
    appendFileSync(out, JSON.stringify({ kind: 'lag', ...lag }) + '\n');
    h.reset();
  });
  process.on('uncaughtExceptionMonitor', (err, origin) => {
    appendFileSync(out, JSON.stringify({ kind: 'uncaught', origin, message: String(err?.stack ?? err) }) + '\n');
  });
}
