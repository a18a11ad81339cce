/**
 * @module test/helpers/kuber
 * kuber-api as a child process (`node dist/src/cli.js`) against a kubeconfig, on a temporary unix
 * socket (and optionally an ephemeral TCP port), so test files run in parallel. `restart()` stops
 * it and starts it again with the same instance ID and state dir (the restart-survival tests).
 * Logs go to a buffer shown on failure; TEST_LOG=<level> prints them.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

/** The kuber-api entry the tests run: dist/src/cli.js, or KUBER_API_CLI (e.g. dist/bundle/cli.js, the image's build). */
export function kuberApiCli(): string {
  return process.env.KUBER_API_CLI || join(root, 'dist', 'src', 'cli.js');
}

export interface Kuber {
  /** DOCKER_HOST for the unix socket. */
  dockerHost: string;
  socketPath: string;
  /** DOCKER_HOST over TCP, when `tcp` was asked for. */
  tcpHost?: string;
  instanceId: string;
  pid: number;
  logs(): string;
  restart(): Promise<void>;
  stop(): Promise<void>;
}

export interface KuberOptions {
  /** The entry to run (default kuberApiCli()). */
  cli?: string;
  /** Absent: no kubeconfig at all (HOME is a fresh temp dir), so kuber-api starts the embedded kube-sim. */
  kubeconfig?: string;
  namespace?: string;
  instanceId?: string;
  tcp?: boolean;
  args?: string[];
  env?: NodeJS.ProcessEnv;
}

export async function startKuber(opts: KuberOptions): Promise<Kuber> {
  const dir = mkdtempSync(join(tmpdir(), 'kuber-'));
  const socketPath = join(dir, 'docker.sock');
  const instanceId = opts.instanceId ?? `t-${randomBytes(4).toString('hex')}`;
  let child: ChildProcess;
  let logs = '';
  let tcpHost: string | undefined;
  const launch = async () => {
    const args = [
      opts.cli ?? kuberApiCli(),
      '-H',
      `unix://${socketPath}`,
      '--instance-id',
      instanceId,
      '--state-dir',
      join(dir, 'state'),
      '--log-level',
      process.env.TEST_LOG ?? 'info',
    ];
    if (opts.kubeconfig) args.push('--kubeconfig', opts.kubeconfig);
    if (opts.tcp) args.push('-H', 'tcp://127.0.0.1:0');
    if (opts.namespace) args.push('--namespace', opts.namespace);
    args.push(...(opts.args ?? []));
    const env: NodeJS.ProcessEnv = { ...process.env, KUBECONFIG: '', ...opts.env };
    if (!opts.kubeconfig) {
      env.HOME = dir; // no ~/.kube/config
      delete env.KUBERNETES_SERVICE_HOST;
    }
    child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env });
    const onData = (d: Buffer) => {
      logs += d.toString('utf8');
      if (process.env.TEST_LOG) process.stderr.write(d);
    };
    child.stderr!.on('data', onData);
    await new Promise<void>((resolve, reject) => {
      let pending = '';
      let unix = false;
      const timer = setTimeout(() => reject(new Error(`kuber-api did not start:\n${logs}`)), 60_000);
      child.stdout!.on('data', (d: Buffer) => {
        onData(d);
        pending += d.toString('utf8');
        let nl: number;
        while ((nl = pending.indexOf('\n')) >= 0) {
          const line = pending.slice(0, nl);
          pending = pending.slice(nl + 1);
          const m = /listening on (\S+?)"/.exec(line);
          if (m?.[1]?.startsWith('unix://')) unix = true;
          if (m?.[1]?.startsWith('tcp://')) tcpHost = m[1];
          if (unix && (!opts.tcp || tcpHost)) {
            clearTimeout(timer);
            resolve();
          }
        }
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`kuber-api exited with ${code}:\n${logs}`));
      });
    });
  };
  const stopChild = () =>
    new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      const t = setTimeout(() => child.kill('SIGKILL'), 15_000);
      child.once('exit', () => {
        clearTimeout(t);
        resolve();
      });
      child.kill('SIGTERM');
    });
  await launch();
  const k: Kuber = {
    dockerHost: `unix://${socketPath}`,
    socketPath,
    get tcpHost() {
      return tcpHost;
    },
    instanceId,
    get pid() {
      return child.pid!;
    },
    logs: () => logs,
    async restart() {
      await stopChild();
      await launch();
    },
    async stop() {
      await stopChild();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return k;
}
