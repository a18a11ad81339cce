/**
 * @module engine/stats/stats-view
 * One `docker stats` sample (moby api/types/container StatsResponse) from a metrics API usage
 * reading (pure). The metrics API gives a rate (CPU cores averaged over `window`) and the working
 * set; Docker clients compute CPU % from two cumulative counters (docker/cli
 * cli/command/container/stats_helpers.go calculateCPUPercentUnix: (Δtotal_usage / Δsystem_cpu_usage)
 * x online_cpus x 100). So the sample carries counters whose difference over the window gives back
 * the rate: `precpu_stats` is the same counters one window earlier. Memory is the working set,
 * which is what the CLI shows (usage minus inactive file pages); the limit is the container's
 * memory limit, else the node's memory. Block I/O, network and PIDs are not in the metrics API:
 * they are left empty (the CLI shows 0B and 0).
 */

export interface Usage {
  /** CPU in cores (0.25 = a quarter of one CPU), averaged over the window. */
  cpuCores: number;
  /** Working set bytes. */
  memoryBytes: number;
  /** The window the rate was measured over (ns). */
  windowNs: number;
  /** When the reading was taken (ms since epoch). */
  at: number;
}

export interface StatsIdentity {
  id: string;
  /** The Docker name without the slash. */
  name: string;
}

/** Cumulative counters a stream keeps between samples (ns), so they grow as dockerd's do. */
export interface CpuCounters {
  totalNs: number;
  systemNs: number;
}

const ZERO_TIME = '0001-01-01T00:00:00Z';
const BLKIO = {
  io_service_bytes_recursive: null,
  io_serviced_recursive: null,
  io_queue_recursive: null,
  io_service_time_recursive: null,
  io_wait_time_recursive: null,
  io_merged_recursive: null,
  io_time_recursive: null,
  sectors_recursive: null,
};
const THROTTLING = { periods: 0, throttled_periods: 0, throttled_time: 0 };

/** What dockerd answers for a container that does not run (moby daemon/stats.go: an empty StatsResponse). */
export function idleStats(c: StatsIdentity): Record<string, unknown> {
  const cpu = {
    cpu_usage: { total_usage: 0, usage_in_kernelmode: 0, usage_in_usermode: 0 },
    throttling_data: THROTTLING,
  };
  return {
    name: `/${c.name}`,
    id: c.id,
    read: ZERO_TIME,
    preread: ZERO_TIME,
    pids_stats: {},
    blkio_stats: BLKIO,
    num_procs: 0,
    storage_stats: {},
    cpu_stats: cpu,
    precpu_stats: cpu,
    memory_stats: {},
  };
}

/**
 * A sample: `prev` is the stream's previous counters (undefined for the first), `onlineCpus` and
 * `memoryLimit` describe the node (or the container's limits).
 */
export function statsSample(
  c: StatsIdentity,
  u: Usage,
  prev: CpuCounters | undefined,
  onlineCpus: number,
  memoryLimit: number,
): { json: Record<string, unknown>; counters: CpuCounters } {
  const cpus = Math.max(1, onlineCpus);
  const window = Math.max(1, u.windowNs);
  const base: CpuCounters = prev ?? { totalNs: 0, systemNs: Math.round(u.at * 1e6 * cpus) - Math.round(window * cpus) };
  const counters: CpuCounters = {
    totalNs: base.totalNs + Math.round(u.cpuCores * window),
    systemNs: base.systemNs + Math.round(window * cpus),
  };
  const cpuStats = (k: CpuCounters) => ({
    cpu_usage: { total_usage: k.totalNs, usage_in_kernelmode: 0, usage_in_usermode: k.totalNs },
    system_cpu_usage: k.systemNs,
    online_cpus: cpus,
    throttling_data: THROTTLING,
  });
  const read = new Date(u.at).toISOString();
  const json = {
    name: `/${c.name}`,
    id: c.id,
    read,
    preread: new Date(u.at - window / 1e6).toISOString(),
    pids_stats: {},
    blkio_stats: BLKIO,
    num_procs: 0,
    storage_stats: {},
    cpu_stats: cpuStats(counters),
    precpu_stats: cpuStats(base),
    memory_stats: { usage: Math.round(u.memoryBytes), stats: { inactive_file: 0 }, limit: Math.round(memoryLimit) },
  };
  return { json, counters };
}
