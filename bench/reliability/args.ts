/**
 * @module bench/reliability/args
 * The few flags of the reliability benches, and their progress line.
 */

/** The value after `name` in argv, if any. */
export function flag(argv: string[], name: string): string | undefined {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
}

let last = 0;
/** A progress line on stderr: in place on a terminal, every 10 s otherwise. */
export function progressLine(text: string): void {
  if (process.stderr.isTTY) process.stderr.write(`\r\x1b[K${text}`);
  else if (performance.now() - last > 10_000) {
    process.stderr.write(text + '\n');
    last = performance.now();
  }
}
