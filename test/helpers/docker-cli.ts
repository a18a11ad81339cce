/**
 * @module test/helpers/docker-cli
 * Run the real docker CLI (a client only) against a DOCKER_HOST, with a private, empty config
 * dir so the developer's contexts and credentials never leak in.
 */
import { execFile } from 'node:child_process';
import { accessSync, constants, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

let configDir: string | undefined;

/** An executable `name` is on PATH. */
export function onPath(name: string): boolean {
  return (process.env.PATH ?? '').split(':').some((dir) => {
    try {
      accessSync(join(dir, name), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

/** The docker CLI is on PATH. */
export function dockerAvailable(): boolean {
  return onPath('docker');
}

export function docker(
  dockerHost: string,
  args: string[],
  opts: { env?: Record<string, string>; timeoutMs?: number; killSignal?: NodeJS.Signals } = {},
): Promise<CliResult> {
  configDir ??= mkdtempSync(join(tmpdir(), 'kapi-docker-config-'));
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    DOCKER_HOST: dockerHost,
    DOCKER_CONFIG: configDir,
    ...opts.env,
  };
  return runCli('docker', args, { env, timeoutMs: opts.timeoutMs ?? 30_000, killSignal: opts.killSignal });
}

/** Run a client program to its end: its exit code (1 when it could not run or timed out) and output. */
export function runCli(
  file: string,
  args: string[],
  opts: { env: NodeJS.ProcessEnv; timeoutMs: number; cwd?: string; killSignal?: NodeJS.Signals },
): Promise<CliResult> {
  return new Promise((resolve) => {
    const o = { env: opts.env, timeout: opts.timeoutMs, cwd: opts.cwd, killSignal: opts.killSignal ?? 'SIGTERM' };
    execFile(file, args, o, (err, stdout, stderr) => {
      const code = err
        ? typeof (err as { code?: unknown }).code === 'number'
          ? (err as { code: number }).code
          : 1
        : 0;
      resolve({ code, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}
