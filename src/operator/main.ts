/**
 * @module operator/main
 * `kuber-api operator [flags]`: parse the flags, run until SIGTERM/SIGINT.
 */
import { childLogger, configureLogger } from '../log.js';
import { OPERATOR_USAGE, parseOperatorArgs } from './options.js';
import { runOperator } from './index.js';

export async function main(argv: string[]): Promise<void> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(OPERATOR_USAGE);
    return;
  }
  let opts;
  try {
    opts = parseOperatorArgs(argv);
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n`);
    process.exit(125);
  }
  configureLogger(opts.logLevel as Parameters<typeof configureLogger>[0]);
  const log = childLogger({ component: 'operator' });
  let op;
  try {
    op = await runOperator(opts, log);
  } catch (err) {
    log.fatal({ err: (err as Error).message }, `the operator could not start: ${(err as Error).message}`);
    process.exit(1);
  }
  const stop = () => void op.close().then(() => process.exit(0));
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}
