/**
 * @module engine/streams/logs-source
 * One pods/log request as a byte source with backpressure (k8s-streams.md §3): `GET
 * /api/v1/namespaces/{ns}/pods/{pod}/log?container=..&follow=..&timestamps=..&tailLines=..&sinceTime=..&stream=..`
 * over the kubeconfig's TLS and auth (KubeClient.connectionOptions, the same as REST and the
 * WebSocket dialer). The body is the `IncomingMessage` itself: `pause()` stops reading its socket,
 * so TCP pushes back on the apiserver and the kubelet (unlike client-node's Log, which pipes into
 * whatever it is given), and `destroy()` closes the connection, which ends the stream upstream.
 *
 * Failures before the body are the apiserver's Status errors (KubeApiError): 400 "waiting to
 * start", 404, 422 for options the server does not accept (the split-streams gate). 429/5xx and
 * connection failures before any byte are retried with backoff, like every REST call.
 */
import http from 'node:http';
import https from 'node:https';
import type { IncomingMessage } from 'node:http';
import { KubeApiError, type KubeClient } from '../../kube/client.js';

/** PodLogOptions as query parameters (core/v1 PodLogOptions; `stream` needs the gate). */
export interface PodLogQuery {
  container?: string;
  follow?: boolean;
  timestamps?: boolean;
  tailLines?: number;
  /** RFC 3339; the apiserver forwards whole seconds to the kubelet (metav1.Time). */
  sinceTime?: string;
  limitBytes?: number;
  stream?: 'All' | 'Stdout' | 'Stderr';
}

export function podLogPath(namespace: string, pod: string): string {
  return `/api/v1/namespaces/${encodeURIComponent(namespace)}/pods/${encodeURIComponent(pod)}/log`;
}

export function podLogParams(q: PodLogQuery): Record<string, string> {
  const out: Record<string, string> = {};
  if (q.container) out.container = q.container;
  if (q.follow) out.follow = 'true';
  if (q.timestamps) out.timestamps = 'true';
  if (q.tailLines !== undefined) out.tailLines = String(q.tailLines);
  if (q.sinceTime !== undefined) out.sinceTime = q.sinceTime;
  if (q.limitBytes !== undefined) out.limitBytes = String(q.limitBytes);
  if (q.stream !== undefined) out.stream = q.stream;
  return out;
}

const RETRYABLE = new Set([429, 500, 502, 503, 504]);
const agents = new WeakMap<KubeClient, http.Agent>();

async function agentFor(client: KubeClient): Promise<{ agent: http.Agent; headers: Record<string, string>; lib: typeof http | typeof https }> {
  const c = await client.connectionOptions();
  const https_ = client.url('/').protocol === 'https:';
  if (c.proxyAgent) return { agent: c.proxyAgent, headers: c.headers, lib: https_ ? https : http };
  let agent = agents.get(client);
  if (!agent) {
    // Its own pool: a follow holds its socket for as long as the container runs.
    const common = { keepAlive: true, keepAliveMsecs: 15_000 };
    agent = https_ ? new https.Agent({ ...common, ca: c.ca, cert: c.cert, key: c.key, rejectUnauthorized: c.rejectUnauthorized, servername: c.servername }) : new http.Agent(common);
    agents.set(client, agent);
  }
  return { agent, headers: c.headers, lib: https_ ? https : http };
}

export interface OpenLogOptions {
  signal?: AbortSignal;
  /** Attempts after the first for 429/5xx/connection failures before the response (default 4). */
  retries?: number;
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });

/**
 * Open a pods/log stream. Resolves with the 200 response (not yet read: attach 'data' listeners
 * or pipe it), rejects with a KubeApiError for the apiserver's refusals.
 */
