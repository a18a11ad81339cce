/**
 * @module api/attach
 * POST /containers/{name}/attach and POST /containers/{name}/resize (moby
 * daemon/server/router/container/container_routes.go postContainersAttach/postContainersResize;
 * the client side: docker/cli cli/command/container/hijack.go). The checks (404, bad detach keys
 * 400, paused 409) answer before the hijack; then the connection is taken over: 101 UPGRADED with
 * `multiplexed-stream` (non-TTY, API >= 1.42) or `raw-stream`, or 200 raw-stream without an
 * upgrade, and the engine streams over it. A docker CLI's TTY session that detaches ends that
 * CLI's own wait request too (api/cli-detach.ts: its detach over TCP).
 */
import { invalid } from '../errors.js';
import type { Request, Response } from '../http/index.js';
import { boolValue, stringValue } from '../router/query.js';
import { versionAtLeast } from '../router/version.js';
import type { ApiContext } from './context.js';
import type { AttachOptions } from '../engine/backend/streams.js';

export const RAW_STREAM = 'application/vnd.docker.raw-stream';
export const MULTIPLEXED_STREAM = 'application/vnd.docker.multiplexed-stream';

/** The hijacked Content-Type: multiplexed only for muxed streams from API 1.42 on (moby). */
export function streamContentType(muxed: boolean, apiVersion: string): string {
  return muxed && versionAtLeast(apiVersion, '1.42') ? MULTIPLEXED_STREAM : RAW_STREAM;
}

/** moby: `strconv.Atoi` on h and w; a bad value is a 400 with Go's text. */
export function sizeParam(q: URLSearchParams, key: 'h' | 'w'): number {
  const v = q.get(key) ?? '';
  if (!/^[+-]?\d+$/.test(v)) throw invalid(`strconv.Atoi: parsing ${JSON.stringify(v)}: invalid syntax`);
  const n = Number(v);
  if (n < 0 || n > 0xffff) throw invalid(`invalid terminal size ${key}=${v}`);
  return n;
}

function drain(body: NodeJS.ReadableStream): Promise<void> {
  return new Promise((resolve) => {
    body.on('end', resolve);
    body.on('error', () => resolve());
    body.resume();
  });
}

/** POST /containers/{name}/attach?stream=&logs=&stdin=&stdout=&stderr=&detachKeys= */
export async function postContainersAttach(ctx: ApiContext, req: Request, res: Response): Promise<void> {
  const q = req.query;
  const opts: AttachOptions = {
    stream: boolValue(q, 'stream'),
    logs: boolValue(q, 'logs'),
    stdin: boolValue(q, 'stdin'),
    stdout: boolValue(q, 'stdout'),
    stderr: boolValue(q, 'stderr'),
  };
  const keys = stringValue(q, 'detachKeys');
  if (keys !== undefined) opts.detachKeys = keys;
  const plan = ctx.backend.attachContainer(req.params['name'] ?? '', opts);
  // A body with a length is not stdin: moby hijacks and drops what net/http buffered of it
  // (dockerode sends its options as a JSON body). A chunked body stays: it is a stream of stdin.
  if (req.contentLength > 0) await drain(req.body);
  const conn = res.hijack(streamContentType(!plan.tty, req.apiVersion));
  const at = performance.now();
  const end = await plan.run(conn);
  ctx.detaches.attachEnded(req, req.params['name'] ?? '', plan.tty, at, end);
}

/** POST /containers/{name}/resize?h=&w=: 200 (dockerode accepts nothing else), even before the process exists. */
export async function postContainersResize(ctx: ApiContext, req: Request, res: Response): Promise<void> {
  const h = sizeParam(req.query, 'h');
  const w = sizeParam(req.query, 'w');
  ctx.backend.resizeContainer(req.params['name'] ?? '', h, w);
  res.empty(200);
}
