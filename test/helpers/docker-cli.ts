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

/** The docker CLI is on PATH. */
export function dockerAvailable(): boolean {
  return (process.env.PATH ?? '').split(':').some((dir) => {
    try {
      accessSync(join(dir, 'docker'), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
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
  return new Promise((resolve) => {
    const o = { env, timeout: opts.timeoutMs ?? 30_000, killSignal: opts.killSignal ?? 'SIGTERM' };
    execFile('docker', args, o, (err, stdout, stderr) => {
      const code = err
        ? typeof (err as { code?: unknown }).code === 'number'
          ? (err as { code: number }).code
          : 1
        : 0;
      resolve({ code, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}
