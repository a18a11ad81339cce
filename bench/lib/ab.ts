/**
 * @module bench/lib/ab
 * What the A/B scripts (bench/ab-logs.ts, bench/ab-exec.ts) share: their flags, and one kuber-api
 * per build on the same kube-sim, each answering before the comparison starts.
 */
import { startKuber, type KuberProc, type SimProc } from './procs.js';
import { DockerClient } from './docker-client.js';
import { waitReady } from './meta.js';

/** Take `--name value` out of `args` (its default when absent). */
export function flagValue(args: string[], name: string, dflt: string): string {
  const i = args.indexOf(name);
  if (i < 0) return dflt;
  const v = args[i + 1]!;
  args.splice(i, 2);
  return v;
}

/** Take the flag `name` out of `args`: was it there? */
export function hasFlag(args: string[], name: string): boolean {
  const i = args.indexOf(name);
  if (i >= 0) args.splice(i, 1);
  return i >= 0;
}

export interface RunningBuild {
  cli: string;
  kuber: KuberProc;
  docker: DockerClient;
}

/** One kuber-api of build `cli` on `sim` (profiled into `prof` when given), answering. */
export async function startBuild(sim: SimProc, cli: string, prof: string): Promise<RunningBuild> {
  const kuber = await startKuber({
    kubeconfig: sim.kubeconfigPath,
    namespace: 'default',
    unix: false,
    cli,
    nodeArgs: prof ? ['--cpu-prof', '--cpu-prof-dir', prof] : [],
  });
  const docker = new DockerClient(kuber.dockerHost);
  try {
    await waitReady(docker);
  } catch (err) {
    docker.close();
    await kuber.stop();
    throw err;
  }
  return { cli, kuber, docker };
}

/** Stop every build, removing its container `idOf(b)` first when it has one. */
export async function stopBuilds<B extends RunningBuild>(
  builds: B[],
  idOf: (b: B) => string | undefined,
): Promise<void> {
  for (const b of builds) {
    const id = idOf(b);
    if (id) await b.docker.remove(id).catch(() => {});
    b.docker.close();
    await b.kuber.stop();
  }
}

/** A script's entry: exit 0 when `main` resolves, else print its error and exit 1. */
export function runScript(main: () => Promise<void>): void {
  main().then(
    () => process.exit(0),
    (err: Error) => {
      console.error(err.message);
      process.exit(1);
    },
  );
}
