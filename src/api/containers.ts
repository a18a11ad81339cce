/**
 * @module api/containers
 * The container family (moby daemon/server/router/container/container_routes.go). For now only
 * listing and inspection, delegating to the engine's `ContainerBackend`; the rest of the family
 * (create, start, wait, attach, logs, archive...) is added here by the engine work.
 */
import type { ListOptions } from '../engine/backend.js';
import { boolValue, filtersOf, intValue } from '../router/query.js';
import type { Request, Response } from '../http/index.js';
import type { ApiContext } from './context.js';

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
  res.json(200, await ctx.backend.inspectContainer(req.params['name'] ?? '', { size: boolValue(req.query, 'size') }, req.apiVersion));
}
