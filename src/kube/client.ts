/**
 * @module kube/client
 * A thin JSON-over-HTTP(S) client for the Kubernetes REST API, built on node:http(s) with one
 * keep-alive agent. client-node's `KubeConfig.applyToHTTPSOptions` supplies TLS material and auth
 * headers (client certs, bearer tokens, token files, exec plugins); we keep our own agent so that
 * connections are reused (client-node builds a new agent per call) and so that watches are streamed
 * line by line with an inactivity guard (client-node 1.x has none: kubernetes-client/javascript src/watch.ts).
 *
 * Retries (the apiserver's contract, k8s.io/client-go rest/request.go `checkWait`, and
 * rest/with_retry.go `IsNextRetry`: a non-GET request is retried after a transport error only when
 * the connection was refused, i.e. it never reached the server):
 * - 429 waits for Retry-After (or backs off), for every verb: the apiserver's max-in-flight and
 *   priority-and-fairness filters refuse a request before any handler runs it;
 * - idempotent requests (GET, HEAD, DELETE, and a PUT or merge patch without a resourceVersion
 *   precondition: sent twice, they leave what one leaves) are retried blindly after a 5xx or a
 *   transport failure, with exponential backoff and jitter, up to `maxRetries`;
 * - any other request (a create, a JSON patch, a write with a resourceVersion precondition) that
 *   fails after it may have reached the server throws an `ambiguous` error: it may have happened.
 *   `create()` of a named object resolves that by reading the object and comparing it with what it
 *   sent (the labels and annotations: kuber-api's carry unique IDs); callers of conditional writes
 *   re-read and compare (engine updateState).
 * Every call may carry an AbortSignal (the Docker request's: its client went away, or its deadline);
 * a REST call given none takes the one of the Docker request it runs for (src/cancel-scope.ts).
 * Watches and streams never do: their owners end them.
 */
import http from 'node:http';
import https from 'node:https';
import { StringDecoder } from 'node:string_decoder';
import type { KubeTarget } from './config.js';
import { childLogger, type Logger } from '../log.js';
import { requestSignal } from '../cancel-scope.js';
import { secureContextOf } from './secure-context.js';

export interface KubeClientOptions {
  /** Retries after the first attempt for 429, 5xx and connection errors. */
  maxRetries: number;
  /** First backoff delay; doubles per attempt, with jitter. */
  retryBaseMs: number;
  /** Upper bound of one backoff delay (and of an honoured Retry-After). */
  retryMaxMs: number;
  /** A REST request (not a watch) that takes longer than this is aborted and retried. */
  requestTimeoutMs: number;
  /** A watch that receives no byte for this long is considered dead and reopened. */
  watchIdleTimeoutMs: number;
  /** Sockets per apiserver (the keep-alive pool). */
  maxSockets: number;
  /** One call, its retries included, gives up after this long: no retry starts past it. */
  callDeadlineMs: number;
  /** A WebSocket (exec, attach, portforward) whose upgrade is not answered in this long fails. */
  wsHandshakeTimeoutMs: number;
}

export const DEFAULT_CLIENT_OPTIONS: KubeClientOptions = {
  maxRetries: 6,
  retryBaseMs: 100,
  retryMaxMs: 10_000,
  requestTimeoutMs: 30_000,
  watchIdleTimeoutMs: 330_000,
  maxSockets: 64,
  callDeadlineMs: 120_000,
  wsHandshakeTimeoutMs: 30_000,
};

/** A Kubernetes `Status` failure (or a transport failure with status 0). */
export class KubeApiError extends Error {
  readonly status: number;
  readonly reason: string;
  readonly details: unknown;
  /** A non-idempotent request failed after it may have reached the server: it may have taken effect. */
  ambiguous = false;
  constructor(status: number, reason: string, message: string, details?: unknown) {
    super(message);
    this.name = 'KubeApiError';
    this.status = status;
    this.reason = reason;
    this.details = details;
  }
  static fromBody(status: number, text: string): KubeApiError {
    try {
      const s = JSON.parse(text) as {
        kind?: string;
        reason?: string;
        message?: string;
        details?: unknown;
        code?: number;
      };
      if (s && s.kind === 'Status')
        return new KubeApiError(s.code ?? status, s.reason ?? '', s.message ?? text, s.details);
    } catch {
      /* not JSON */
    }
    return new KubeApiError(status, http.STATUS_CODES[status] ?? '', text.trim() || `HTTP ${status}`);
  }
}

