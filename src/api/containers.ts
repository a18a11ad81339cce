/**
 * @module api/containers
 * The container family (moby daemon/server/router/container/container_routes.go): list, inspect
 * and the lifecycle, delegating to the engine's backend. Status codes are moby's (each route's
 * WriteHeader; errors through api/server/httpstatus/status.go FromError):
 * create 201, start/stop/kill/restart/rename/delete 204, wait 200 with the head sent at once.
 * The streaming routes (attach, logs, exec, resize) are not here yet: they answer 501 "not
 * implemented yet" from src/api/index.ts until the streaming work adds them.
 */
import type { ListOptions, WaitCondition } from '../engine/backend/backend.js';
import { invalid, notImplemented } from '../errors.js';
import { boolValue, filtersOf, intValue, stringValue } from '../router/query.js';
import type { Request, Response } from '../http/index.js';
import type { ApiContext } from './context.js';
import { detachedWaitBody } from './cli-detach.js';

const nameOf = (req: Request) => req.params['name'] ?? '';

/** GET /containers/json?all=&limit=&size=&filters= */
export async function getContainersJSON(ctx: ApiContext, req: Request, res: Response): Promise<void> {
  const q = req.query;
  const limit = intValue(q, 'limit');
  const opts: ListOptions = {
    all: boolValue(q, 'all'),
    // moby: 0 and negative limits mean "no limit" (`docker ps -n -1`)
    ...(limit !== undefined && limit > 0 ? { limit } : {}),
    size: boolValue(q, 'size'),
    filters: filtersOf(q),
  };
  res.json(200, await ctx.backend.listContainers(opts, req.apiVersion));
}

/** GET /containers/{name:.*}/json?size= */
export async function getContainersByName(ctx: ApiContext, req: Request, res: Response): Promise<void> {
  res.json(
    200,
    await ctx.backend.inspectContainer(nameOf(req), { size: boolValue(req.query, 'size') }, req.apiVersion),
  );
}

/** POST /containers/create?name=&platform= with the Config (+HostConfig, NetworkingConfig) as JSON. */
export async function postContainersCreate(ctx: ApiContext, req: Request, res: Response): Promise<void> {
  const body = await req.json<Record<string, unknown>>();
  if (!body || typeof body !== 'object' || Array.isArray(body))
    throw invalid('config cannot be empty in order to create a container');
  const result = await ctx.backend.createContainer(stringValue(req.query, 'name'), body);
  res.json(201, result);
}

/** POST /containers/{name}/start: 204, or 304 when already running (moby). */
export async function postContainersStart(ctx: ApiContext, req: Request, res: Response): Promise<void> {
  // API < 1.24 could carry a HostConfig here; moby rejects it from 1.24 on, and so do we by ignoring it.
  req.body.resume();
  await ctx.backend.startContainer(nameOf(req));
  res.empty(204);
}

function stopOpts(req: Request): { timeout?: number; signal?: string } {
  const t = intValue(req.query, 't');
  const signal = stringValue(req.query, 'signal');
  return { ...(t !== undefined ? { timeout: t } : {}), ...(signal ? { signal } : {}) };
}

/** POST /containers/{name}/stop?t=&signal=: 204, or 304 when not running. */
export async function postContainersStop(ctx: ApiContext, req: Request, res: Response): Promise<void> {
  await ctx.backend.stopContainer(nameOf(req), stopOpts(req));
  res.empty(204);
}

/** POST /containers/{name}/kill?signal= (default SIGKILL): 204, 409 when not running. */
export async function postContainersKill(ctx: ApiContext, req: Request, res: Response): Promise<void> {
  await ctx.backend.killContainer(nameOf(req), stringValue(req.query, 'signal') ?? 'SIGKILL');
  res.empty(204);
}

/** POST /containers/{name}/restart?t=&signal= */
export async function postContainersRestart(ctx: ApiContext, req: Request, res: Response): Promise<void> {
  await ctx.backend.restartContainer(nameOf(req), stopOpts(req));
  res.empty(204);
}

/**
 * POST /containers/{name}/wait?condition=not-running|next-exit|removed. The 200 head goes out at
 * once (the docker CLI waits for it before it starts the container), the body
 * `{"StatusCode":N}` when the condition holds. A client that goes away cancels the wait; a
 * shutdown of kuber-api ends it with an Error body.
 */
