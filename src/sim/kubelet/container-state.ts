/**
 * @module sim/kubelet/container-state
 * What the kubelet keeps about one container of a pod across its restarts: the previous and
 * current runtime instances, the terminations (for state/lastState), the waiting reason, readiness,
 * and its back-off entry (pkg/kubelet/kuberuntime doBackOff, util/flowcontrol Backoff); and the
 * snapshot of it that pod-status.ts turns into a containerStatus.
 */
import type { ContainerInstance } from './container.js';
import type { ResolvedImage } from './images.js';
import type { ContainerSnapshot, TerminatedState } from './pod-status.js';
import type { Prober } from './probes.js';

type Obj = Record<string, any>;

export interface Backoff {
  backoff: number;
  lastUpdate: number;
}

export class ContainerState {
  /** The previous and the current instance (older ones are removed with their logs, as the kubelet does). */
  instances: ContainerInstance[] = [];
  /** Instances created so far (restartCount = created - 1). */
  created = 0;
  history: TerminatedState[] = [];
  waiting: { reason: string; message?: string } | undefined;
  image: ResolvedImage | undefined;
  ready = false;
  started = false;
  probers: Prober[] = [];
  backoff: Backoff | undefined;
  constructor(
    readonly spec: Obj,
    readonly init: boolean,
  ) {}
  get name(): string {
    return this.spec.name;
  }
  get sidecar(): boolean {
    return this.init && this.spec.restartPolicy === 'Always';
  }
  get current(): ContainerInstance | undefined {
    return this.instances.at(-1);
  }
  get restartCount(): number {
    return Math.max(0, this.created - 1);
  }
  /** Stop the probes of the current instance (it ended, or is being killed). */
  stopProbers(): void {
    for (const p of this.probers) p.stop();
    this.probers = [];
  }
}

/**
 * flowcontrol.Backoff.Next: the first entry starts at `initial`, then doubles up to `max`; an entry
 * not updated for 2 x max starts over.
 */
export function nextBackoff(b: Backoff | undefined, at: number, initialMs: number, maxMs: number): Backoff {
  if (!b || at - b.lastUpdate > maxMs * 2) return { backoff: initialMs, lastUpdate: at };
  return { backoff: Math.min(b.backoff * 2, maxMs), lastUpdate: at };
}

/** One container's state as the kubelet reports it (convertToAPIContainerStatuses). */
export function snapshotContainer(
  cs: ContainerState,
  ctx: { terminal: boolean; awaitingInit: boolean; forceRO: (volume: string) => boolean },
): ContainerSnapshot {
  const inst = cs.current;
  const s: ContainerSnapshot = {
    name: cs.name,
    image: cs.image?.image ?? cs.spec.image ?? '',
    imageID: cs.image && inst ? cs.image.imageID : '',
    restartCount: cs.restartCount,
    ready: cs.ready && !!inst?.up,
    started: cs.started && !!inst?.up,
    volumeMounts: ((cs.spec.volumeMounts ?? []) as Obj[]).map((vm) => {
      const o: Obj = { name: vm.name, mountPath: vm.mountPath };
      if (vm.readOnly || ctx.forceRO(vm.name)) {
        o.readOnly = true;
        o.recursiveReadOnly = 'Disabled';
      }
      return o;
    }),
    sidecar: cs.sidecar,
  };
  if (inst) s.containerID = inst.containerID;
  const last = cs.history.at(-1);
  if (inst?.up) {
    s.running = { startedAt: inst.startedAt };
    if (last) s.lastTerminated = last;
  } else if (cs.waiting && !ctx.terminal) {
    s.waiting = cs.waiting;
    if (last) s.lastTerminated = last;
  } else if (last) {
    s.terminated = last;
    if (cs.history.length > 1) s.lastTerminated = cs.history.at(-2);
  } else {
    s.waiting = cs.waiting ?? { reason: !cs.init && ctx.awaitingInit ? 'PodInitializing' : 'ContainerCreating' };
  }
  return s;
}