export const isNotFound = (e: unknown) => e instanceof KubeApiError && e.status === 404;
export const isConflict = (e: unknown) => e instanceof KubeApiError && e.status === 409;
export const isAlreadyExists = (e: unknown) =>
  e instanceof KubeApiError && e.status === 409 && e.reason === 'AlreadyExists';
/** The request may or may not have taken effect (a non-idempotent call failed after it was sent). */
export const isAmbiguous = (e: unknown) => e instanceof KubeApiError && e.ambiguous;

export interface RequestOptions {
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  /** Defaults to application/json; PATCH callers pass merge-patch or json-patch. */
  contentType?: string;
  /** Do not retry (for non-idempotent calls whose caller retries itself). */
  noRetry?: boolean;
  /** Cancels the call (and its retries): the Docker request's client went away, or its deadline passed. */
  signal?: AbortSignal;
}

export interface WatchEvent<T = any> {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  object: T;
}

/** How a watch ended: the server closed it (resume from the last RV), or the RV expired (relist). */
export type WatchEnd = 'closed' | 'expired';

export interface WatchHandle {
  done: Promise<WatchEnd>;
  abort(): void;
}

/** TLS material and auth headers, shared by REST calls and the WebSocket dialer. */
export interface ConnectionOptions {
  ca?: Buffer | string;
  cert?: Buffer | string;
  key?: Buffer | string;
  rejectUnauthorized?: boolean;
  servername?: string;
  headers: Record<string, string>;
  /** A proxy agent from the kubeconfig's proxy-url, when one is configured. */
  proxyAgent?: http.Agent;
}

const RETRYABLE = new Set([429, 500, 502, 503, 504]);
/** Transport failures (status 0), 429 and the 5xx a restarting apiserver answers. */
const isRetryable = (status: number) => status === 0 || RETRYABLE.has(status);
/** Transport errors raised before a byte of the request left this host (the connection was never made). */
const NEVER_SENT = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);

/**
 * Safe to send twice (RFC 9110 section 9.2.2): reads, DELETE (a repeat finds the object gone or
 * already terminating), and a PUT or JSON merge patch (RFC 7386: applying it twice leaves what
 * applying it once leaves) that has no resourceVersion precondition.
 */
export function idempotent(method: string, contentType: string | undefined, body: unknown): boolean {
  if (method === 'GET' || method === 'HEAD' || method === 'DELETE') return true;
  if (method !== 'PUT' && !(method === 'PATCH' && contentType === 'application/merge-patch+json')) return false;
  const meta = (body as { metadata?: { resourceVersion?: unknown } } | undefined)?.metadata;
  return !meta?.resourceVersion;
}

const aborted = () => new KubeApiError(0, 'Aborted', 'the request was cancelled');
const AUTH_REFRESH_MS = 30_000;

export class KubeClient {
  readonly target: KubeTarget;
  readonly opts: KubeClientOptions;
  /** Counters for tests and /info: retries taken, watches (re)opened. */
  readonly stats = { requests: 0, retries: 0, watches: 0 };
  private readonly log: Logger;
  private readonly base: URL;
  private conn?: { at: number; value: Promise<ConnectionOptions> };
  private agent?: http.Agent;
  /** The pool of long-lived streams (pods/log follows). */
  private streamAgent?: http.Agent;
  private closed = false;

  constructor(target: KubeTarget, opts: Partial<KubeClientOptions> = {}, log?: Logger) {
    this.target = target;
    this.opts = { ...DEFAULT_CLIENT_OPTIONS, ...opts };
    this.log = log ?? childLogger({ component: 'kube' });
    this.base = new URL(target.server);
  }

  get namespace(): string {
    return this.target.namespace;
  }

  /** TLS + auth for this apiserver, refreshed every 30 s (token files and exec plugins rotate). */
  connectionOptions(force = false): Promise<ConnectionOptions> {
    const now = Date.now();
    if (!force && this.conn && now - this.conn.at < AUTH_REFRESH_MS) return this.conn.value;
    const value = this.loadConnectionOptions();
    this.conn = { at: now, value };
    value.catch(() => {
      if (this.conn?.value === value) this.conn = undefined;
    });
    return value;
  }

