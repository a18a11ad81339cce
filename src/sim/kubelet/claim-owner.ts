/**
 * @module sim/kubelet/claim-owner
 * The owner of something several simulators share on one machine (an IP claim in
 * /run/kubesim/ipam): a process, told apart from a later process that reuses its pid by its start
 * time (PIDs come back quickly where pid_max is 32768), and judged only from its own PID namespace
 * (from another one, its pid means nothing here).
 */
import { readFileSync, readlinkSync } from 'node:fs';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Who holds a claim. `start` and `pidns` are absent in claims written by older simulators. */
export interface ClaimOwner {
  pid: number;
  /** /proc/<pid>/stat starttime (clock ticks after boot): tells the owner from a later holder of its pid. */
  start?: string;
  /** The owner's PID namespace (readlink /proc/self/ns/pid): its pid means something only there. */
  pidns?: string;
}

/** Field 22 of /proc/<pid>/stat (after the parenthesised comm, which may hold spaces). */
export function startTime(pid: number | 'self'): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

function pidNamespace(): string | undefined {
  try {
    return readlinkSync('/proc/self/ns/pid');
  } catch {
    return undefined;
  }
}

/** This process as a claim owner. */
export function selfOwner(): ClaimOwner {
  return { pid: process.pid, start: startTime('self'), pidns: pidNamespace() };
}

/** Is the claim's owner gone? Never for an owner this process cannot judge (another PID namespace). */
export function ownerGone(o: ClaimOwner): boolean {
  if (o.pidns && o.pidns !== pidNamespace()) return false;
  if (!o.pid || !alive(o.pid)) return true;
  return !!o.start && o.start !== startTime(o.pid);
}