export async function openPodLog(client: KubeClient, namespace: string, pod: string, q: PodLogQuery, opts: OpenLogOptions = {}): Promise<IncomingMessage> {
  const retries = opts.retries ?? 4;
  for (let attempt = 0; ; attempt++) {
    if (opts.signal?.aborted) throw new KubeApiError(0, 'Aborted', 'the log request was cancelled');
    try {
      return await openOnce(client, namespace, pod, q, opts.signal);
    } catch (err) {
      const e = err as KubeApiError;
      const retryable = e instanceof KubeApiError && (e.status === 0 || RETRYABLE.has(e.status)) && e.reason !== 'Aborted';
      if (!retryable || attempt >= retries) throw err;
      await sleep(Math.min(5000, 100 * 2 ** attempt), opts.signal);
    }
  }
}

async function openOnce(client: KubeClient, namespace: string, pod: string, q: PodLogQuery, signal?: AbortSignal): Promise<IncomingMessage> {
  const { agent, headers, lib } = await agentFor(client);
  const url = client.url(podLogPath(namespace, pod), podLogParams(q));
  return new Promise<IncomingMessage>((resolve, reject) => {
    const req = lib.request(url, { method: 'GET', agent, headers: { ...headers, Accept: 'application/json, */*' } }, (res) => {
      signal?.removeEventListener('abort', onAbort);
      if (res.statusCode === 200) {
        // An abort after this point is the caller's business (res.destroy()).
        return resolve(res);
      }
      const chunks: Buffer[] = [];
      res.on('data', (d: Buffer) => {
        if (chunks.length < 64) chunks.push(d);
      });
      res.on('end', () => reject(KubeApiError.fromBody(res.statusCode ?? 0, Buffer.concat(chunks).toString('utf8'))));
      res.on('error', (e) => reject(new KubeApiError(0, 'ConnectionError', `pods/log ${pod}: ${e.message}`)));
    });
    const onAbort = () => req.destroy(new KubeApiError(0, 'Aborted', 'the log request was cancelled'));
    signal?.addEventListener('abort', onAbort, { once: true });
    req.on('error', (e) => reject(e instanceof KubeApiError ? e : new KubeApiError(0, 'ConnectionError', `pods/log ${pod}: ${e.message}`)));
    req.end();
  });
}

/**
 * Whether the apiserver accepts `stream=` on pods/log (the PodLogsQuerySplitStreams gate, alpha
 * since 1.32). The apiserver validates PodLogOptions before it looks at the pod's state
 * (registry/core/pod/rest/log.go), so one cheap request to any of our pods answers it: 422 with a
 * `stream` field error means off; anything else (200, 400 waiting to start) means on. Detected
 * once per client and remembered; {@link forgetSplitStreams} re-probes after a surprise.
 */
const splitCache = new WeakMap<KubeClient, Promise<boolean>>();

export function splitStreamsSupported(client: KubeClient, namespace: string, pod: string, container: string): Promise<boolean> {
  let p = splitCache.get(client);
  if (!p) {
    p = probeSplit(client, namespace, pod, container);
    splitCache.set(client, p);
    p.catch(() => splitCache.delete(client));
  }
  return p;
}

export function forgetSplitStreams(client: KubeClient): void {
  splitCache.delete(client);
}

/** A 422 Invalid whose cause is the `stream` field: the gate is off. */
export function isStreamFieldRejected(err: unknown): boolean {
  if (!(err instanceof KubeApiError) || err.status !== 422) return false;
  const causes = (err.details as { causes?: Array<{ field?: string }> } | undefined)?.causes ?? [];
  return causes.some((c) => c.field === 'stream') || /\bstream\b/.test(err.message);
}

async function probeSplit(client: KubeClient, namespace: string, pod: string, container: string): Promise<boolean> {
  try {
    const res = await openPodLog(client, namespace, pod, { container, stream: 'Stdout', limitBytes: 1 }, { retries: 2 });
    res.destroy();
    return true;
  } catch (err) {
    if (isStreamFieldRejected(err)) return false;
    if (err instanceof KubeApiError && err.status === 400) return true; // validated, then "waiting to start"
    throw err;
  }
}
