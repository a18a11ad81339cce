/**
 * @module sim/kubelet/container-exit
 * A finished container instance as the kubelet reports it: state.terminated with the exit code,
 * the reason (Completed / Error / OOMKilled from the memory cgroup / StartError when the runtime
 * could not start the process), and the termination message.
 */
import { promises as fsp } from 'node:fs';
import type { ContainerInstance } from './container.js';
import { RecordReader, tailStart } from './log-store.js';
import { now, type TerminatedState } from './pod-status.js';

type Obj = Record<string, any>;

/** The terminated state of an instance that exited (its memory cgroup is released here). */
export async function terminatedState(spec: Obj, inst: ContainerInstance): Promise<TerminatedState> {
  const code = inst.exit?.code ?? 137;
  const t: TerminatedState = {
    exitCode: code,
    reason: inst.killReason ?? (code === 0 ? 'Completed' : 'Error'),
    startedAt: inst.startedAt,
    finishedAt: inst.finishedAt || now(),
    containerID: inst.containerID,
  };
  if (inst.exit?.setupError) {
    t.reason = 'StartError';
    t.exitCode = 128;
    t.message = inst.exit.setupError;
    return t;
  }
  if (inst.cgroup) {
    if (await inst.cgroup.oomKilled()) t.reason = 'OOMKilled';
    void inst.cgroup.remove();
  }
  const message = await terminationMessage(spec, inst, code);
  if (message) t.message = message;
  return t;
}

/**
 * The kubelet's termination message: the file at terminationMessagePath (at most 4096 bytes) or,
 * with FallbackToLogsOnError and a failure, the end of the log (80 lines / 2048 bytes).
 */
async function terminationMessage(spec: Obj, inst: ContainerInstance, code: number): Promise<string | undefined> {
  const dest = spec.terminationMessagePath || '/dev/termination-log';
  const m = inst.view.mounts.find((x) => x.dest === dest);
  if (m) {
    const fh = await fsp.open(m.src, 'r').catch(() => undefined);
    if (fh) {
      const buf = Buffer.alloc(4096);
      const { bytesRead } = await fh.read(buf, 0, 4096, 0);
      await fh.close();
      if (bytesRead) return buf.subarray(0, bytesRead).toString('utf8');
    }
  }
  if (spec.terminationMessagePolicy !== 'FallbackToLogsOnError' || code === 0) return undefined;
  const text = await readLogTail(inst, 80, 2048);
  return text || undefined;
}

async function readLogTail(inst: ContainerInstance, lines: number, maxBytes: number): Promise<string> {
  const fh = await fsp.open(inst.log.path, 'r').catch(() => undefined);
  if (!fh) return '';
  try {
    const { offset, skip } = await tailStart(fh, inst.log.size, lines);
    const reader = new RecordReader(fh, offset);
    const parts: Buffer[] = [];
    let first = true;
    for (let rec = await reader.next(inst.log.size); rec; rec = await reader.next(inst.log.size)) {
      parts.push(first ? rec.payload.subarray(skip) : rec.payload);
      first = false;
    }
    const all = Buffer.concat(parts);
    return all.subarray(Math.max(0, all.length - maxBytes)).toString('utf8');
  } finally {
    await fh.close();
  }
}
