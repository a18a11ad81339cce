/**
 * @module router/origin
 * Browser requests. Every browser puts an `Origin` header on cross-site requests that can change
 * state (POST/PUT/DELETE, and CORS GETs); no Docker client does (docker CLI, docker-py,
 * dockerode, testcontainers). A page open in a browser inside a CI job could otherwise reach
 * `tcp://127.0.0.1:2375` and create, start and exec containers: dockerd answers such requests,
 * and only adds CORS headers when `--api-cors-header` is set (moby api/server/middleware/cors.go).
 * kuber-api refuses any request carrying an `Origin` unless that origin is listed with
 * `--api-cors-header` (or the list is `*`); allowed ones get dockerd's CORS headers, and a CORS
 * preflight (`OPTIONS` + `Access-Control-Request-Method`) from them is answered 200.
 */
import { forbidden } from '../errors.js';
import type { Request, Response } from '../http/index.js';

/** moby cors.go: the headers and methods dockerd allows. */
const ALLOW_HEADERS = 'Origin, X-Requested-With, Content-Type, Accept, X-Registry-Auth';
const ALLOW_METHODS = 'HEAD, GET, POST, DELETE, PUT, OPTIONS';

export type OriginVerdict = 'none' | 'allowed' | 'preflight';

/**
 * Check the request's Origin against `allowed` (exact origins, or `*`). Throws a 403 for a
 * refused one; sets the CORS headers on `res` for an allowed one.
 */
export function checkOrigin(req: Request, res: Response, allowed: readonly string[]): OriginVerdict {
  const origin = req.headers['origin'];
  if (origin === undefined) return 'none';
  const any = allowed.includes('*');
  if (!any && !allowed.includes(origin)) {
    throw forbidden(
      `cross-origin request refused: Origin ${JSON.stringify(origin)} is not allowed (kuber-api answers browser requests only from origins listed with --api-cors-header)`,
    );
  }
  res.setHeader('Access-Control-Allow-Origin', any ? '*' : origin);
  res.setHeader('Access-Control-Allow-Headers', ALLOW_HEADERS);
  res.setHeader('Access-Control-Allow-Methods', ALLOW_METHODS);
  if (!any) res.setHeader('Vary', 'Origin');
  return req.method === 'OPTIONS' && req.headers['access-control-request-method'] !== undefined
    ? 'preflight'
    : 'allowed';
}
