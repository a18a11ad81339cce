/**
 * @module router/dispatch
 * The request pipeline of the Docker API, moby's server.go + middlewares in one function:
 * refuse Host names not allowed (router/host-check.ts, DNS rebinding) and browser origins not allowed (router/origin.ts), strip `/v1.NN`, match the route (unknown -> 404 "page not found" without middleware headers,
 * as dockerd answers), set the version headers, check the version (400), run the handler, and
 * turn anything thrown into `{"message"}` through the one error writer.
 */
import { invalid, notFound } from '../errors.js';
import type { Handler, Request, Response } from '../http/index.js';
import { Router, type RouteDef } from './router.js';
import { checkVersion, splitVersion, type VersionHeaders } from './version.js';
import { writeError } from './error-writer.js';
import { checkOrigin } from './origin.js';
import { checkHost, hostPolicy } from './host-check.js';

export type RouteHandler = (req: Request, res: Response) => void | Promise<void>;

export interface DispatchOptions {
  apiVersion: string;
  minApiVersion: string;
  headers: VersionHeaders;
  /** Origins allowed to make browser requests (`*` = any); others get a 403 (router/origin.ts). */
  corsOrigins?: readonly string[];
  /** Host names allowed beside IP literals, `localhost`, `*.localhost` and `docker` (`*` = any); others get a 403. */
  allowedHosts?: readonly string[];
  /** The machine's hostname, allowed as a Host too. */
  hostname?: string;
}

const PAGE_NOT_FOUND = 'page not found';

export function createDispatcher(
  routes: readonly RouteDef[],
  resolve: (route: RouteDef) => RouteHandler,
  opts: DispatchOptions,
): { handler: Handler; router: Router<RouteHandler> } {
  const router = new Router(routes, resolve);
  const hosts = hostPolicy(opts.allowedHosts ?? [], opts.hostname ?? 'localhost');
  const handler: Handler = async (req, res) => {
    try {
      checkHost(req, hosts);
      if (checkOrigin(req, res, opts.corsOrigins ?? []) === 'preflight') {
        res.empty(200);
        return;
      }
      let { version, rest } = splitVersion(req.path);
      if (rest.includes('%')) {
        try {
          rest = decodeURIComponent(rest);
        } catch {
          throw invalid(`invalid URL escape in ${JSON.stringify(req.path)}`);
        }
      }
      const m = router.match(req.method, rest);
      if (!m) throw notFound(PAGE_NOT_FOUND);
      res.useHeaders(opts.headers.base);
      const v = version ?? opts.apiVersion;
      const bad = checkVersion(v, opts.minApiVersion, opts.apiVersion);
      if (bad) throw bad;
      res.useHeaders(opts.headers.full);
      req.apiVersion = v;
      req.params = m.params;
      await m.handler(req, res);
    } catch (err) {
      writeError(req, res, err);
    }
  };
  return { handler, router };
}
