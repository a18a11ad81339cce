/**
 * @module sim/apiserver/metrics
 * The resource metrics API as metrics-server serves it through the aggregation layer
 * (kubernetes-sigs/metrics-server pkg/api: metrics.k8s.io/v1beta1 PodMetrics, k8s.io/metrics
 * pkg/apis/metrics/v1beta1 types.go): the group in discovery, GET of one pod's metrics and lists
 * per namespace or cluster-wide, so that `kubectl top pod` and kuber-api's `docker stats` work on
 * kube-sim. Readings come from the kubelet (sim/kubelet/metrics.ts); a pod that does not run has
 * none and answers 404 `podmetrics.metrics.k8s.io "x" not found`, as metrics-server does.
 * Quantities are formatted as metrics-server's: CPU in nanocores (`12345n`), memory in Ki.
 */
import { StatusError } from '../status.js';
import type { KObject, KubeletStreams } from '../types.js';
import { PODS_DEF } from '../store/resources.js';
import type { Store } from '../store/store.js';

type Obj = Record<string, unknown>;
export const METRICS_GROUP = 'metrics.k8s.io';
const GV = `${METRICS_GROUP}/v1beta1`;

export const metricsGroupDoc = {
  name: METRICS_GROUP,
  versions: [{ groupVersion: GV, version: 'v1beta1' }],
  preferredVersion: { groupVersion: GV, version: 'v1beta1' },
};

const RESOURCES = {
  kind: 'APIResourceList',
  apiVersion: 'v1',
  groupVersion: GV,
  resources: [{ name: 'pods', singularName: '', namespaced: true, kind: 'PodMetrics', verbs: ['get', 'list'] }],
};

/** A Go time.Duration.String() of whole milliseconds (`200ms`, `10.5s`, `1m0.5s`). */
export function goDuration(ms: number): string {
  const m = Math.max(0, Math.round(ms));
  if (m < 1000) return `${m}ms`;
  const secs = (x: number) => `${Number((x / 1000).toFixed(3))}s`;
  return m < 60_000 ? secs(m) : `${Math.floor(m / 60_000)}m${secs(m % 60_000)}`;
}

function notFoundMetrics(name: string): StatusError {
  return new StatusError(404, 'NotFound', `podmetrics.metrics.k8s.io "${name}" not found`, {
    name,
    group: METRICS_GROUP,
    kind: 'pods',
  });
}

async function podMetrics(kubelet: KubeletStreams, pod: KObject): Promise<Obj | undefined> {
  const usage = await kubelet.podMetrics?.(pod);
  if (!usage?.length) return undefined;
  const window = Math.max(...usage.map((u) => u.windowMs));
  return {
    kind: 'PodMetrics',
    apiVersion: GV,
    metadata: {
      name: pod.metadata.name,
      namespace: pod.metadata.namespace,
      creationTimestamp: new Date().toISOString(),
      labels: pod.metadata.labels ?? {},
    },
    timestamp: new Date(Math.max(...usage.map((u) => u.at))).toISOString(),
    window: goDuration(window),
    containers: usage.map((u) => ({
      name: u.name,
      usage: { cpu: `${Math.round(u.cpuCores * 1e9)}n`, memory: `${Math.round(u.memoryBytes / 1024)}Ki` },
    })),
  };
}

/**
 * Serve `path` when it belongs to metrics.k8s.io: the body to send, or undefined when the path is
 * not this group's. Throws StatusErrors (404, 405) as the aggregated API answers.
 */
export async function serveMetrics(
  path: string,
  method: string,
  store: Store,
  kubelet: KubeletStreams,
): Promise<Obj | undefined> {
  const segs = path
    .replace(/\/+$/, '')
    .split('/')
    .slice(1)
    .map((s) => decodeURIComponent(s));
  if (segs[0] !== 'apis' || segs[1] !== METRICS_GROUP) return undefined;
  if (method !== 'GET' && method !== 'HEAD')
    throw new StatusError(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource');
  if (segs.length === 2) return { kind: 'APIGroup', apiVersion: 'v1', ...metricsGroupDoc };
  if (segs[2] !== 'v1beta1') throw new StatusError(404, 'NotFound', 'the server could not find the requested resource');
  const rest = segs.slice(3);
  if (!rest.length) return RESOURCES;
  let ns: string | undefined;
  if (rest[0] === 'namespaces' && rest.length >= 3) {
    ns = rest[1];
    rest.splice(0, 2);
  }
  if (rest[0] !== 'pods' || rest.length > 2)
    throw new StatusError(404, 'NotFound', 'the server could not find the requested resource');
  if (rest.length === 2) {
    const pod = ns !== undefined ? store.get(PODS_DEF, ns, rest[1]!) : undefined;
    const m = pod && (await podMetrics(kubelet, pod));
    if (!m) throw notFoundMetrics(rest[1]!);
    return m;
  }
  const items = (await Promise.all(store.list(PODS_DEF, ns).map((p) => podMetrics(kubelet, p)))).filter(
    (m): m is Obj => !!m,
  );
  return { kind: 'PodMetricsList', apiVersion: GV, metadata: {}, items };
}
