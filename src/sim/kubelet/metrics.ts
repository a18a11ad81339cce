/**
 * @module sim/kubelet/metrics
 * Container usage for the metrics API kube-sim serves (metrics.k8s.io/v1beta1, as metrics-server
 * computes it from the kubelet's resource metrics: kubernetes-sigs/metrics-server
 * pkg/storage/pod.go): CPU as a rate over a window between two cumulative readings, memory as the
 * working set. A container is its sandbox's process tree (the sandbox's PID 1 and every
 * descendant), read from /proc: CPU = utime + stime + cutime + cstime of each live process (a
 * reaped child's time is in its parent's cutime/cstime, so nothing counts twice), memory = the sum
 * of resident pages. The previous reading of each container is kept, so the window is the time
 * since the last request (at least {@link MIN_WINDOW_MS}: a first request reads twice).
 */
import { readdirSync, readFileSync } from 'node:fs';

/** A reading shorter than this is too noisy to be a rate: the kubelet reads twice. */
export const MIN_WINDOW_MS = 200;
/** Readings older than this are not used as the start of a window (the rate would be too smoothed). */
const MAX_WINDOW_MS = 30_000;
const TICK_NS = 1e9 / 100; // USER_HZ: 100 on Linux (sysconf(_SC_CLK_TCK))
const PAGE = 4096;

export interface ContainerUsage {
  name: string;
  /** CPU cores averaged over the window. */
  cpuCores: number;
  memoryBytes: number;
  windowMs: number;
  at: number;
}

interface Reading {
  cpuNs: number;
  memoryBytes: number;
  at: number;
}

/** pid -> [ppid, cpu ticks (utime+stime+cutime+cstime)] of every process (fields 4, 14-17 of /proc/<pid>/stat). */
function processTable(): Map<number, { ppid: number; ticks: number }> {
  const out = new Map<number, { ppid: number; ticks: number }>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // fields from 3 (state) on
      out.set(Number(d), { ppid: Number(f[1]), ticks: Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]) });
    } catch {
      /* gone meanwhile */
    }
  }
  return out;
}

function resident(pid: number): number {
  try {
    return Number(readFileSync(`/proc/${pid}/statm`, 'utf8').split(' ')[1]) * PAGE;
  } catch {
    return 0;
  }
}

/** One reading of the process tree under `root`. */
export function readTree(root: number, table = processTable()): Reading {
  const children = new Map<number, number[]>();
  for (const [pid, p] of table) children.set(p.ppid, [...(children.get(p.ppid) ?? []), pid]);
  let ticks = 0,
    memory = 0;
  const stack = table.has(root) ? [root] : [];
  while (stack.length) {
    const pid = stack.pop()!;
    ticks += table.get(pid)?.ticks ?? 0;
    memory += resident(pid);
    stack.push(...(children.get(pid) ?? []));
  }
  return { cpuNs: ticks * TICK_NS, memoryBytes: memory, at: Date.now() };
}

export class UsageReader {
  private readonly last = new Map<string, Reading>();

  /** The usage of the containers `roots` (name -> sandbox PID 1) of one pod, keyed by `podKey`. */
  async read(podKey: string, roots: Map<string, number>): Promise<ContainerUsage[]> {
    const first = this.readAll(roots);
    const usable = [...roots.keys()].every((n) => {
      const prev = this.last.get(`${podKey}/${n}`);
      return prev && first.at - prev.at >= MIN_WINDOW_MS && first.at - prev.at <= MAX_WINDOW_MS;
    });
    let now = first;
    let base = new Map([...roots.keys()].map((n) => [n, this.last.get(`${podKey}/${n}`)!]));
    if (!usable) {
      await new Promise((r) => setTimeout(r, MIN_WINDOW_MS));
      now = this.readAll(roots);
      base = first.byName;
    }
    for (const [n, r] of now.byName) this.last.set(`${podKey}/${n}`, r);
    return [...now.byName].map(([name, r]) => {
      const b = base.get(name)!;
      const windowMs = Math.max(1, r.at - b.at);
      return {
        name,
        cpuCores: Math.max(0, r.cpuNs - b.cpuNs) / (windowMs * 1e6),
        memoryBytes: r.memoryBytes,
        windowMs,
        at: r.at,
      };
    });
  }

  /** Forget a pod's readings (it is gone). */
  forget(podKey: string): void {
    for (const k of this.last.keys()) if (k.startsWith(`${podKey}/`)) this.last.delete(k);
  }

  private readAll(roots: Map<string, number>): { at: number; byName: Map<string, Reading> } {
    const table = processTable();
    const byName = new Map([...roots].map(([n, pid]) => [n, readTree(pid, table)]));
    return { at: Date.now(), byName };
  }
}
