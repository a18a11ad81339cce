/**
 * @module test/helpers/sim
 * kube-sim for tests and benchmarks:
 * - `startSim(opts)`: in this process, through the public `start()`;
 * - `spawnSim(opts)`: a child process `node dist/src/cli.js sim ...`, so the simulator does not
 *   share an event loop with the code under test (e2e tests, benchmarks);
 * - `kubectl(version, args, opts)`: run a real kubectl (1.27 ... 1.33) against a kubeconfig, with
 *   its own discovery cache dir.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { start, type SimHandle, type SimOptions } from '../../src/sim/index.js';
import type { Faults } from '../../src/sim/faults.js';
import { kubectlPath } from './tools.js';

export type { SimHandle, SimOptions };

export function startSim(opts: SimOptions = {}): Promise<SimHandle> {
  return start(opts);
}

export interface SpawnOptions {
  tls?: boolean;
  port?: number;
  featureGates?: Record<string, boolean>;
  bookmarkIntervalMs?: number;
  /** Simulated nodes (`--nodes N`). */
  nodes?: number;
  /** More CLI flags. */
  args?: string[];
}

export interface SpawnedSim {
  url: string;
  kubeconfigPath: string;
  token?: string;
  caPath?: string;
  caPem?: string;
  pid: number;
  child: ChildProcess;
  /** Why kube-sim does not enforce NetworkPolicy (its startup log: no root, no nft...); undefined when it does. */
  networkPolicyNotEnforced?: string;
  setFaults(f: Faults): Promise<void>;
  clearFaults(): Promise<void>;
  stop(): Promise<void>;
}

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

export async function spawnSim(opts: SpawnOptions = {}): Promise<SpawnedSim> {
  const dir = mkdtempSync(join(tmpdir(), 'kube-sim-spawn-'));
  const kubeconfigPath = join(dir, 'kubeconfig');
  const args = [
    join(root, 'dist', 'src', 'cli.js'),
    'sim',
    '--kubeconfig',
    kubeconfigPath,
    '--state-dir',
    join(dir, 'state'),
  ];
  args.push(opts.tls === false ? '--no-tls' : '--tls');
  if (opts.port !== undefined) args.push('--port', String(opts.port));
  if (opts.featureGates)
    args.push(
      '--feature-gates',
      Object.entries(opts.featureGates)
        .map(([k, v]) => `${k}=${v}`)
        .join(','),
    );
  if (opts.bookmarkIntervalMs !== undefined) args.push('--bookmark-interval-ms', String(opts.bookmarkIntervalMs));
  if (opts.nodes !== undefined) args.push('--nodes', String(opts.nodes));
  args.push(...(opts.args ?? []));
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (d) => (err += d));
  let out = '';
  const url = await new Promise<string>((resolve, reject) => {
    const onData = (d: Buffer) => {
      out += d;
      const m = /kube-sim ready url=(\S+)/.exec(out);
      if (m) {
        child.stdout!.off('data', onData);
        resolve(m[1]!);
      }
    };
    child.stdout!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`kube-sim exited with ${code} before it was ready: ${err}`)));
  });
  const kc = readFileSync(kubeconfigPath, 'utf8');
  const token = /token: (\S+)/.exec(kc)?.[1];
  const caB64 = /certificate-authority-data: (\S+)/.exec(kc)?.[1];
  const caPem = caB64 ? Buffer.from(caB64, 'base64').toString('utf8') : undefined;
  const admin = (method: string, body?: unknown) =>
    new Promise<void>((resolve, reject) => {
      const u = new URL('/_sim/faults', url);
      const data = body === undefined ? undefined : JSON.stringify(body);
      const req = (u.protocol === 'https:' ? httpsRequest : httpRequest)(
        u,
        {
          method,
          ca: caPem,
          headers: {
            ...(token ? { authorization: `Bearer ${token}` } : {}),
            ...(data ? { 'content-type': 'application/json' } : {}),
          },
        },
        (res) => {
          res.resume();
          res.on('end', () =>
            res.statusCode === 200 ? resolve() : reject(new Error(`admin ${method}: ${res.statusCode}`)),
          );
        },
      );
      req.on('error', reject);
      req.end(data);
    });
  let stopped: Promise<void> | undefined;
  return {
    url,
    kubeconfigPath,
    token,
    caPath: caPem ? join(dir, 'state', 'ca.crt') : undefined,
    caPem,
    pid: child.pid!,
    child,
    // Logged before the ready line (src/sim/network-policy starts before the apiserver serves).
    networkPolicyNotEnforced: /NetworkPolicy is NOT enforced: ([^"\n]*)/.exec(out)?.[1],
    setFaults: (f) => admin('POST', f),
    clearFaults: () => admin('DELETE'),
    stop: () =>
      (stopped ??= new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        const t = setTimeout(() => child.kill('SIGKILL'), 5000);
        child.once('exit', () => {
          clearTimeout(t);
          rmSync(dir, { recursive: true, force: true });
          resolve();
        });
        child.kill('SIGTERM');
      })),
  };
}

/** kubectl of a minor version ('1.33'): `kubectl.1.33` beside the kubectl on PATH (test/helpers/tools.ts). */
export const KUBECTL = (version: string): string => kubectlPath(version);

export interface KubectlResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Run real kubectl `version` ('1.33', '1.30', '1.27'...) against a kubeconfig. */
export function kubectl(
  version: string,
  args: string[],
  opts: { kubeconfig: string; cacheDir?: string; stdin?: string; timeoutMs?: number; env?: NodeJS.ProcessEnv },
): Promise<KubectlResult> {
  const cacheDir = opts.cacheDir ?? mkdtempSync(join(tmpdir(), 'kubectl-cache-'));
  return new Promise((resolve, reject) => {
    const child = spawn(KUBECTL(version), ['--kubeconfig', opts.kubeconfig, '--cache-dir', cacheDir, ...args], {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, KUBECONFIG: opts.kubeconfig, HOME: cacheDir, ...(opts.env ?? {}) },
    });
    let stdout = '',
      stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const t = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(t);
      if (!opts.cacheDir) rmSync(cacheDir, { recursive: true, force: true });
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(opts.stdin ?? '');
  });
}
