#!/usr/bin/env node
/**
 * @module cli
 * `kuber-api [flags]` serves the Docker Engine API; `kuber-api sim --kubeconfig PATH` runs kube-sim.
 * Subcommands are loaded lazily so that the server never loads the simulator's code unless asked.
 */
const argv = process.argv.slice(2);
if (argv[0] === 'sim') {
  const { main } = await import('./sim/cli.js');
  await main(argv.slice(1));
} else {
  const { main } = await import('./main.js');
  await main(argv);
}
