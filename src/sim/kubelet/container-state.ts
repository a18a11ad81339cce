/**
 * @module sim/kubelet/container-state
 * What the kubelet keeps about one container of a pod across its restarts: the previous and
 * current runtime instances, the terminations (for state/lastState), the waiting reason, readiness,
 * and its back-off entry (pkg/kubelet/kuberuntime doBackOff, util/flowcontrol Backoff).
 */
import type { ContainerInstance } from './container.js';
import type { ResolvedImage } from './images.js';
import type { Prober } from './probes.js';

/** One termination of a container (core/v1 ContainerStateTerminated, as the kubelet reports it). */
export interface TerminatedState {
  exitCode: number;
  reason: string;
  message?: string;
  startedAt: string;
  finishedAt: string;
  containerID?: string;
  signal?: number;
}

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
