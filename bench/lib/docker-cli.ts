/**
 * @module bench/lib/docker-cli
 * The docker CLI as the consumer (path e's cases): run `docker <args>` against a DOCKER_HOST with a
 * private, empty config dir (no contexts, credentials or hints of the machine's user leak in), read
 * its stdout as it arrives and verify every byte against the model, as `docker logs x | wc -c`
 * would count them; the wall time is from the spawn to the exit. stderr must hold nothing but the
 * daemon's WARNING lines (dockerd without IPv4 forwarding prints one on every `docker run`).
 */
import { spawn } from 'node:child_process';
import { accessSync, constants, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Verifier } from './model.js';

let configDir: string | undefined;

/** The docker CLI is on PATH. */
export function dockerCliAvailable(): boolean {
  return (process.env.PATH ?? '').split(':').some((dir) => {
    try {
      accessSync(join(dir, 'docker'), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

export interface CliRun {
  ok: boolean;
  error?: string;
  code: number | null;
  /** Verified stdout bytes (with a verifier), else stdout bytes. */
  bytes: number;
  seconds: number;
  reads: number;
  stdout: string;
}

/** Lines the CLI prints on stderr that are not an error (the daemon's warnings). */
const HARMLESS = /^(WARNING: .*)?$/;

export function dockerCli(
  host: string,
  args: string[],
  o: { verifier?: Verifier; timeoutMs: number; onProgress?: (bytes: number) => void },
): Promise<CliRun> {
  configDir ??= mkdtempSync(join(tmpdir(), 'kapi-bench-docker-config-'));
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    DOCKER_HOST: host,
    DOCKER_CONFIG: configDir,
    DOCKER_CLI_HINTS: 'false',
  };
  const t0 = performance.now();
  const child = spawn('docker', args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let bytes = 0;
  let reads = 0;
  let stderr = '';
  let stdout = '';
  let last = t0;
  child.stdout.on('data', (d: Buffer) => {
    reads++;
    bytes += d.length;
    if (o.verifier) o.verifier.push(d);
    else if (stdout.length < 4096) stdout += d.toString('utf8');
    const now = performance.now();
    if (o.onProgress && now - last > 250) {
      last = now;
      o.onProgress(bytes);
    }
  });
  child.stderr.on('data', (d: Buffer) => {
    if (stderr.length < 8192) stderr += d.toString('utf8');
  });
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), o.timeoutMs);
    child.once('error', (err) => {
      clearTimeout(timer);
      resolve({
        ok: false,
        error: `docker ${args[0]}: ${err.message}`,
        code: null,
        bytes,
        seconds: (performance.now() - t0) / 1000,
        reads,
        stdout,
      });
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      const seconds = (performance.now() - t0) / 1000;
      let error: string | undefined;
      const verified = o.verifier ? o.verifier.end() : true;
      const noise = stderr.split('\n').filter((l) => !HARMLESS.test(l));
      if (code !== 0)
        error = `docker ${args[0]} exited ${code ?? signal}${signal === 'SIGKILL' ? ` (timeout after ${o.timeoutMs} ms)` : ''}: ${stderr.trim().slice(-300)}`;
      else if (!verified) error = o.verifier!.error;
      else if (noise.length) error = `unexpected stderr: ${noise.join(' | ').slice(0, 300)}`;
      resolve({ ok: !error, error, code, bytes: o.verifier ? o.verifier.bytes : bytes, seconds, reads, stdout });
    });
  });
}
