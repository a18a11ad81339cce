/**
 * @module sim/apiserver/node-proxy
 * The nodes/proxy subresource (kubernetes pkg/registry/core/node/rest/proxy.go: the apiserver
 * forwards `/api/v1/nodes/{node}/proxy/{path}` to that node's kubelet). kube-sim's kubelet runs in
 * the same process, so the request is answered by it directly; of the kubelet's endpoints only
 * GET /stats/summary is served (sim/kubelet/volume-stats.ts), any other path answers as the
 * kubelet's mux does: 404 `404 page not found`. Authorization is the apiserver's: `get` on
 * `nodes/proxy` (the router makes the request a resource request with subresource `proxy`).
 */
import type { ServerResponse } from 'node:http';
import { StatusError, notFound } from '../status.js';
import type { KubeletStreams } from '../types.js';
import type { ResourceRequest } from './rest.js';
import type { Store } from '../store/store.js';

/** Whether `rr` is a node proxy request (served here rather than by the REST handler). */
export const isNodeProxy = (rr: ResourceRequest): boolean =>
  rr.def.resource === 'nodes' && rr.def.group === '' && rr.subresource === 'proxy' && !!rr.name;

export async function serveNodeProxy(
  rr: ResourceRequest,
  method: string,
  store: Store,
  kubelet: KubeletStreams,
  res: ServerResponse,
): Promise<void> {
  const node = rr.name!;
  if (!store.get(rr.def, undefined, node)) throw notFound('nodes', node);
  const path = (rr.proxyPath ?? '').replace(/\/+$/, '');
  if (path !== 'stats/summary') {
    res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8', 'X-Content-Type-Options': 'nosniff' });
    return void res.end('404 page not found\n');
  }
  if (method !== 'GET' && method !== 'HEAD')
    throw new StatusError(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource');
  const summary = await kubelet.nodeSummary?.(node);
  if (!summary)
    throw new StatusError(503, 'ServiceUnavailable', `no kubelet is reachable for node "${node}"`, {
      name: node,
      kind: 'nodes',
    });
  const body = JSON.stringify(summary);
  res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
  res.end(method === 'HEAD' ? undefined : body);
}
