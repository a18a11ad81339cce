/**
 * @module kube/pod-log
 * One pods/log request as a byte source with backpressure (core/v1 PodLogOptions,
 * kubernetes pkg/registry/core/pod/rest/log.go): `GET
 * /api/v1/namespaces/{ns}/pods/{pod}/log?container=..&follow=..&timestamps=..&tailLines=..&sinceTime=..&stream=..`
 * through KubeClient.openStream (the kubeconfig's TLS and auth, the REST client's retry policy). The body is the `IncomingMessage` itself: `pause()` stops reading its socket,
 * so TCP pushes back on the apiserver and the kubelet (unlike client-node's Log, which pipes into
 * whatever it is given), and `destroy()` closes the connection, which ends the stream upstream.
 *
 * Failures before the body are the apiserver's Status errors (KubeApiError): 400 "waiting to
 * start", 404, 422 for options the server does not accept (the split-streams gate). 429/5xx and
 * connection failures before any byte are retried as every REST call is (kube/client.ts).
 */
import { detached } from '../cancel-scope.js';
import type { IncomingMessage } from 'node:http';
import { KubeApiError, type KubeClient } from './client.js';

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

export interface OpenLogOptions {
  signal?: AbortSignal;
  /** Retries after the first for 429/5xx/connection failures before the body (default: the client's). */
  retries?: number;
}

/**
 * Open a pods/log stream through the REST client (its TLS, auth and retry policy). Resolves with
 * the 200 response (not yet read: attach 'data' listeners or pipe it), rejects with a
 * KubeApiError for the apiserver's refusals.
 */
export function openPodLog(
  client: KubeClient,
  namespace: string,
  pod: string,
  q: PodLogQuery,
  opts: OpenLogOptions = {},
): Promise<IncomingMessage> {
  return client.openStream(podLogPath(namespace, pod), podLogParams(q), {
    ...(opts.signal ? { signal: opts.signal } : {}),
    ...(opts.retries !== undefined ? { maxRetries: opts.retries } : {}),
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

export function splitStreamsSupported(
  client: KubeClient,
  namespace: string,
  pod: string,
  container: string,
): Promise<boolean> {
  let p = splitCache.get(client);
  if (!p) {
    p = detached(() => probeSplit(client, namespace, pod, container)); // shared: not one client's to cancel
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
    const res = await openPodLog(
      client,
      namespace,
      pod,
      { container, stream: 'Stdout', limitBytes: 1 },
      { retries: 2 },
    );
    res.destroy();
    return true;
  } catch (err) {
    if (isStreamFieldRejected(err)) return false;
    if (err instanceof KubeApiError && err.status === 400) return true; // validated, then "waiting to start"
    throw err;
  }
}
