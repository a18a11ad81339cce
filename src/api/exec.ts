/**
 * @module api/exec
 * The exec family (moby daemon/server/router/container/exec.go; the clients: docker/cli
 * cli/command/container/exec.go, testcontainers-node docker-container-client.ts `exec`):
 * create (201 `{"Id"}`), start (hijacked 101 or plain 200; the *start* body's Tty decides raw or
 * multiplexed; `Detach: true` is an empty 200 without a hijack), resize (200, remembered before the
 * process exists), inspect.
 *
 * Exec start reads its JSON body by Content-Length and never waits for the request to end:
 * testcontainers' `{"stdin":true,"Detach":false,"Tty":false}` request is never ended by the
 * client; whatever follows the body is the process's stdin.
 */
import type { Request, Response } from '../http/index.js';
import { invalid } from '../errors.js';
import type { ApiContext } from './context.js';
import { sizeParam, streamContentType } from './attach.js';

/** POST /containers/{name}/exec */
export async function postContainerExecCreate(ctx: ApiContext, req: Request, res: Response): Promise<void> {
  const body = await req.json<Record<string, unknown>>();
  if (body !== undefined && (typeof body !== 'object' || body === null || Array.isArray(body)))
    throw invalid('invalid exec config: expected a JSON object');
  res.json(201, ctx.backend.createExec(req.params['name'] ?? '', body));
}

/** POST /exec/{name}/start with `{"Detach","Tty","ConsoleSize"}` */
export async function postContainerExecStart(ctx: ApiContext, req: Request, res: Response): Promise<void> {
  const body = (await req.json<Record<string, unknown>>()) ?? {};
  const cs = body.ConsoleSize;
  const plan = await ctx.backend.startExec(req.params['name'] ?? '', {
    Detach: !!body.Detach,
    Tty: !!body.Tty,
    ConsoleSize: Array.isArray(cs) && cs.length === 2 ? [Number(cs[0]) || 0, Number(cs[1]) || 0] : null,
  });
  if (plan.detach) {
    res.empty(200);
    return;
  }
  const conn = res.hijack(streamContentType(!plan.tty, req.apiVersion));
  await plan.run(conn);
}

/** POST /exec/{name}/resize?h=&w= */
export async function postContainerExecResize(ctx: ApiContext, req: Request, res: Response): Promise<void> {
  const h = sizeParam(req.query, 'h');
  const w = sizeParam(req.query, 'w');
  ctx.backend.resizeExec(req.params['name'] ?? '', h, w);
  res.empty(200);
}

/** GET /exec/{id}/json */
export async function getExecByID(ctx: ApiContext, req: Request, res: Response): Promise<void> {
  res.json(200, ctx.backend.inspectExec(req.params['id'] ?? ''));
}
