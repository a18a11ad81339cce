/**
 * @module test/helpers/tools
 * Where the tests find the programs they drive: through PATH, or relative to the repository,
 * never through an absolute path of one machine.
 *
 * - kubectl of a given minor version: `kubectl.1.NN` beside the `kubectl` found on PATH (its
 *   symlinks resolved), as the Google Cloud SDK lays out its bundled kubectl versions.
 * - the dockerd oracle: `../shared/tools/dockerd-oracle` beside the repository; its socket is what
 *   `dockerd-oracle env` prints, or ORACLE_SOCKET. `.ci/run` starts it and sets ORACLE_SOCKET, and
 *   a test that was promised an oracle (ORACLE_SOCKET set) fails instead of skipping when it does
 *   not answer.
 */
import { accessSync, constants, existsSync, realpathSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import net from 'node:net';
import { dirname, join, delimiter } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root: the nearest directory with a package.json above this module (in dist/ or not). */
export const REPO_ROOT: string = (() => {
  for (let dir = dirname(fileURLToPath(import.meta.url)); ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    if (dirname(dir) === dir) throw new Error(`no package.json above ${import.meta.url}`);
  }
})();

/** The first executable `name` on PATH, or undefined. */
export function onPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const p = join(dir, name);
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      /* not here */
    }
  }
  return undefined;
}

/**
 * The kubectl binary of `version` ('1.33', '1.30', '1.27'...): `kubectl.<version>` in the directory
 * of the real file behind the `kubectl` on PATH. The path may not exist (callers check, and skip
 * naming the missing file); without a kubectl on PATH it names that instead.
 */
export function kubectlPath(version: string): string {
  const k = onPath('kubectl');
  const dir = k ? dirname(realpathSync(k)) : '(no kubectl on PATH)';
  return join(dir, `kubectl.${version}`);
}

/** The dockerd-oracle script, relative to the repository root. */
export const ORACLE_SCRIPT = join(REPO_ROOT, '..', 'shared', 'tools', 'dockerd-oracle');

/** The oracle's unix socket: ORACLE_SOCKET, else what `dockerd-oracle env` prints, else undefined (no script). */
export function oracleSocket(): string | undefined {
  if (process.env.ORACLE_SOCKET) return process.env.ORACLE_SOCKET;
  if (!existsSync(ORACLE_SCRIPT)) return undefined;
  try {
    const out = execFileSync('bash', [ORACLE_SCRIPT, 'env'], { encoding: 'utf8', timeout: 10_000 });
    return /DOCKER_HOST=unix:\/\/(\S+)/.exec(out)?.[1];
  } catch {
    return undefined;
  }
}

/** The environment promised an oracle (CI sets ORACLE_SOCKET after starting one). */
export const oracleRequired = (): boolean => !!process.env.ORACLE_SOCKET;

/** Does something accept connections on `socket`? */
export function socketAnswers(socket: string): Promise<boolean> {
  if (!existsSync(socket)) return Promise.resolve(false);
  return new Promise((resolve) => {
    const s = net.connect(socket);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/**
 * The oracle's socket when it answers. When it does not: undefined, with the SKIP reason printed;
 * or, when ORACLE_SOCKET promised one, an error (so CI cannot pass by skipping).
 */
export async function findOracle(what: string): Promise<string | undefined> {
  const socket = oracleSocket();
  if (socket && (await socketAnswers(socket))) return socket;
  const why = socket ? `no dockerd-oracle answers on ${socket}` : `no dockerd-oracle script at ${ORACLE_SCRIPT}`;
  if (oracleRequired()) throw new Error(`${what}: ORACLE_SOCKET is set but ${why}`);
  console.log(`SKIP ${what}: ${why} (start one with ../shared/tools/dockerd-oracle up, relative to the repository)`);
  return undefined;
}
