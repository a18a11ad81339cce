/**
 * @module engine/stats/stats
 * `docker stats` from the Kubernetes metrics API (metrics.k8s.io/v1beta1 PodMetrics, served by
 * metrics-server on real clusters, kubernetes-sigs/metrics-server, and by kube-sim from its
 * sandboxes' processes): GET /apis/metrics.k8s.io/v1beta1/namespaces/{ns}/pods/{pod}, container
 * `main`, turned into Docker's StatsResponse by engine/stats/stats-view.ts. The node (its CPUs
 * and memory: Docker's online_cpus and default memory limit) is read once per node name.
 *
 * Where the cluster serves no metrics API, a running container's stats are a clear 501 naming
 * metrics-server. A Pod the metrics API has no reading for yet (metrics-server scrapes every 15
 * s or so) gets a zero reading rather than an error, so that `docker stats --no-stream` right after
 * `docker run -d` shows the container. A container that does not run gets dockerd's empty sample.
 */
import { detached } from '../../cancel-scope.js';
import os from 'node:os';
import { notImplemented } from '../../errors.js';
import { isNotFound } from '../../kube/client.js';
import { kubeError } from '../../kube/errors.js';
import type { StatsReader } from '../backend/inventory.js';
import type { PodObject } from '../core/container-index.js';
import { CONTAINER_NAME } from '../model/translate.js';
import { parseGoDuration } from './quantity.js';
import { quantityNumber } from '../../kube/quantity.js';
import { idleStats, statsSample, type CpuCounters, type Usage } from './stats-view.js';
import type { StatsHost } from './host.js';

const METRICS = '/apis/metrics.k8s.io/v1beta1';

export const NO_METRICS_API =
  'docker stats is not supported on this cluster: kuber-api reads container usage from the Kubernetes metrics API (metrics.k8s.io/v1beta1), which this cluster does not serve; install metrics-server (https://github.com/kubernetes-sigs/metrics-server)';

interface PodMetrics {
  timestamp?: string;
  window?: string;
  containers?: Array<{ name: string; usage?: { cpu?: string; memory?: string } }>;
}

interface NodeSize {
  cpus: number;
  memory: number;
}

/** A reading of container `main` from a PodMetrics object (pure). */
export function usageOf(m: PodMetrics, now = Date.now()): Usage {
  const c = m.containers?.find((x) => x.name === CONTAINER_NAME) ?? m.containers?.[0];
  const cpu = quantityNumber(c?.usage?.cpu);
  const mem = quantityNumber(c?.usage?.memory);
  const window = parseGoDuration(m.window);
  const at = Date.parse(m.timestamp ?? '');
  return {
    cpuCores: Number.isFinite(cpu) ? cpu : 0,
    memoryBytes: Number.isFinite(mem) ? mem : 0,
    windowNs: Number.isFinite(window) && window > 0 ? window : 1e9,
    at: Number.isFinite(at) ? at : now,
  };
}

export class StatsService {
  private served?: { at: number; yes: Promise<boolean> };
  private readonly nodes = new Map<string, Promise<NodeSize>>();

  constructor(private readonly host: StatsHost) {}

  /** Whether the cluster serves metrics.k8s.io/v1beta1 (asked again after a minute). */
  private metricsServed(): Promise<boolean> {
    if (this.served && Date.now() - this.served.at < 60_000) return this.served.yes;
    const yes = this.host.kube.client.get(METRICS).then(
      () => true,
      (err) => {
        if (isNotFound(err)) return false;
        throw kubeError(err, 'reading the metrics API discovery');
      },
    );
    this.served = { at: Date.now(), yes };
    yes.catch(() => (this.served = undefined));
    return yes;
  }

  private nodeSize(node: string | undefined): Promise<NodeSize> {
    const fallback: NodeSize = { cpus: os.availableParallelism?.() ?? os.cpus().length, memory: os.totalmem() };
    if (!node) return Promise.resolve(fallback);
    let p = this.nodes.get(node);
    if (!p) {
      type NodeObj = { status?: { capacity?: { cpu?: string; memory?: string } } };
      // Kept for every later request (its failure as the fallback): not one client's to cancel.
      p = detached(() => this.host.kube.client.get<NodeObj>(`/api/v1/nodes/${encodeURIComponent(node)}`)).then(
        (n) => {
          const cpus = quantityNumber(n.status?.capacity?.cpu),
            memory = quantityNumber(n.status?.capacity?.memory);
          return { cpus: cpus > 0 ? Math.ceil(cpus) : fallback.cpus, memory: memory > 0 ? memory : fallback.memory };
        },
        () => fallback, // RBAC may not allow reading nodes
      );
      this.forgetIdleNodes();
      this.nodes.set(node, p);
    }
    return p;
  }

  /** Nodes kept: those that host a Pod of this instance (nodes come and go in an autoscaled cluster). */
  get nodeCacheSize(): number {
    return this.nodes.size;
  }

  /** Forget the nodes that host none of this instance's Pods: the cache is bounded by the Pods, not by the cluster's history. */
  private forgetIdleNodes(): void {
    const hosting = new Set(this.host.index.pods.list().map((p) => p.spec?.nodeName));
    for (const n of this.nodes.keys()) if (!hosting.has(n)) this.nodes.delete(n);
  }

  /** The reading of a Pod's main container (a zero reading when the metrics API has none yet). */
  private async read(pod: PodObject): Promise<Usage> {
    const path = `${METRICS}/namespaces/${encodeURIComponent(this.host.namespace)}/pods/${encodeURIComponent(pod.metadata.name)}`;
    try {
      return usageOf(await this.host.kube.client.get<PodMetrics>(path));
    } catch (err) {
      if (!isNotFound(err)) throw kubeError(err, 'reading the pod metrics');
      if (!(await this.metricsServed())) throw notImplemented(NO_METRICS_API);
      return { cpuCores: 0, memoryBytes: 0, windowNs: 1e9, at: Date.now() };
    }
  }

  /** A reader of samples for one container (404 / 400 from the index first, as moby). */
  async reader(nameOrId: string): Promise<StatsReader> {
    const h = this.host;
    const rec = h.index.resolve(nameOrId);
    const ident = { id: rec.id, name: rec.name };
    const current = () => {
      const r = h.index.get(rec.id);
      const pod = r && h.stateOf(r).Running ? h.index.currentPod(r) : undefined;
      return pod as PodObject | undefined;
    };
    if (current() && !(await this.metricsServed())) throw notImplemented(NO_METRICS_API);
    let counters: CpuCounters | undefined;
    return {
      running: () => !!current(),
      sample: async () => {
        const pod = current();
        if (!pod) return idleStats(ident);
        const spec = pod.spec as
          | { nodeName?: string; containers?: Array<{ name: string; resources?: { limits?: { memory?: string } } }> }
          | undefined;
        const [usage, node] = await Promise.all([this.read(pod), this.nodeSize(spec?.nodeName)]);
        const limit = quantityNumber(
          spec?.containers?.find((c) => c.name === CONTAINER_NAME)?.resources?.limits?.memory,
        );
        const s = statsSample(ident, usage, counters, node.cpus, limit > 0 ? limit : node.memory);
        counters = s.counters;
        return s.json;
      },
    };
  }
}
