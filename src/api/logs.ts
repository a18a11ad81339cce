/**
 * @module api/logs
 * GET /containers/{name}/logs (moby container_routes.go getContainersLogs, api/server/httputils
 * WriteLogStream; daemon/logs.go ContainerLogs). 400 "Bad parameters: you must choose at least one stream"
 * without stdout and stderr; otherwise 200 with the head flushed at once (clients wait for it, and
 * testcontainers starts its log wait only then), chunked, `multiplexed-stream` for a non-TTY
 * container from API 1.42 on (raw-stream otherwise), and the log as the engine streams it.
 */
import type { Request, Response } from '../http/index.js';
import { boolValue, stringValue } from '../router/query.js';
import type { ApiContext } from './context.js';
import { streamContentType } from './attach.js';
import type { LogsOptions } from '../engine/backend/streams.js';

/** moby: a tail that is not an integer (`all`) or is negative means every line. */
export function tailParam(q: URLSearchParams): number | undefined {
  const v = (q.get('tail') ?? '').trim();
  if (!/^[+-]?\d+$/.test(v)) return undefined;
  const n = Number(v);
  return n < 0 ? undefined : n;
}

/** since/until: empty and "0" are unset (moby timetypes); the engine parses the rest (400 when bad). */
function timeParam(q: URLSearchParams, key: string): string | undefined {
  const v = stringValue(q, key)?.trim();
  return v === undefined || v === '' || /^0*(\.0*)?$/.test(v) ? undefined : v;
}

export async function getContainersLogs(ctx: ApiContext, req: Request, res: Response): Promise<void> {
  const q = req.query;
  const opts: LogsOptions = {
    stdout: boolValue(q, 'stdout'),
    stderr: boolValue(q, 'stderr'),
    follow: boolValue(q, 'follow'),
    timestamps: boolValue(q, 'timestamps'),
  };
  const tail = tailParam(q);
  if (tail !== undefined) opts.tail = tail;
  const since = timeParam(q, 'since');
  if (since !== undefined) opts.since = since;
  const until = timeParam(q, 'until');
  if (until !== undefined) opts.until = until;
  const plan = ctx.backend.containerLogs(req.params['name'] ?? '', opts);
  const abort = new AbortController();
  res.onClose(() => abort.abort());
  // kuber-api stopping ends a follow at once with a clean end of stream (docker logs -f returns 0).
  const stopping = () => abort.abort();
  req.shutdown.addEventListener('abort', stopping, { once: true });
  const out = res.stream(200, { 'Content-Type': streamContentType(!plan.tty, req.apiVersion) });
  out.on('error', () => abort.abort());
  out.on('close', () => abort.abort());
  try {
    await plan.run(out, abort.signal);
  } catch (err) {
    if (!req.shutdown.aborted) throw err;
  } finally {
    req.shutdown.removeEventListener('abort', stopping);
    if (!out.destroyed && !out.writableEnded) out.end();
  }
}
