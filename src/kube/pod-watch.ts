/**
 * @module kube/pod-watch
 * Wait for one Pod, by name, to reach a verdict the caller computes from its status: read it, then
 * watch it from that read's resourceVersion (a `metadata.name` field selector, as client-go's
 * tools/watch UntilWithSync does for a single object), and read again whenever the watch ends
 * (server timeout, dropped connection, or a 410 "too old resource version":
 * apiserver pkg/storage/cacher/watch_cache.go), until the verdict, the Pod's deletion or the deadline.
 */
import type { KubeClient } from './client.js';

/** What a Pod needs for the wait: the resourceVersion the watch starts from. */
export interface WatchablePod {
  metadata: { resourceVersion?: string };
}

/** How the wait ended: the caller's verdict, the Pod deleted under it, or `timeoutMs` passed. */
export type PodWatchResult<V> = { kind: 'verdict'; verdict: V } | { kind: 'deleted' } | { kind: 'timeout' };

/**
 * Read and watch Pod `name` in `namespace` until `verdict` returns something other than undefined.
 * A failed read throws (the caller names what it was waiting for); a failed or expired watch is
 * followed by a fresh read.
 */
export async function watchPodUntil<P extends WatchablePod, V>(
  client: KubeClient,
  namespace: string,
  name: string,
  verdict: (pod: P) => V | undefined,
  timeoutMs: number,
): Promise<PodWatchResult<V>> {
  const pods = `/api/v1/namespaces/${encodeURIComponent(namespace)}/pods`;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const p = await client.get<P>(`${pods}/${encodeURIComponent(name)}`);
    const v = verdict(p);
    if (v !== undefined) return { kind: 'verdict', verdict: v };
    const left = deadline - Date.now();
    if (left <= 0) return { kind: 'timeout' };
    const r = await watchOnce(client, pods, name, p.metadata.resourceVersion, verdict, left);
    if (r) return r;
  }
}

/** One watch from `resourceVersion`: a result, or undefined when the watch ended first (read again). */
function watchOnce<P, V>(
  client: KubeClient,
  pods: string,
  name: string,
  resourceVersion: string | undefined,
  verdict: (pod: P) => V | undefined,
  leftMs: number,
): Promise<PodWatchResult<V> | undefined> {
  return new Promise((resolve) => {
    const h = client.watch(
      pods,
      {
        fieldSelector: `metadata.name=${name}`,
        resourceVersion,
        timeoutSeconds: Math.max(1, Math.ceil(leftMs / 1000)),
      },
      (ev) => {
        // ERROR events end the watch inside KubeClient.watch (done: 'expired' or a rejection).
        if (ev.type === 'BOOKMARK' || ev.type === 'ERROR') return;
        if (ev.type === 'DELETED') {
          h.abort();
          return resolve({ kind: 'deleted' });
        }
        const v = verdict(ev.object as P);
        if (v !== undefined) {
          h.abort();
          resolve({ kind: 'verdict', verdict: v });
        }
      },
    );
    h.done.then(
      () => resolve(undefined),
      () => resolve(undefined),
    );
  });
}
