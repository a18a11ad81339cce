/**
 * @module test/helpers/compose
 * The compose clients the e2e tests drive: Debian's docker-compose 1.29 (v1, Python) and the
 * `docker compose` 2.x CLI plugin (v2, Go: .ci/run installs it from Debian trixie). They differ
 * on the wire (v2 labels and checks the networks and volumes it creates, lists with filters,
 * attaches before start) and in container names (`proj_svc_1` against `proj-svc-1`).
 */
import { execFileSync } from 'node:child_process';
import { onPath, runCli, type CliResult } from './docker-cli.js';

export interface ComposeTool {
  /** A name for test titles and SKIP lines. */
  label: string;
  /** The program and the arguments before compose's own. */
  argv: [string, ...string[]];
  /** The name compose gives a service's n-th container. */
  container(project: string, service: string, n?: number): string;
}

export const COMPOSE_V1: ComposeTool = {
  label: 'docker-compose v1',
  argv: ['docker-compose'],
  container: (p, s, n = 1) => `${p}_${s}_${n}`,
};
export const COMPOSE_V2: ComposeTool = {
  label: 'docker compose v2',
  argv: ['docker', 'compose'],
  container: (p, s, n = 1) => `${p}-${s}-${n}`,
};

/** Whether a compose client runs here: v1 is a program on PATH, v2 a plugin the docker CLI finds. */
export function composeAvailable(tool: ComposeTool): boolean {
  if (!onPath(tool.argv[0])) return false;
  if (tool.argv.length === 1) return true;
  try {
    execFileSync(tool.argv[0], [...tool.argv.slice(1), 'version'], { stdio: 'ignore', timeout: 30_000 });
    return true;
  } catch {
    return false;
  }
}

/** The compose clients on this machine; a SKIP line for each one that is not. */
export function composeTools(what: string): ComposeTool[] {
  return [COMPOSE_V1, COMPOSE_V2].filter((tool) => {
    const ok = composeAvailable(tool) && onPath('docker');
    if (!ok) console.log(`SKIP ${what} with ${tool.label}: \`${tool.argv.join(' ')}\` is not installed (see .ci/run)`);
    return ok;
  });
}

/** Run compose in `dir` against `dockerHost` (no developer config: HOME and PATH only). */
export function compose(
  tool: ComposeTool,
  dockerHost: string,
  dir: string,
  args: string[],
  timeoutMs = 180_000,
): Promise<CliResult> {
  return runCli(tool.argv[0], [...tool.argv.slice(1), ...args], {
    cwd: dir,
    timeoutMs,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, DOCKER_HOST: dockerHost },
  });
}
