/**
 * @module sim/apiserver/server
 * kube-sim's apiserver: node:http or node:https, authentication and authorization by src/sim/auth
 * (one `admit()` per request: a wrong token is 401, what RBAC refuses is 403 with the real text),
 * REST/watch fault injection, and the hand-over of streaming
 * subresources (exec/attach/portforward upgrades, pods/log) to the kubelet after the pod lookup.
 * The WebSocket bearer subprotocol (`base64url.bearer.authorization.k8s.io.<token>`) is accepted
 * and stripped before the kubelet negotiates (apiserver/pkg/authentication/request/websocket).
 */
import { createServer as createHttp, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttps } from 'node:https';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { SimAuth } from '../auth/index.js';
import type { FaultRegistry, Faults } from '../faults.js';
import { StatusError, internal, notFound, writeStatus, writeStatusOnSocket } from '../status.js';
import type { KObject, KubeletStreams } from '../types.js';
import type { Lifecycle } from '../store/lifecycle.js';
import { PODS_DEF } from '../store/resources.js';

/** REST requests kept for GET /_sim (a test aid: the newest ones). */
const RECENT_REST = 500;

/** One REST request as GET /_sim `rest` lists it. */
export interface RestRecord {
  method: string;
  path: string;
  /** When the request arrived (ms since the epoch). */
  at: number;
  /** `abandoned`: the client closed the connection before the answer was written. */
  outcome: 'pending' | 'answered' | 'abandoned';
}
import type { Store } from '../store/store.js';
import { apiGroup, apiGroupList, apiResourceList, apiVersions, VERSION } from './discovery.js';
import { negotiate, send } from './encoding.js';
import { openapiGroupVersion, openapiRoot, parseOpenapiPath } from './openapi.js';
import { openapiV2Json, openapiV2Protobuf } from './openapi-v2.js';
import { handleResource, type RestEnv } from './rest.js';
import { route, STREAM_SUBRESOURCES, type Route } from './router.js';
import { metricsGroupDoc, serveMetrics } from './metrics.js';
import { isNodeProxy, serveNodeProxy } from './node-proxy.js';
import type { WatchSession } from './watch.js';

export interface ApiServerOptions {
  host: string;
  port: number;
  tls?: { cert: string; key: string };
  /** Required bearer token; undefined = no authentication (every request is admin). */
  token?: string;
  /** Authentication + RBAC (src/sim/auth); built from `token` (keys in memory) when absent. */
  auth?: SimAuth;
  bookmarkIntervalMs: number;
  minRequestTimeoutSeconds: number;
  maxWatchBufferBytes: number;
  /** Called for every request when set (method, path, status): a debug log. */
  log?: (line: string) => void;
}

export class ApiServer {
  readonly server: Server;
  readonly sessions = new Set<WatchSession>();
  /**
   * The last {@link RECENT_REST} REST requests (GET /_sim `rest`): whether each was answered or its
   * client closed the connection first, so a test can see a cancelled request and count retries.
   */
  private readonly recent: RestRecord[] = [];
  private sockets = new Set<Socket>();
  private env: RestEnv;
  private serverAddress = '';
  private unhook: () => void;
  readonly auth: SimAuth;

