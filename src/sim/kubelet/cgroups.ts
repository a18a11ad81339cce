/**
 * @module sim/kubelet/cgroups
 * Memory limits (resources.limits.memory) as the runtime applies them: one memory cgroup per
 * container, created under the simulator's own cgroup, with the limit; the container's processes
 * (and its execs) join it before they start. A container whose cgroup saw an OOM kill terminates
 * with reason OOMKilled, as containerd reports it. cgroup v1 (memory.limit_in_bytes,
 * memory.oom_control's oom_kill) and v2 (memory.max, memory.events' oom_kill); without a writable
 * memory controller limits are not enforced (the kubelet logs why once).
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, promises as fsp } from 'node:fs';
import { join } from 'node:path';

export interface ContainerCgroup {
  /** The cgroup.procs file a process writes its pid into to join. */
  procs: string;
  oomKilled(): Promise<boolean>;
  remove(): Promise<void>;
}

export class MemoryCgroups {
  private base: string | undefined;
  private version: 1 | 2 = 1;
  /** Why limits are not enforced, if they are not. */
  reason = '';
  private checked: Promise<void> | undefined;

  private async detect(): Promise<void> {
    let lines: string[] = [];
    try {
      lines = readFileSync('/proc/self/cgroup', 'utf8').trim().split('\n');
    } catch {
      this.reason = 'no /proc/self/cgroup';
      return;
    }
    const v1 = lines.map((l) => l.split(':')).find(([, ctrl]) => ctrl!.split(',').includes('memory'));
    if (v1 && existsSync('/sys/fs/cgroup/memory/memory.limit_in_bytes')) {
      this.base = join('/sys/fs/cgroup/memory', v1[2]!);
      this.version = 1;
    } else {
      const v2 = lines.find((l) => l.startsWith('0::'));
      const root = '/sys/fs/cgroup';
      if (
        v2 &&
        existsSync(join(root, 'cgroup.controllers')) &&
        readFileSync(join(root, 'cgroup.controllers'), 'utf8').includes('memory')
      ) {
        this.base = join(root, v2.slice(3));
        this.version = 2;
      }
    }
    if (!this.base) {
      this.reason = 'no memory cgroup controller';
      return;
    }
    // Unique per kubelet, not per process: test files run several kubelets in one process.
    const probe = join(this.base, `kubesim-probe-${process.pid}-${randomBytes(4).toString('hex')}`);
    try {
      await fsp.mkdir(probe);
      const file = this.version === 1 ? 'memory.limit_in_bytes' : 'memory.max';
      if (!existsSync(join(probe, file))) throw new Error(`${file} missing (memory not enabled for children)`);
    } catch (err) {
      this.reason = `cannot create memory cgroups under ${this.base}: ${(err as Error).message}`;
      this.base = undefined;
    } finally {
      await fsp.rmdir(probe).catch(() => {});
    }
  }

  /** A cgroup limited to `bytes` for one container, or undefined when limits cannot be enforced. */
  async create(id: string, bytes: number): Promise<ContainerCgroup | undefined> {
    this.checked ??= this.detect();
    await this.checked;
    if (!this.base || !(bytes > 0)) return undefined;
    const dir = join(this.base, `kubesim-${id.slice(0, 24)}`);
    try {
      await fsp.mkdir(dir);
      const limit = String(Math.floor(bytes));
      if (this.version === 1) {
        await fsp.writeFile(join(dir, 'memory.limit_in_bytes'), limit);
        await fsp.writeFile(join(dir, 'memory.memsw.limit_in_bytes'), limit).catch(() => {});
      } else {
        await fsp.writeFile(join(dir, 'memory.max'), limit);
        await fsp.writeFile(join(dir, 'memory.swap.max'), '0').catch(() => {});
      }
    } catch {
      await fsp.rmdir(dir).catch(() => {});
      return undefined;
    }
    const events = join(dir, this.version === 1 ? 'memory.oom_control' : 'memory.events');
    return {
      procs: join(dir, 'cgroup.procs'),
      oomKilled: async () => {
        const text = await fsp.readFile(events, 'utf8').catch(() => '');
        const m = /^oom_kill (\d+)/m.exec(text);
        return !!m && Number(m[1]) > 0;
      },
      remove: async () => {
        // Any process left (an exec that outlived PID 1 cannot: the PID namespace died) is gone soon.
        for (let i = 0; i < 20; i++) {
          try {
            await fsp.rmdir(dir);
            return;
          } catch {
            await new Promise((r) => setTimeout(r, 50));
          }
        }
      },
    };
  }
}

/** Prefix a command so that it joins the cgroup before exec'ing (a shell writes its own pid). */
export function joinCgroup(
  cg: ContainerCgroup | undefined,
  file: string,
  args: string[],
): { file: string; args: string[] } {
  if (!cg) return { file, args };
  return { file: '/bin/sh', args: ['-c', 'echo $$ > "$0" && exec "$@"', cg.procs, file, ...args] };
}
