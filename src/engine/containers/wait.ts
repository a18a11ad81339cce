/**
 * @module engine/containers/wait
 * POST /containers/{id}/wait (moby daemon/wait.go): conditions `not-running`, `next-exit` and
 * `removed`, answered by watch (engine/container-index `when`), never by polling. The exit code
 * of a run that ended, or a container that went away, comes from the monitor (engine/containers/monitor.ts),
 * which remembers it after the record or the Pod is gone.
 */
import { invalid } from '../../errors.js';
import type { WaitCondition, WaitResult } from '../backend/backend.js';
import type { ContainerHost } from './host.js';

export async function waitContainer(
  e: ContainerHost,
  nameOrId: string,
  condition: WaitCondition,
  signal: AbortSignal,
): Promise<{ id: string; result: Promise<WaitResult> }> {
  if (!['not-running', 'next-exit', 'removed'].includes(condition)) throw invalid(`invalid condition: "${condition}"`);
  const rec = e.index.resolve(nameOrId);
  const id = rec.id;
  const exits0 = e.monitor.exitCount(id);
  const lastCode = () => {
    const r = e.index.get(id);
    return r ? e.stateOf(r).ExitCode : e.monitor.lastExitCode(id);
  };
  let known = e.stateOf(rec).ExitCode;
  const result = e.index.when<WaitResult>(
    () => {
      const r = e.index.get(id);
      if (r) known = e.stateOf(r).ExitCode;
      if (condition === 'removed') return r ? undefined : { StatusCode: e.monitor.lastExitCode(id) ?? known };
      if (e.monitor.exitCount(id) > exits0) return { StatusCode: e.monitor.lastExitCode(id) ?? lastCode() ?? 0 };
      if (!r) return { StatusCode: e.monitor.lastExitCode(id) ?? known };
      if (condition === 'not-running' && !e.stateOf(r).Running) return { StatusCode: lastCode() ?? 0 };
      return undefined;
    },
    { signal },
  );
  // Writable binds are copied back before the wait answers, so `docker run` returns with the source up to date.
  return { id, result: result.then(async (r) => (await e.volumes.settle(id), r)) };
}