  private async loadConnectionOptions(): Promise<ConnectionOptions> {
    const o: https.RequestOptions & { headers?: Record<string, string> } = { headers: {} };
    try {
      await this.target.kc.applyToHTTPSOptions(o);
    } catch (err) {
      // client-node refuses to build an agent for http:// without skipTLSVerify, after it has
      // applied the auth headers: a plain-http apiserver (kube-sim, kubectl proxy) is still fine.
      if (this.base.protocol !== 'http:') throw err;
    }
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(o.headers ?? {})) if (v !== undefined) headers[k] = String(v);
    if (o.auth) headers.Authorization = 'Basic ' + Buffer.from(o.auth).toString('base64');
    const cluster = this.target.kc.getCurrentCluster();
    return {
      ca: o.ca as Buffer | undefined,
      cert: o.cert as Buffer | undefined,
      key: o.key as Buffer | undefined,
      rejectUnauthorized: o.rejectUnauthorized,
      servername: (o as { servername?: string }).servername,
      headers,
      proxyAgent: cluster?.proxyUrl ? (o.agent as http.Agent) : undefined,
    };
  }

  private async agentFor(c: ConnectionOptions): Promise<http.Agent> {
    if (c.proxyAgent) return c.proxyAgent;
    this.agent ??= this.newAgent(c, this.opts.maxSockets);
    return this.agent;
  }

  url(path: string, query?: RequestOptions['query']): URL {
    const u = new URL(this.base.pathname.replace(/\/$/, '') + path, this.base);
    for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined) u.searchParams.set(k, String(v));
    return u;
  }

  /** One REST call with retries. Resolves to the parsed JSON body (undefined for an empty body). */
  async request<T = any>(method: string, path: string, ro: RequestOptions = {}): Promise<T> {
    const url = this.url(path, ro.query);
    const payload =
      ro.body === undefined ? undefined : Buffer.from(typeof ro.body === 'string' ? ro.body : JSON.stringify(ro.body));
    let authRefreshed = false;
    const safe = idempotent(method, ro.contentType ?? 'application/json', ro.body);
    const deadline = Date.now() + this.opts.callDeadlineMs;
    const signal = ro.signal ?? requestSignal();
    // An abort cuts a request on the wire only when it is idempotent: a write that may already
    // have committed is let finish, so that its caller sees what happened (a create adopted, a
    // state written) instead of an ambiguous half; no further attempt starts after the abort.
    const cut = safe ? signal : undefined;
    for (let attempt = 0; ; attempt++) {
      if (this.closed) throw new KubeApiError(0, 'ClientClosed', 'the Kubernetes client is closed');
      if (signal?.aborted) throw aborted();
      let status = 0;
      let retryAfterMs: number | undefined;
      let error: KubeApiError;
      let neverSent = false;
      try {
        this.stats.requests++;
        const res = await this.once(method, url, payload, ro.contentType ?? 'application/json', cut);
        status = res.status;
        if (status >= 200 && status < 300) return (res.body.length ? JSON.parse(res.body) : undefined) as T;
        error = KubeApiError.fromBody(status, res.body);
        if (status === 401 && !authRefreshed) {
          authRefreshed = true; // tokens rotate: reload once before giving up
          await this.connectionOptions(true);
          attempt--;
          continue;
        }
        retryAfterMs = parseRetryAfter(res.retryAfter);
      } catch (err) {
        if (err instanceof KubeApiError && err.reason === 'Aborted') throw err;
        neverSent = NEVER_SENT.has((err as NodeJS.ErrnoException).code ?? '');
        error =
          err instanceof KubeApiError
            ? err
            : new KubeApiError(0, 'ConnectionError', `${method} ${url.pathname}: ${(err as Error).message}`);
      }
      // A non-idempotent request that may have reached the server is not sent again blindly.
      const blind = safe || status === 429 || (status === 0 && neverSent);
      if (!blind && (status === 0 || status >= 500)) error.ambiguous = true;
      if (!isRetryable(status) || !blind || ro.noRetry || attempt >= this.opts.maxRetries || Date.now() >= deadline)
        throw error;
      await this.backoff(method, url, status, attempt, retryAfterMs, signal, deadline);
      if (signal?.aborted) throw aborted();
    }
  }

  /** The one retry delay (client-go rest/request.go): Retry-After when given, else exponential backoff with jitter. */
  private async backoff(
    method: string,
    url: URL,
    status: number,
    attempt: number,
    retryAfterMs?: number,
    signal?: AbortSignal,
    deadline = Infinity,
  ): Promise<void> {
    const backoff = Math.min(this.opts.retryMaxMs, this.opts.retryBaseMs * 2 ** attempt);
    const wanted =
      retryAfterMs !== undefined
        ? Math.min(this.opts.retryMaxMs, retryAfterMs)
        : backoff / 2 + Math.random() * (backoff / 2);
    // The last retry starts by the call's deadline at the latest.
    const delay = Math.max(0, Math.min(wanted, deadline - Date.now()));
    this.stats.retries++;
    this.log.debug({ method, path: url.pathname, status, attempt, delay }, 'kubernetes request failed; retrying');
    await sleep(delay, signal);
  }

  /**
   * A streamed GET (pods/log): resolves with the 200 response unread, so the caller reads it with
   * backpressure (`pause()` stops reading the socket, so TCP pushes back on the apiserver) and ends
   * it with `destroy()`. Failures before the body are the apiserver's Status errors; 429/5xx and
   * connection failures before the body are retried with the same policy as {@link request}
   * (`maxRetries` overrides the client's). Long-lived streams use their own keep-alive pool, so
   * that a follow holding its socket never starves REST calls.
   */
  async openStream(
    path: string,
    query: RequestOptions['query'],
    so: { signal?: AbortSignal; maxRetries?: number } = {},
  ): Promise<http.IncomingMessage> {
    const url = this.url(path, query);
    const maxRetries = so.maxRetries ?? this.opts.maxRetries;
    const deadline = Date.now() + this.opts.callDeadlineMs;
    for (let attempt = 0; ; attempt++) {
      if (so.signal?.aborted) throw new KubeApiError(0, 'Aborted', 'the request was cancelled');
      try {
        this.stats.requests++;
        return await this.openStreamOnce(url, so.signal);
      } catch (err) {
        const e =
          err instanceof KubeApiError
            ? err
            : new KubeApiError(0, 'ConnectionError', `GET ${url.pathname}: ${(err as Error).message}`);
        if (e.reason === 'Aborted' || !isRetryable(e.status) || attempt >= maxRetries || Date.now() >= deadline)
          throw e;
        await this.backoff('GET', url, e.status, attempt, undefined, so.signal, deadline);
      }
    }
  }

  private async openStreamOnce(url: URL, signal?: AbortSignal): Promise<http.IncomingMessage> {
    const c = await this.connectionOptions();
    const agent = c.proxyAgent ?? this.streamAgentFor(c);
    const lib = url.protocol === 'http:' ? http : https;
    return new Promise<http.IncomingMessage>((resolve, reject) => {
      const req = lib.request(
        url,
        { method: 'GET', agent, headers: { ...c.headers, Accept: 'application/json, */*' } },
        (res) => {
          signal?.removeEventListener('abort', onAbort);
          if (res.statusCode === 200) return resolve(res); // an abort after this point is the caller's (res.destroy())
          const chunks: Buffer[] = [];
          res.on('data', (d: Buffer) => {
            if (chunks.length < 64) chunks.push(d);
          });
          res.on('end', () =>
            reject(KubeApiError.fromBody(res.statusCode ?? 0, Buffer.concat(chunks).toString('utf8'))),
          );
          res.on('error', (e) => reject(new KubeApiError(0, 'ConnectionError', `GET ${url.pathname}: ${e.message}`)));
        },
      );
      const onAbort = () => req.destroy(new KubeApiError(0, 'Aborted', 'the request was cancelled'));
      signal?.addEventListener('abort', onAbort, { once: true });
      req.on('error', (e) =>
        reject(
          e instanceof KubeApiError ? e : new KubeApiError(0, 'ConnectionError', `GET ${url.pathname}: ${e.message}`),
        ),
      );
      req.end();
    });
  }

  /**
   * A keep-alive agent for the apiserver with the kubeconfig's TLS material (REST, or streams
   * without a socket cap). Its connections share one TLS context (kube/secure-context.ts): each
   * open pods/log stream holds its own connection, and a context of its own cost ~25 KiB each.
   */
  private newAgent(c: ConnectionOptions, maxSockets?: number): http.Agent {
    const common = { keepAlive: true, keepAliveMsecs: 15_000, ...(maxSockets !== undefined ? { maxSockets } : {}) };
    return this.base.protocol === 'http:'
      ? new http.Agent(common)
      : new https.Agent({
          ...common,
          secureContext: secureContextOf(c),
          rejectUnauthorized: c.rejectUnauthorized,
          servername: c.servername,
        });
  }

  private streamAgentFor(c: ConnectionOptions): http.Agent {
    this.streamAgent ??= this.newAgent(c);
    return this.streamAgent;
  }

  private async once(
    method: string,
    url: URL,
    payload: Buffer | undefined,
    contentType: string,
    signal?: AbortSignal,
  ): Promise<{ status: number; body: string; retryAfter?: string }> {
    const c = await this.connectionOptions();
    const agent = await this.agentFor(c);
    const lib = url.protocol === 'http:' ? http : https;
    return new Promise((resolve, reject) => {
      const headers: Record<string, string | number> = { ...c.headers, Accept: 'application/json' };
      if (payload) {
        headers['Content-Type'] = contentType;
        headers['Content-Length'] = payload.length;
      }
      const req = lib.request(url, { method, headers, agent }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (d: Buffer) => chunks.push(d));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            body: Buffer.concat(chunks).toString('utf8'),
            retryAfter: res.headers['retry-after'],
          }),
        );
        res.on('error', reject);
      });
      req.setTimeout(this.opts.requestTimeoutMs, () =>
        req.destroy(new Error(`timed out after ${this.opts.requestTimeoutMs} ms`)),
      );
      const onAbort = () => req.destroy(aborted());
      signal?.addEventListener('abort', onAbort, { once: true });
      req.on('close', () => signal?.removeEventListener('abort', onAbort));
      req.on('error', reject);
      req.end(payload);
    });
  }

  get<T = any>(path: string, query?: RequestOptions['query'], signal?: AbortSignal): Promise<T> {
    return this.request<T>('GET', path, { query, signal });
  }

  /**
   * Create an object. A create is not idempotent: after an ambiguous failure (or an AlreadyExists
   * answered to a create sent again), a named object is read back, and taken as ours when it
   * carries every label and annotation we sent (kuber-api's carry unique IDs); when it is absent
   * the create is sent again. So a create never makes two objects, and never adopts another's.
   */
  async create<T = any>(path: string, body: unknown, signal = requestSignal()): Promise<T> {
    const meta = (
      body as { metadata?: { name?: string; labels?: Record<string, string>; annotations?: Record<string, string> } }
    ).metadata;
    const name = meta?.name;
    const marks = { ...(meta?.labels ?? {}), ...(meta?.annotations ?? {}) };
    let sentBefore = false;
    const deadline = Date.now() + this.opts.callDeadlineMs;
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.request<T>('POST', path, { body, signal });
      } catch (err) {
        const ambiguous = isAmbiguous(err);
        if (!name || !Object.keys(marks).length || !(ambiguous || (sentBefore && isAlreadyExists(err)))) throw err;
        sentBefore = true;
        const existing = await this.request<
          T & { metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> } }
        >('GET', `${path}/${encodeURIComponent(name)}`, { signal }).catch((e: unknown) => {
          if (isNotFound(e)) return undefined;
          throw e;
        });
        if (existing) {
          const have = { ...(existing.metadata?.labels ?? {}), ...(existing.metadata?.annotations ?? {}) };
          if (Object.entries(marks).every(([k, v]) => have[k] === v)) return existing;
          throw new KubeApiError(
            409,
            'AlreadyExists',
            `${path.split('/').pop()} "${name}" already exists and is not the one this request created`,
          );
        }
        if (attempt >= this.opts.maxRetries || Date.now() >= deadline) throw err;
        await this.backoff('POST', this.url(path), (err as KubeApiError).status, attempt, undefined, signal, deadline);
      }
    }
  }
  /** JSON merge patch (RFC 7386): `null` deletes a key. */
  mergePatch<T = any>(path: string, patch: unknown, signal?: AbortSignal): Promise<T> {
    return this.request<T>('PATCH', path, { body: patch, contentType: 'application/merge-patch+json', signal });
  }
  /** JSON patch (RFC 6902); a `test` op makes the patch conditional. */
  jsonPatch<T = any>(path: string, ops: unknown[]): Promise<T> {
    return this.request<T>('PATCH', path, { body: ops, contentType: 'application/json-patch+json' });
  }
  delete<T = any>(
    path: string,
    opts: {
      gracePeriodSeconds?: number;
      propagationPolicy?: 'Background' | 'Foreground' | 'Orphan';
      preconditionsUid?: string;
    } = {},
  ): Promise<T> {
    const body: Record<string, unknown> = { kind: 'DeleteOptions', apiVersion: 'v1' };
    if (opts.gracePeriodSeconds !== undefined) body.gracePeriodSeconds = opts.gracePeriodSeconds;
    if (opts.propagationPolicy) body.propagationPolicy = opts.propagationPolicy;
    if (opts.preconditionsUid) body.preconditions = { uid: opts.preconditionsUid };
    return this.request<T>('DELETE', path, { body });
  }

  /**
   * Open a watch (`?watch=1`) and call `onEvent` for every newline-delimited event. `done`
   * resolves 'closed' when the server ends the stream (or the inactivity guard fires), 'expired'
   * on a 410 (as an HTTP status, or as an ERROR event carrying a 410 Status: "too old resource
   * version", apiserver pkg/storage/cacher/watch_cache.go), and rejects on other
   * errors. Not retried here: the cache decides (relist, backoff).
   */
  watch(path: string, query: RequestOptions['query'], onEvent: (ev: WatchEvent) => void): WatchHandle {
    const url = this.url(path, { ...query, watch: 1 });
    let req: http.ClientRequest | undefined;
    let aborted = false;
    let settle: (v: WatchEnd | Error) => void = () => {};
    const done = new Promise<WatchEnd>((resolve, reject) => {
      let settled = false;
      settle = (v) => {
        if (settled) return;
        settled = true;
        req?.destroy();
        if (v instanceof Error) reject(v);
        else resolve(v);
      };
    });
    this.stats.watches++;
    (async () => {
      const c = await this.connectionOptions();
      const agent = await this.agentFor(c);
      if (aborted) return settle('closed');
      const lib = url.protocol === 'http:' ? http : https;
      req = lib.request(url, { method: 'GET', headers: { ...c.headers, Accept: 'application/json' }, agent }, (res) => {
        if (res.statusCode !== 200) {
          const chunks: Buffer[] = [];
          res.on('data', (d: Buffer) => chunks.push(d));
          res.on('end', () => {
            const err = KubeApiError.fromBody(res.statusCode ?? 0, Buffer.concat(chunks).toString('utf8'));
            settle(err.status === 410 ? 'expired' : err);
          });
          res.on('error', (e) => settle(e));
          return;
        }
        const decoder = new StringDecoder('utf8');
        let pending = '';
        res.on('data', (d: Buffer) => {
          pending += decoder.write(d);
          let nl: number;
          while ((nl = pending.indexOf('\n')) >= 0) {
            const line = pending.slice(0, nl).trim();
            pending = pending.slice(nl + 1);
            if (!line) continue;
            let ev: WatchEvent;
            try {
              ev = JSON.parse(line) as WatchEvent;
            } catch {
              return settle(new KubeApiError(0, 'BadWatchEvent', `unparseable watch event: ${line.slice(0, 200)}`));
            }
            if (ev.type === 'ERROR') {
              const st = ev.object as { code?: number; reason?: string; message?: string };
              return settle(
                st?.code === 410
                  ? 'expired'
                  : new KubeApiError(st?.code ?? 500, st?.reason ?? '', st?.message ?? 'watch error'),
              );
            }
            try {
              onEvent(ev);
            } catch (err) {
              this.log.error({ err }, 'watch event handler failed');
            }
          }
        });
        // Once the stream is established, any end (server close, reset, proxy cut) means "resume
        // from the last resourceVersion": the cache reconnects, and relists only on a 410.
        res.on('end', () => settle('closed'));
        res.on('error', () => settle('closed'));
        res.on('close', () => settle('closed'));
      });
      // No byte for watchIdleTimeoutMs (server timeoutSeconds plus slack): a half-open connection.
      req.setTimeout(this.opts.watchIdleTimeoutMs, () => settle('closed'));
      req.on('error', (e) => settle(aborted ? 'closed' : e));
      req.end();
    })().catch((e) => settle(e as Error));
    return {
      done,
      abort: () => {
        aborted = true;
        settle('closed');
      },
    };
  }

  close(): void {
    this.closed = true;
    this.agent?.destroy();
    this.streamAgent?.destroy();
  }
}

export function parseRetryAfter(v: string | undefined): number | undefined {
  if (!v) return undefined;
  const secs = Number(v);
  if (Number.isFinite(secs)) return Math.max(0, secs * 1000);
  const at = Date.parse(v);
  return Number.isFinite(at) ? Math.max(0, at - Date.now()) : undefined;
}

/** Resolves after `ms`, or at once when `signal` aborts. */
export const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
