/**
 * @module api
 * The Docker API as one HTTP handler: the route table (src/router/routes.ts) bound to the
 * handlers exported by each family module. A route resolves, in this order, to
 *   1. the function exported under its handler name by a family module below,
 *   2. a 501 naming the feature when src/api/unsupported.ts lists it,
 *   3. a 501 "not implemented yet" named for the route.
 * To add a family: write src/api/<family>.ts exporting moby-named handlers and add it to FAMILIES.
 */
import { hostname } from 'node:os';
import type { Handler } from '../http/index.js';
import { createDispatcher, type RouteHandler } from '../router/dispatch.js';
import type { Router, RouteDef } from '../router/router.js';
import { ROUTES } from '../router/routes.js';
import { withRequestSignal } from '../cancel-scope.js';
import { deadlineOf, withDeadline } from './deadline.js';
import { versionHeaders } from '../router/version.js';
import type { ApiContext, ApiHandler } from './context.js';
import { UNSUPPORTED, notYetImplemented, unsupportedHandler } from './unsupported.js';
import * as system from './system.js';
import * as containers from './containers.js';
import * as images from './images.js';
import * as attach from './attach.js';
import * as exec from './exec.js';
import * as logs from './logs.js';
import * as archive from './archive.js';
import * as networks from './networks.js';
import * as build from './build.js';
import * as volumes from './volumes.js';

const FAMILIES: Record<string, unknown>[] = [
  system,
  containers,
  images,
  attach,
  exec,
  logs,
  archive,
  networks,
  build,
  volumes,
];

/** Every implemented handler by moby name (exports whose name is a handler name of the route table). */
export function implementedHandlers(routes: readonly RouteDef[] = ROUTES): Map<string, ApiHandler> {
  const names = new Set(routes.map((r) => r.handler));
  const out = new Map<string, ApiHandler>();
  for (const mod of FAMILIES) {
    for (const [name, value] of Object.entries(mod)) {
      if (!names.has(name) || typeof value !== 'function') continue;
      if (out.has(name)) throw new Error(`handler ${name} is exported by two API families`);
      out.set(name, value as ApiHandler);
    }
  }
  return out;
}

/** How a route resolves: an implemented handler, an unsupported feature, or not implemented yet. */
export function resolveRoute(
  route: RouteDef,
  implemented: Map<string, ApiHandler>,
): { kind: 'implemented' | 'unsupported' | 'not-yet'; fn: ApiHandler } {
  const fn = implemented.get(route.handler);
  if (fn) return { kind: 'implemented', fn };
  const u = UNSUPPORTED[route.handler];
  if (u) return { kind: 'unsupported', fn: unsupportedHandler(u) };
  return { kind: 'not-yet', fn: notYetImplemented(route) };
}

export function createApi(
  ctx: ApiContext,
  routes: readonly RouteDef[] = ROUTES,
): { handler: Handler; router: Router<RouteHandler> } {
  const implemented = implementedHandlers(routes);
  const o = ctx.options;
  return createDispatcher(
    routes,
    (route) => {
      const fn = resolveRoute(route, implemented).fn;
      // Every Kubernetes call the handler makes is cancelled when its client goes away
      // (cancel-scope.ts), or when the request outlives --request-deadline-ms (api/deadline.ts).
      return (req, res) =>
        withDeadline(req, res, deadlineOf(route.handler, req, o.requestDeadlineMs), (signal) =>
          withRequestSignal(signal, () => fn(ctx, req, res)),
        );
    },
    {
      apiVersion: o.apiVersion,
      minApiVersion: o.minApiVersion,
      headers: versionHeaders(o.apiVersion, ctx.engineVersion),
      corsOrigins: o.corsOrigins,
      allowedHosts: o.allowedHosts,
      hostname: hostname(),
    },
  );
}
