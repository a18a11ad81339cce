/**
 * @module api/build
 * The build family (moby daemon/server/router/build/build_routes.go). kuber-api builds nothing
 * (POST /build stays a 501 naming why, src/api/unsupported.ts), so its build cache is always
 * empty; `docker system prune` and `docker builder prune` call POST /build/prune, answered as a
 * dockerd with an empty build cache answers it: 200 `{"CachesDeleted":null,"SpaceReclaimed":0}`
 * (build.CachePruneReport, a nil slice).
 */
import { filtersOf } from '../router/query.js';
import type { Request, Response } from '../http/index.js';
import type { ApiContext } from './context.js';

/** POST /build/prune?all=&filters=&keep-storage=... : nothing to prune. */
export async function postPrune(_ctx: ApiContext, req: Request, res: Response): Promise<void> {
  filtersOf(req.query); // a malformed filters parameter is a 400, as dockerd's
  res.json(200, { CachesDeleted: null, SpaceReclaimed: 0 });
}
