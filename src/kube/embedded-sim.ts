/**
 * @module kube/embedded-sim
 * With no kubeconfig and no in-cluster service account, kuber-api runs kube-sim as a child
 * process (`node dist/src/cli.js sim --kubeconfig <dir>/kubeconfig`) and talks to it through that
 * kubeconfig, exactly as to a real cluster: nothing of src/sim is imported here.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Logger } from '../log.js';

export interface EmbeddedSim {
  url: string;
  kubeconfigPath: string;
  pid: number;
  stop(): Promise<void>;
}

/** dist/src/cli.js, next to this module's parent directory. */
const CLI = fileURLToPath(new URL('../cli.js', import.meta.url));

/** The simulator's command line (after `node`): `--install-prereqs` only when kuber-api was given it. */
export function embeddedSimArgs(stateDir: string, opts: { installPrereqs?: boolean } = {}): string[] {
  const args = [
    CLI,
    'sim',
    '--kubeconfig',
    join(stateDir, 'kubeconfig'),
    '--state-dir',
    join(stateDir, 'state'),
    '--feature-gates',
    'PodLogsQuerySplitStreams=true',
    '--exit-with-stdin',
    '--persist',
  ];
  return opts.installPrereqs ? [...args, '--install-prereqs'] : args;
}

export async function startEmbeddedSim(
  stateDir: string,
  log: Logger,
  opts: { readyTimeoutMs?: number; installPrereqs?: boolean } = {},
): Promise<EmbeddedSim> {
  mkdirSync(stateDir, { recursive: true });
  const kubeconfigPath = join(stateDir, 'kubeconfig');
  // Split log streams on: the embedded cluster stands for one with the PodLogsQuerySplitStreams gate
  // (alpha since 1.32), so `docker run` keeps stdout and stderr apart out of the box. Real clusters
  // without the gate get the documented merged-stdout behaviour. `--exit-with-stdin` plus a pipe we
  // never write: if kuber-api dies (even by SIGKILL) the pipe closes and the simulator stops too.
  // `--install-prereqs` (only when kuber-api was given it: installing packages is the machine
  // owner's decision): on a fresh Debian machine (root), the simulator apt-installs its sandbox tools.
  // `--persist`: the simulator keeps its objects in its state directory, so that containers,
  // networks and logs survive a restart of kuber-api, as dockerd keeps its containers.
  // `detached`: its own process group, so that a Ctrl-C in the terminal (SIGINT to the foreground
  // group) reaches kuber-api only, which then stops the simulator after its own shutdown, in order.
  const child: ChildProcess = spawn(process.execPath, embeddedSimArgs(stateDir, opts), {
    stdio: ['pipe', 'pipe', 'pipe'],
    detached: true,
  });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => {
    const text = d.toString('utf8');
    if (stderr.length < 8192) stderr += text;
    // Say what takes the time on a fresh machine (the simulator installing its sandbox tools).
    for (const line of text.split('\n')) if (/^kube-sim: installing/.test(line)) log.info(line);
  });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`kube-sim was not ready within ${opts.readyTimeoutMs ?? 300_000} ms: ${stderr}`));
    }, opts.readyTimeoutMs ?? 300_000);
    const onData = (d: Buffer) => {
      out += d.toString('utf8');
      const m = /kube-sim ready url=(\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        child.stdout!.off('data', onData);
        child.stdout!.resume();
        resolve(m[1]!);
      }
    };
    child.stdout!.on('data', onData);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      // Missing packages: say how kuber-api itself can install them.
      const hint =
        !opts.installPrereqs && /Debian packages/.test(stderr)
          ? ' (or start kuber-api as root with --install-prereqs)'
          : '';
      reject(new Error(`kube-sim exited (${code ?? signal}) before it was ready: ${stderr.trim()}${hint}`));
    });
  });
  child.on('exit', (code, signal) => {
    // Asked to stop (by us, or a signal sent to it directly): its normal exit is no error.
    if (stopping || code === 0) log.info({ code, signal }, 'the embedded kube-sim stopped');
    else log.error({ code, signal, stderr: stderr.slice(-2000) }, 'the embedded kube-sim exited');
  });
  let stopping = false;
  let stopped: Promise<void> | undefined;
  return {
    url,
    kubeconfigPath,
    pid: child.pid!,
    stop: () =>
      (stopped ??= new Promise<void>((resolve) => {
        stopping = true;
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
        child.once('exit', () => {
          clearTimeout(t);
          resolve();
        });
        child.kill('SIGTERM');
      })),
  };
}
