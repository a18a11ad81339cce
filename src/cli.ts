#!/usr/bin/env node
/**
 * @module cli
 * `kuber-api [serve] [flags]` serves the Docker Engine API; `kuber-api operator [flags]` runs the
 * per-job namespace operator (src/operator); `kuber-api sim --kubeconfig PATH` runs kube-sim. One
 * entrypoint for every role (the container image's). Subcommands are loaded lazily so that the
 * server never loads the simulator's or the operator's code unless asked.
 */
let argv = process.argv.slice(2);
if (argv[0] === 'serve') argv = argv.slice(1);
if (argv[0] === 'sim') {
  const { main } = await import('./sim/cli.js');
  await main(argv.slice(1));
} else if (argv[0] === 'operator') {
  const { main } = await import('./operator/main.js');
  await main(argv.slice(1));
} else {
  const { main } = await import('./main.js');
  await main(argv);
}
