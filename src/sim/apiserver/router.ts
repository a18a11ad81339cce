/**
 * @module sim/apiserver/router
 * URL -> what is asked (apiserver/pkg/endpoints/request/requestinfo.go): discovery, OpenAPI,
 * health, a resource request (group, version, namespace, resource, name, subresource, the legacy
 * /watch/ prefix), or nothing (404).
 */
import { findResource } from '../store/resources.js';
import type { ResourceRequest } from './rest.js';

export type Route =
  | { type: 'resource'; req: ResourceRequest }
  | { type: 'discovery-list'; group: string; version: string }
  | { type: 'group'; group: string }
  | { type: 'api' }
  | { type: 'apis' }
  | { type: 'version' }
  | { type: 'health' }
  | { type: 'openapi-root' }
  | { type: 'openapi-v2' }
  | { type: 'openapi-gv'; path: string }
  | { type: 'admin'; rest: string }
  | { type: 'oidc'; doc: 'openid-configuration' | 'jwks' }
  | { type: 'notfound' };

export const STREAM_SUBRESOURCES = new Set(['exec', 'attach', 'portforward', 'log']);

export function route(pathname: string): Route {
  const path = pathname.length > 1 ? pathname.replace(/\/+$/, '') : pathname;
  if (path === '/version') return { type: 'version' };
  if (path === '/healthz' || path === '/livez' || path === '/readyz' || /^\/(healthz|livez|readyz)\//.test(path))
    return { type: 'health' };
  if (path === '/api') return { type: 'api' };
  if (path === '/apis') return { type: 'apis' };
  if (path === '/openapi/v3') return { type: 'openapi-root' };
  if (path === '/openapi/v2') return { type: 'openapi-v2' };
  if (path.startsWith('/openapi/v3/')) return { type: 'openapi-gv', path };
  if (path === '/.well-known/openid-configuration') return { type: 'oidc', doc: 'openid-configuration' };
  if (path === '/openid/v1/jwks') return { type: 'oidc', doc: 'jwks' };
  if (path === '/_sim' || path.startsWith('/_sim/')) return { type: 'admin', rest: path.slice(5).replace(/^\//, '') };
  const segs = path
    .split('/')
    .slice(1)
    .map((s) => decodeURIComponent(s));
  let group: string, version: string, rest: string[];
  if (segs[0] === 'api' && segs.length >= 2) {
    group = '';
    version = segs[1]!;
    rest = segs.slice(2);
  } else if (segs[0] === 'apis' && segs.length >= 2) {
    group = segs[1]!;
    if (segs.length === 2) return { type: 'group', group };
    version = segs[2]!;
    rest = segs.slice(3);
  } else return { type: 'notfound' };
  if (!rest.length) return { type: 'discovery-list', group, version };
  let legacyWatch = false;
  if (rest[0] === 'watch') {
    legacyWatch = true;
    rest = rest.slice(1);
  }
  let namespace: string | undefined;
  if (
    rest[0] === 'namespaces' &&
    rest.length >= 3 &&
    !(rest.length === 3 && (rest[2] === 'status' || rest[2] === 'finalize'))
  ) {
    namespace = rest[1]!;
    rest = rest.slice(2);
  }
  const def = findResource(group, version, rest[0]!);
  if (!def) return { type: 'notfound' };
  if (namespace !== undefined && !def.namespaced) return { type: 'notfound' };
  // The proxy subresource carries a path on to the target (requestinfo.go: parts past the
  // subresource are not part of the request's identity): /api/v1/nodes/{n}/proxy/stats/summary.
  if (rest.length > 3 && rest[2] !== 'proxy') return { type: 'notfound' };
  const proxyPath = rest[2] === 'proxy' ? rest.slice(3).join('/') : undefined;
  return {
    type: 'resource',
    req: {
      def,
      namespace,
      name: rest[1],
      subresource: rest[2],
      legacyWatch,
      ...(proxyPath !== undefined ? { proxyPath } : {}),
    },
  };
}
