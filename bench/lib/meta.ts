/**
 * @module bench/lib/meta
 * What every bench report records beside its numbers (the commit, the machine), and the wait
 * for a freshly started kuber-api to serve.
 */
import { execFileSync } from 'node:child_process';
import { cpus, release, totalmem } from 'node:os';
import type { DockerClient } from './docker-client.js';
import { ROOT } from './procs.js';
import type { Meta } from './report.js';

export function gitCommit(): string {
  try {
    const h = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim();
    // The recorded results (RESULTS.md, its charts, reliability.json) are outputs, not code.
    const outputs = [':!bench/RESULTS.md', ':!bench/*.svg', ':!bench/reliability.json'];
    const dirty = execFileSync(
      'git',
      ['status', '--porcelain', '--untracked-files=no', '--', 'src', 'bench', ...outputs],
      {
        cwd: ROOT,
        encoding: 'utf8',
      },
    ).trim();
    return dirty ? `${h} (with uncommitted changes)` : h;
  } catch {
    return 'unknown';
  }
}

export function machine(): Pick<Meta, 'cpu' | 'cores' | 'memGiB' | 'node' | 'kernel'> {
  const c = cpus();
  return {
    cpu: c[0]?.model.trim() ?? 'unknown',
    cores: c.length,
    memGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    kernel: release(),
  };
}

/** kuber-api listens at once and answers 503 to what needs Kubernetes until its backend is up. */
export async function waitReady(docker: DockerClient): Promise<void> {
  for (let i = 0; ; i++) {
    try {
      await docker.negotiate();
      await docker.json('GET', '/containers/json');
      return;
    } catch (err) {
      if (i >= 240) throw err;
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}