  constructor(
    readonly store: Store,
    readonly lifecycle: Lifecycle,
    readonly kubelet: KubeletStreams,
    readonly faults: FaultRegistry,
    readonly opts: ApiServerOptions,
  ) {
    this.auth = opts.auth ?? new SimAuth(store, { adminToken: opts.token });
    this.env = {
      store,
      auth: this.auth,
      lifecycle,
      faults,
      sessions: this.sessions,
      snapshots: new Map(),
      bookmarkIntervalMs: opts.bookmarkIntervalMs,
      minRequestTimeoutSeconds: opts.minRequestTimeoutSeconds,
      maxWatchBufferBytes: opts.maxWatchBufferBytes,
    };
    const handler = (req: IncomingMessage, res: ServerResponse) => void this.onRequest(req, res);
    this.server = opts.tls ? createHttps({ cert: opts.tls.cert, key: opts.tls.key }, handler) : createHttp(handler);
    this.server.on(
      'upgrade',
      (req: IncomingMessage, socket: Duplex, head: Buffer) => void this.onUpgrade(req, socket, head),
    );
    this.server.on('connection', (s: Socket) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    this.server.on('secureConnection', (s: Socket) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    this.server.on('clientError', (_err, socket) => socket.destroy());
    this.unhook = faults.onChange((f) => this.onFaults(f));
  }

  async listen(): Promise<number> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.opts.port, this.opts.host, () => resolve());
    });
    const port = (this.server.address() as { port: number }).port;
    this.serverAddress = `${this.opts.host}:${port}`;
    return port;
  }

  async close(): Promise<void> {
    this.unhook();
    for (const s of [...this.sessions]) s.end();
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      for (const s of this.sockets) s.destroy();
    });
  }

  /** Drop or expire open watches when those faults are set. */
  private onFaults(f: Faults): void {
    if (f.dropWatches) for (const s of [...this.sessions]) s.drop();
    if (f.expireWatchesBefore !== undefined) {
      // 'now' compacts at the current revision: every older RV is gone, the current one stays valid.
      const rv = f.expireWatchesBefore === 'now' ? this.store.rv : Number(f.expireWatchesBefore);
      if (f.expireWatchesBefore === 'now') this.faults.current.expireWatchesBefore = String(rv);
      this.store.expireBefore(rv);
      for (const s of [...this.sessions]) s.end();
    }
  }

  private remember(method: string, url: URL, res: ServerResponse): void {
    const rec: RestRecord = { method, path: url.pathname, at: Date.now(), outcome: 'pending' };
    this.recent.push(rec);
    if (this.recent.length > RECENT_REST) this.recent.splice(0, this.recent.length - RECENT_REST);
    res.once('close', () => (rec.outcome = res.writableFinished ? 'answered' : 'abandoned'));
  }

  /** 429/500/503 for N requests, or a delay (the REST/watch faults). Returns an error to answer. */
  private async applyFaults(method: string, path: string): Promise<StatusError | undefined> {
    const d = this.faults.current.delayMs;
    if (d && (!d.pathContains || path.includes(d.pathContains))) await new Promise((r) => setTimeout(r, d.ms));
    const code = this.faults.takeRequestFailure(method, path);
    if (code === 429)
      return new StatusError(429, 'TooManyRequests', 'Too many requests, please try again later.', {
        retryAfterSeconds: 1,
      });
    if (code === 503)
      return new StatusError(
        503,
        'ServiceUnavailable',
        'The server is currently unable to handle the request (kube-sim injected fault)',
      );
    if (code !== undefined) return internal('Internal error occurred: kube-sim injected fault');
    return undefined;
  }

  // ------------------------------------------------------------------ plain requests

  private async onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://x');
    const method = req.method ?? 'GET';
    if (this.opts.log) res.on('finish', () => this.opts.log!(`${method} ${req.url} ${res.statusCode}`));
    try {
      const r = route(url.pathname);
      if (r.type !== 'admin') this.remember(method, url, res);
      this.auth.admit(req, r.type === 'resource' ? r.req : undefined, method, url);
      if (r.type !== 'admin') {
        const fault = await this.applyFaults(method, url.pathname + url.search);
        if (fault) {
          if (fault.code === 429) res.setHeader('Retry-After', '1');
          throw fault;
        }
      }
      const after = r.type === 'admin' ? undefined : this.faults.takeAfterCommit(method, url.pathname + url.search);
      if (after) hideOutcome(res, after);
      await this.dispatch(r, req, res, url, method);
    } catch (err) {
      const se = err instanceof StatusError ? err : internal(`Internal error occurred: ${(err as Error).message}`);
      if (!(err instanceof StatusError)) process.emitWarning(`kube-sim apiserver: ${(err as Error).stack ?? err}`);
      if (res.headersSent) res.destroy();
      else writeStatus(res, se);
    }
  }

  private async dispatch(r: Route, req: IncomingMessage, res: ServerResponse, url: URL, method: string): Promise<void> {
    const getOnly = () => {
      if (method !== 'GET' && method !== 'HEAD')
        throw new StatusError(
          405,
          'MethodNotAllowed',
          'the server does not allow this method on the requested resource',
        );
    };
    // metrics.k8s.io, as metrics-server serves it through the aggregation layer (sim/apiserver/metrics.ts)
    const metrics = await serveMetrics(url.pathname, method, this.store, this.kubelet);
    if (metrics) return send(res, 200, metrics);
    switch (r.type) {
      case 'version':
        getOnly();
        return send(res, 200, VERSION);
      case 'health':
        getOnly();
        res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8', 'X-Content-Type-Options': 'nosniff' });
        return void res.end('ok');
      case 'api':
        getOnly();
        return send(res, 200, apiVersions(this.serverAddress));
      case 'apis':
        getOnly();
        return send(
          res,
          200,
          (({ groups, ...l }) => ({ ...l, groups: [...(groups as unknown[]), metricsGroupDoc] }))(apiGroupList()),
        );
      case 'group': {
        getOnly();
        const g = apiGroup(r.group);
        if (!g) throw notFoundPath();
        return send(res, 200, g);
      }
      case 'discovery-list': {
        getOnly();
        const l = apiResourceList(r.group, r.version);
        if (!l) throw notFoundPath();
        return send(res, 200, l);
      }
      case 'openapi-root':
        getOnly();
        return send(res, 200, openapiRoot());
      case 'openapi-v2': {
        getOnly();
        const accept = req.headers.accept ?? '';
        if (accept.includes('protobuf')) {
          const body = openapiV2Protobuf();
          res.writeHead(200, {
            'Content-Type': 'application/com.github.proto-openapi.spec.v2.v1.0+protobuf',
            'Content-Length': body.length,
          });
          return void res.end(body);
        }
        return send(res, 200, openapiV2Json());
      }
      case 'openapi-gv': {
        getOnly();
        const gv = parseOpenapiPath(r.path);
        const doc = gv && openapiGroupVersion(gv.group, gv.version);
        if (!doc) throw notFoundPath();
        return send(res, 200, doc);
      }
      case 'admin':
        return this.admin(r.rest, req, res, method);
      case 'oidc': {
        getOnly();
        const body = JSON.stringify(this.auth.oidc(r.doc));
        res.writeHead(200, {
          'Content-Type': r.doc === 'jwks' ? 'application/jwk-set+json' : 'application/json',
          'Content-Length': Buffer.byteLength(body),
        });
        return void res.end(body);
      }
      case 'notfound':
        throw notFoundPath();
      case 'resource': {
        const rr = r.req;
        if (rr.subresource && STREAM_SUBRESOURCES.has(rr.subresource) && rr.def === PODS_DEF) {
          const pod = this.lookupPod(rr.namespace, rr.name!);
          if (rr.subresource === 'log') {
            getOnly();
            return this.kubelet.handleLog(req, res, pod);
          }
          if (method !== 'GET' && method !== 'POST')
            throw new StatusError(
              405,
              'MethodNotAllowed',
              'the server does not allow this method on the requested resource',
            );
          return this.kubelet.handlePlain(rr.subresource as 'exec' | 'attach' | 'portforward', req, res, pod);
        }
        if (isNodeProxy(rr)) return serveNodeProxy(rr, method, this.store, this.kubelet, res);
        return handleResource(this.env, req, res, rr, url.searchParams);
      }
    }
  }

  private lookupPod(ns: string | undefined, name: string): KObject {
    const pod = ns !== undefined ? this.store.get(PODS_DEF, ns, name) : undefined;
    if (!pod) throw notFound('pods', name);
    return pod;
  }

  // ------------------------------------------------------------------ upgrades

  private async onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    socket.on('error', () => socket.destroy());
    const url = new URL(req.url ?? '/', 'http://x');
    const method = req.method ?? 'GET';
    try {
      const r = route(url.pathname);
      const wsToken = stripBearerProtocol(req);
      this.auth.admit(req, r.type === 'resource' ? r.req : undefined, method, url, wsToken, true);
      const fault = await this.applyFaults(method, url.pathname + url.search);
      if (fault) throw fault;
      if (
        r.type !== 'resource' ||
        r.req.def !== PODS_DEF ||
        !r.req.subresource ||
        !['exec', 'attach', 'portforward'].includes(r.req.subresource)
      ) {
        if (r.type === 'notfound') throw notFoundPath();
        throw new StatusError(400, 'BadRequest', `upgrade requests are not supported on ${url.pathname}`);
      }
      if (method !== 'GET' && method !== 'POST')
        throw new StatusError(
          405,
          'MethodNotAllowed',
          'the server does not allow this method on the requested resource',
        );
      const pod = this.lookupPod(r.req.namespace, r.req.name!);
      this.kubelet.handleUpgrade(r.req.subresource as 'exec' | 'attach' | 'portforward', req, socket, head, pod);
    } catch (err) {
      const se = err instanceof StatusError ? err : internal(`Internal error occurred: ${(err as Error).message}`);
      writeStatusOnSocket(socket, se);
    }
  }

  // ------------------------------------------------------------------ admin

  private async admin(rest: string, req: IncomingMessage, res: ServerResponse, method: string): Promise<void> {
    if (rest === '' && method === 'GET') {
      const objects: Record<string, number> = {};
      for (const d of (await import('../store/resources.js')).RESOURCES)
        objects[d.group ? `${d.resource}.${d.group}` : d.resource] = this.store.count(d);
      return send(res, 200, {
        resourceVersion: String(this.store.rv),
        objects,
        watches: this.sessions.size,
        faults: this.faults.current,
        streams: this.kubelet.openStreams?.(),
        streamsClosedAt: this.kubelet.streamsClosedAt?.(),
        rest: this.recent,
      });
    }
    if (rest === 'authz' && (method === 'GET' || method === 'DELETE')) {
      if (method === 'DELETE') this.auth.clearUsage();
      return send(res, 200, this.auth.usage());
    }
    if (rest === 'faults') {
      if (method === 'GET') return send(res, 200, this.faults.current);
      if (method === 'DELETE') {
        this.faults.clear();
        return send(res, 200, this.faults.current);
      }
      if (method === 'POST' || method === 'PUT') {
        const { decodeBody } = await import('./encoding.js');
        const { body } = await decodeBody(req, false);
        if (!body || typeof body !== 'object' || Array.isArray(body))
          throw new StatusError(400, 'BadRequest', 'faults must be a JSON object');
        this.faults.set(body as Faults);
        return send(res, 200, this.faults.current);
      }
    }
    void negotiate;
    throw notFoundPath();
  }
}

