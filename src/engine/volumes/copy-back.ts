/**
 * @module engine/volumes/copy-back
 * When writable binds are copied back (engine/volumes/bind-sync.ts does the copying): once a run's
 * main container has ended while its bind sidecar runs (seen on the pods watch cache), once per
 * Pod; `settle(id)` lets wait, stop, rm and the next run wait for it; `beforeKill(pod)` copies a
 * still-running container's binds before kuber-api has the kubelet kill it.
 */
import { detached } from '../../cancel-scope.js';
import type { PodObject } from '../core/container-index.js';
import type { ContainerRecord } from '../model/types.js';
import { ANN_ID } from '../model/record.js';
import { CONTAINER_NAME } from '../model/translate.js';
import { BIND_SIDECAR, syncBack, writableBinds } from './bind-sync.js';
import type { MountPoint } from './spec.js';
import type { VolumeHost } from './host.js';

type ContainerState = { running?: unknown; terminated?: unknown; waiting?: unknown };

/** The states of a run's main container and bind sidecar. */
function containerStates(pod: PodObject): { main?: ContainerState; side?: ContainerState } {
  const statuses =
    (pod.status as { containerStatuses?: Array<{ name: string; state?: ContainerState }> } | undefined)
      ?.containerStatuses ?? [];
  return {
    main: statuses.find((s) => s.name === CONTAINER_NAME)?.state,
    side: statuses.find((s) => s.name === BIND_SIDECAR)?.state,
  };
}

export class CopyBack {
  private readonly syncs = new Map<string, Promise<void>>();
  private unsubscribe?: () => void;

  constructor(
    private readonly h: VolumeHost,
    private readonly mountsOf: (rec: ContainerRecord) => MountPoint[],
    private readonly highWaterBytes: number,
  ) {}

  start(): void {
    this.unsubscribe = this.h.index.pods.subscribe((ev) => {
      if (ev.type !== 'DELETED') void this.copyBackIfEnded(ev.object);
    });
  }
  stop(): void {
    this.unsubscribe?.();
  }

  /** Start the final copy-back of a Pod whose main container ended while its bind sidecar still runs (once per Pod). */
  private copyBackIfEnded(pod: PodObject): Promise<void> | undefined {
    const uid = pod.metadata.uid ?? pod.metadata.name;
    const known = this.syncs.get(uid);
    if (known) return known;
    const { main, side } = containerStates(pod);
    if (!main?.terminated || !side?.running) return undefined;
    const rec = this.h.index.get(pod.metadata.annotations?.[ANN_ID] ?? '');
    if (!rec) return undefined;
    const p = detached(() => syncBack(this.syncTarget(pod), writableBinds(this.mountsOf(rec)), true));
    this.syncs.set(uid, p);
    void p.finally(() => setTimeout(() => this.syncs.delete(uid), 60_000).unref());
    return p;
  }

  private syncTarget(pod: PodObject) {
    return {
      dialer: this.h.kube.dialer,
      namespace: this.h.namespace,
      pod: pod.metadata.name,
      highWaterBytes: this.highWaterBytes,
      log: this.h.log,
    };
  }

  /**
   * Resolves when the container's ended runs have been copied back (wait, stop and rm call it
   * before they answer). A main container can end before its sidecar has started: that waits for
   * the sidecar (at most the start timeout).
   */
  async settle(id: string): Promise<void> {
    await Promise.all(
      this.h.index.podsOf(id).map(async (pod) => {
        if (
          !(pod.spec as { containers?: Array<{ name: string }> } | undefined)?.containers?.some(
            (c) => c.name === BIND_SIDECAR,
          )
        )
          return;
        const name = pod.metadata.name;
        const latest = await this.h.index
          .when(
            () => {
              const p = this.h.index.pods.get(name);
              if (!p || p.metadata.uid !== pod.metadata.uid) return { gone: true as const };
              const st = containerStates(p);
              if (!st.main?.terminated) return { pod: p }; // still running: nothing to copy yet
              if (st.side?.running || st.side?.terminated) return { pod: p };
              // A sidecar that cannot start (its image cannot be pulled...) will not: nothing to wait for.
              const reason = (st.side?.waiting as { reason?: string } | undefined)?.reason ?? '';
              const phase = (p.status as { phase?: string } | undefined)?.phase;
              return (reason && !['ContainerCreating', 'PodInitializing'].includes(reason)) ||
                phase === 'Failed' ||
                phase === 'Succeeded'
                ? { gone: true as const }
                : undefined;
            },
            { timeoutMs: this.h.opts.startTimeoutMs },
          )
          .catch(() => ({ pod: this.h.index.pods.get(name) }));
        if ('pod' in latest && latest.pod) await this.copyBackIfEnded(latest.pod);
      }),
    );
  }

  /** Before kuber-api has the kubelet kill a run (which ends the sidecar too): copy the binds back as they are. */
  async beforeKill(pod: PodObject): Promise<void> {
    const rec = this.h.index.get(pod.metadata.annotations?.[ANN_ID] ?? '');
    const binds = rec ? writableBinds(this.mountsOf(rec)) : [];
    if (
      binds.length &&
      pod.spec &&
      (pod.spec as { containers?: Array<{ name: string }> }).containers?.some((c) => c.name === BIND_SIDECAR)
    )
      await syncBack(this.syncTarget(pod), binds, false);
  }
}
