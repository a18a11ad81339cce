/**
 * @module api/volumes
 * The volume family (moby daemon/server/router/volume/volume_routes.go). Statuses are moby's:
 * create 201 with the volume, list 200 `{"Volumes","Warnings"}`, inspect 200, delete 204 (404
 * ignored with `force`), prune 200 `{"VolumesDeleted","SpaceReclaimed"}`. `PUT /volumes/{name}`
 * (cluster volumes) is swarm's and stays a 501.
 */
import { invalid } from '../errors.js';
import { boolValue, filtersOf } from '../router/query.js';
import type { Request, Response } from '../http/index.js';
import type { ApiContext } from './context.js';

const nameOf = (req: Request) => req.params['name'] ?? '';

/** GET /volumes?filters= */
export async function getVolumesList(ctx: ApiContext, req: Request, res: Response): Promise<void> {
  res.json(200, await ctx.backend.listVolumes(filtersOf(req.query)));
}

/** GET /volumes/{name} */
export async function getVolumeByName(ctx: ApiContext, req: Request, res: Response): Promise<void> {
  res.json(200, await ctx.backend.inspectVolume(nameOf(req)));
}

/** POST /volumes/create {Name, Driver, DriverOpts, Labels} */
export async function postVolumesCreate(ctx: ApiContext, req: Request, res: Response): Promise<void> {
  const body = (await req.json<unknown>()) ?? {};
  if (typeof body !== 'object' || Array.isArray(body)) throw invalid('invalid JSON: expected an object');
  res.json(201, await ctx.backend.createVolume(body as Record<string, never>));
}

/** DELETE /volumes/{name}?force= */
export async function deleteVolumes(ctx: ApiContext, req: Request, res: Response): Promise<void> {
  await ctx.backend.removeVolume(nameOf(req), boolValue(req.query, 'force'));
  res.empty(204);
}

/** POST /volumes/prune?filters= */
export async function postVolumesPrune(ctx: ApiContext, req: Request, res: Response): Promise<void> {
  req.body.resume();
  res.json(200, await ctx.backend.pruneVolumes(filtersOf(req.query), req.apiVersion));
}