export async function postContainersWait(ctx: ApiContext, req: Request, res: Response): Promise<void> {
  const condition = (stringValue(req.query, 'condition') ?? 'not-running') as WaitCondition;
  const abort = new AbortController();
  res.onClose(() => abort.abort(new Error('client went away')));
  // kuber-api stopping ends the wait at once with moby's error shape (the CLI prints it and exits
  // 125; the container itself goes on running in Kubernetes).
  const stopping = () => abort.abort(req.shutdown.reason);
  req.shutdown.addEventListener('abort', stopping, { once: true });
  let paired: { detached: Promise<void>; done(): void } | undefined;
  try {
    const { result } = await ctx.backend.waitContainer(nameOf(req), condition, abort.signal);
    // The docker CLI's own wait ends when its TTY attach detaches (api/cli-detach.ts).
    paired = ctx.detaches.watchWait(req, nameOf(req));
    const out = res.stream(200, { 'Content-Type': 'application/json' });
    out.on('error', () => abort.abort());
    let body: unknown;
    try {
      body = paired
        ? await Promise.race([result, paired.detached.then(() => detachedWaitBody(condition))])
        : await result;
    } catch (err) {
      if (abort.signal.aborted && !req.shutdown.aborted) {
        // The client went away: end our side too, or the half-closed connection stays open
        // (until a shutdown's grace period ends it).
        if (!out.destroyed && !out.writableEnded) out.end();
        return;
      }
      body = {
        StatusCode: -1,
        Error: {
          Message: req.shutdown.aborted
            ? 'kuber-api is shutting down: the container was not waited for'
            : (err as Error).message,
        },
      };
    }
    if (!out.destroyed) out.end(JSON.stringify(body) + '\n');
  } finally {
    req.shutdown.removeEventListener('abort', stopping);
    if (paired) {
      paired.done();
      abort.abort(); // a wait answered by the detach stops watching the container
    }
  }
}

/** DELETE /containers/{name}?force=&v=&link=: 204; 409 for a running container without force. */
export async function deleteContainers(ctx: ApiContext, req: Request, res: Response): Promise<void> {
  const q = req.query;
  await ctx.backend.removeContainer(nameOf(req), {
    force: boolValue(q, 'force'),
    volumes: boolValue(q, 'v'),
    link: boolValue(q, 'link'),
  });
  res.empty(204);
}

/** POST /containers/{name}/rename?name= */
export async function postContainerRename(ctx: ApiContext, req: Request, res: Response): Promise<void> {
  await ctx.backend.renameContainer(nameOf(req), stringValue(req.query, 'name') ?? '');
  res.empty(204);
}

/**
 * GET /containers/{name}/stats?stream=&one-shot= (moby container_routes.go getContainersStats):
 * samples from the Kubernetes metrics API (engine/stats). `stream=false` answers one sample (its
 * precpu_stats are the same counters one metrics window earlier, so one-shot needs no wait);
 * otherwise one JSON line every `--stats-interval-ms` until the client goes or the container stops.
 * A slow client skips samples rather than queueing them.
 */
export async function getContainersStats(ctx: ApiContext, req: Request, res: Response): Promise<void> {
  const reader = await ctx.backend.containerStats(nameOf(req), req.apiVersion);
  const stream = req.query.has('stream') ? boolValue(req.query, 'stream') : true;
  if (!stream) return res.json(200, await reader.sample());
  const out = res.stream(200, { 'Content-Type': 'application/json' });
  out.on('error', () => {});
  let closed = false;
  res.onClose(() => (closed = true));
  out.on('close', () => (closed = true));
  for (let first = true; !closed; first = false) {
    if (!first && !reader.running()) break;
    if (out.writableLength === 0) out.write(JSON.stringify(await reader.sample()) + '\n');
    if (first && !reader.running()) break;
    await new Promise((r) => setTimeout(r, ctx.options.statsIntervalMs));
  }
  if (!out.writableEnded && !out.destroyed) out.end();
}

/** POST /containers/{name}/update: a Pod's resources cannot be changed in place on most clusters. */
export async function postContainerUpdate(ctx: ApiContext, req: Request): Promise<void> {
  await ctx.backend.inspectContainer(nameOf(req), { size: false }, req.apiVersion);
  throw notImplemented(
    "Updating a container is not supported by kuber-api: a Pod's resources and restart policy cannot be changed in place",
  );
}

/** GET /containers/{name}/top?ps_args= : `ps` run inside the container (409 when not running). */
export async function getContainersTop(ctx: ApiContext, req: Request, res: Response): Promise<void> {
  res.json(200, await ctx.backend.topContainer(nameOf(req), stringValue(req.query, 'ps_args') ?? '-ef'));
}

/** POST /containers/prune?filters= (until, label, label!) */
export async function postContainersPrune(ctx: ApiContext, req: Request, res: Response): Promise<void> {
  res.json(200, await ctx.backend.pruneContainers(filtersOf(req.query)));
}
