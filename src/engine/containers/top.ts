/**
 * @module engine/containers/top
 * GET /containers/{id}/top: `ps` run inside the container through pods/exec (a Docker host runs
 * ps outside it, moby daemon/top_unix.go), its output in moby's top shape.
 */
import { conflict, systemError } from '../../errors.js';
import { execRun } from './exec-run.js';
import { CONTAINER_NAME } from '../model/translate.js';
import type { ContainerHost } from './host.js';

export async function topContainer(
  e: ContainerHost,
  nameOrId: string,
  psArgs: string,
): Promise<{ Titles: string[]; Processes: string[][] }> {
  const rec = e.index.resolve(nameOrId);
  const pod = e.index.currentPod(rec);
  if (!pod || !e.stateOf(rec).Running) throw conflict(`Container ${rec.id} is not running`);
  const args = psArgs.trim() ? psArgs.trim().split(/\s+/) : ['-ef'];
  let r;
  try {
    r = await execRun(
      e.kube.dialer,
      e.namespace,
      pod.metadata.name,
      CONTAINER_NAME,
      ['ps', ...args],
      e.opts.execCommand,
    );
  } catch (err) {
    throw systemError(`cannot list the processes of container ${rec.id.slice(0, 12)}: ${(err as Error).message}`);
  }
  if (r.exitCode !== 0)
    throw systemError(`ps ${args.join(' ')} failed in the container (exit ${r.exitCode}): ${r.output.trim()}`);
  return parsePs(r.output, `ps ${args.join(' ')}`);
}

/** `ps` output -> moby's top shape, without the `ps` we ran (Docker runs ps outside the container). */
export function parsePs(output: string, ourCommand: string): { Titles: string[]; Processes: string[][] } {
  const lines = output.split('\n').filter((l) => l.trim());
  const titles = (lines[0] ?? '').trim().split(/\s+/);
  const processes: string[][] = [];
  for (const line of lines.slice(1)) {
    const parts = line.trim().split(/\s+/);
    const row = [...parts.slice(0, titles.length - 1), parts.slice(titles.length - 1).join(' ')];
    if (row[row.length - 1] === ourCommand) continue;
    processes.push(row);
  }
  return { Titles: titles, Processes: processes };
}
