/**
 * @module sim/kubelet/volume-stats
 * The kubelet's Summary API (GET /stats/summary, reached through the apiserver's node proxy:
 * /api/v1/nodes/{node}/proxy/stats/summary), limited to what kube-sim measures: each running pod on
 * the node with its persistentVolumeClaim volumes' usage (k8s.io/kubelet/pkg/apis/stats/v1alpha1
 * types.go: Summary, PodStats, VolumeStats with pvcRef). `kubectl get --raw` and kuber-api's
 * `docker system df` read volume sizes from it.
 *
 * Usage is counted as the kubelet's volume metrics count it (kubernetes pkg/volume/util/fs/fs.go
 * DiskUsage: a walk summing each inode's allocated blocks once, st_blocks * 512, and the inodes);
 * capacity and availability are the backing filesystem's (statfs), as MetricsDu reports them.
 */
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import type { KObject } from '../types.js';

type Obj = Record<string, unknown>;

/** What the summary needs of a pod worker. */
export interface SummaryPod {
  readonly uid: string;
  readonly namespace: string;
  readonly name: string;
  isSandboxReady(): boolean;
  readonly pod: KObject;
  mountedClaims(): Array<{ name: string; claim: string; hostPath: string }>;
}

/** Bytes allocated under `dir` (hard links counted once) and its inodes; a vanished entry counts nothing. */
export async function diskUsage(dir: string): Promise<{ usedBytes: number; inodesUsed: number }> {
  const seen = new Set<string>();
  let usedBytes = 0;
  const walk = async (path: string): Promise<void> => {
    const st = await fsp.lstat(path, { bigint: true }).catch(() => undefined);
    if (!st) return;
    const key = `${st.dev}:${st.ino}`;
    if (seen.has(key)) return;
    seen.add(key);
    usedBytes += Number(st.blocks) * 512;
    if (!st.isDirectory()) return;
    const names = await fsp.readdir(path).catch(() => [] as string[]);
    for (const n of names) await walk(join(path, n));
  };
  await walk(dir);
  return { usedBytes, inodesUsed: seen.size };
}

async function volumeStats(
  namespace: string,
  v: { name: string; claim: string; hostPath: string },
  at: string,
): Promise<Obj> {
  const [use, fs] = await Promise.all([diskUsage(v.hostPath), fsp.statfs(v.hostPath).catch(() => undefined)]);
  return {
    time: at,
    ...(fs
      ? {
          availableBytes: fs.bavail * fs.bsize,
          capacityBytes: fs.blocks * fs.bsize,
          inodesFree: fs.ffree,
          inodes: fs.files,
        }
      : {}),
    usedBytes: use.usedBytes,
    inodesUsed: use.inodesUsed,
    name: v.name,
    pvcRef: { name: v.claim, namespace },
  };
}

/** The Summary of `nodeName` with the ready pods it runs (their claim volumes measured now). */
export async function nodeSummary(nodeName: string, startTime: string, pods: Iterable<SummaryPod>): Promise<Obj> {
  const at = new Date().toISOString();
  const out: Obj[] = [];
  for (const p of pods) {
    if (!p.isSandboxReady() || (p.pod.spec as Obj | undefined)?.nodeName !== nodeName) continue;
    const volume = await Promise.all(p.mountedClaims().map((v) => volumeStats(p.namespace, v, at)));
    out.push({
      podRef: { name: p.name, namespace: p.namespace, uid: p.uid },
      startTime: (p.pod.status as Obj | undefined)?.startTime ?? at,
      containers: [],
      ...(volume.length ? { volume } : {}),
    });
  }
  return { node: { nodeName, systemContainers: [], startTime }, pods: out };
}
