/**
 * @module api/networks
 * The network family (moby daemon/server/router/network/network_routes.go). Status codes are
 * moby's: create 201 `{"Id","Warning"}`, connect and disconnect 200 with an empty body (dockerode
 * accepts 200 or 201 for connect, not 204), delete 204, prune 200 `{"NetworksDeleted"}`.
 */
import { invalid, notFound } from '../errors.js';
import { filtersOf, stringValue } from '../router/query.js';
import type { Request, Response } from '../http/index.js';
import type { ApiContext } from './context.js';

const idOf = (req: Request) => req.params['id'] ?? '';

async function objectBody(req: Request): Promise<Record<string, unknown>> {
  const body = await req.json<unknown>();
  if (body === undefined || body === null) return {};
  if (typeof body !== 'object' || Array.isArray(body)) throw invalid('invalid JSON: expected an object');
  return body as Record<string, unknown>;
}

/** GET /networks?filters= */
export async function getNetworksList(ctx: ApiContext, req: Request, res: Response): Promise<void> {
  res.json(200, await ctx.backend.listNetworks(filtersOf(req.query)));
}

/** GET /networks/{id}?verbose=&scope= (scope other than local: no such network, as moby's scope filter). */
export async function getNetwork(ctx: ApiContext, req: Request, res: Response): Promise<void> {
  const scope = stringValue(req.query, 'scope');
  if (scope && scope !== 'local') throw notFound(`network ${idOf(req)} not found`);
  res.json(200, await ctx.backend.inspectNetwork(idOf(req)));
}

/** POST /networks/create */
export async function postNetworkCreate(ctx: ApiContext, req: Request, res: Response): Promise<void> {
  res.json(201, await ctx.backend.createNetwork(await objectBody(req)));
}

/** POST /networks/{id}/connect {"Container","EndpointConfig"} */
export async function postNetworkConnect(ctx: ApiContext, req: Request, res: Response): Promise<void> {
  const body = await objectBody(req);
  if (!body.Container) throw invalid('a container name or ID is required');
  await ctx.backend.connectNetwork(
    idOf(req),
    body as { Container?: string; EndpointConfig?: Record<string, unknown> | null },
  );
  res.empty(200);
}

/** POST /networks/{id}/disconnect {"Container","Force"} */
export async function postNetworkDisconnect(ctx: ApiContext, req: Request, res: Response): Promise<void> {
  const body = await objectBody(req);
  if (!body.Container) throw invalid('a container name or ID is required');
  await ctx.backend.disconnectNetwork(idOf(req), body as { Container?: string; Force?: boolean });
  res.empty(200);
}

/** DELETE /networks/{id} */
export async function deleteNetwork(ctx: ApiContext, req: Request, res: Response): Promise<void> {
  await ctx.backend.removeNetwork(idOf(req));
  res.empty(204);
}

/** POST /networks/prune?filters= */
export async function postNetworksPrune(ctx: ApiContext, req: Request, res: Response): Promise<void> {
  req.body.resume();
  res.json(200, await ctx.backend.pruneNetworks(filtersOf(req.query)));
}