const notFoundPath = () => new StatusError(404, 'NotFound', 'the server could not find the requested resource');

const BEARER_PROTOCOL = 'base64url.bearer.authorization.k8s.io.';

/** Take the bearer token out of Sec-WebSocket-Protocol (and remove it from the offer). */
export function stripBearerProtocol(req: IncomingMessage): string | undefined {
  const h = req.headers['sec-websocket-protocol'];
  if (!h) return undefined;
  const offered = h
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const tok = offered.find((p) => p.startsWith(BEARER_PROTOCOL));
  if (!tok) return undefined;
  const rest = offered.filter((p) => !p.startsWith(BEARER_PROTOCOL));
  if (rest.length) req.headers['sec-websocket-protocol'] = rest.join(', ');
  else delete req.headers['sec-websocket-protocol'];
  const raw = req.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) {
    if (raw[i]!.toLowerCase() === 'sec-websocket-protocol') raw[i + 1] = rest.join(', ');
  }
  try {
    return Buffer.from(tok.slice(BEARER_PROTOCOL.length), 'base64url').toString('utf8');
  } catch {
    return '';
  }
}

/**
 * The after-commit fault: the request is carried out, and its answer replaced by a 500 ('fail') or
 * by closing the connection ('drop') once the handler ends it.
 */
function hideOutcome(res: ServerResponse, action: 'fail' | 'drop'): void {
  const { writeHead, write, end } = res;
  res.writeHead = (() => res) as typeof res.writeHead;
  res.write = (() => true) as typeof res.write;
  res.end = ((..._args: unknown[]) => {
    Object.assign(res, { writeHead, write, end });
    if (action === 'drop') res.socket?.destroy();
    else writeStatus(res, internal('Internal error occurred: kube-sim injected fault after commit'));
    return res;
  }) as typeof res.end;
}
