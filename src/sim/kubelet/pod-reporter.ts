/**
 * @module sim/kubelet/pod-reporter
 * What the kubelet tells the apiserver about one pod: events, and the pod status (the status
 * manager), written at most once per turn of the event loop and only when it changed. Nothing is
 * written once the pod is removed.
 */
import type { Logger } from '../../log.js';
import { PODS, type KObject, type KubeletStore } from '../types.js';

type Obj = Record<string, any>;

export interface ReporterHost {
  store: KubeletStore;
  namespace: string;
  name: string;
  uid: string;
  log: Logger;
  /** The pod object events are recorded against. */
  pod(): KObject;
  /** The status as the kubelet would write it now, given the stored one. */
  build(existing: Obj): Obj;
}

export class PodReporter {
  /** The pod is gone (deleted, force-deleted, kubelet stopped): no more events or status. */
  removed = false;
  private timer: NodeJS.Immediate | undefined;
  private last = '';

  constructor(private readonly host: ReporterHost) {}

  event(type: 'Normal' | 'Warning', reason: string, message: string): void {
    if (this.removed) return;
    try {
      this.host.store.recordEvent(this.host.pod(), type, reason, message);
    } catch (err) {
      this.host.log.debug({ err }, 'recordEvent failed');
    }
  }

  /** Coalesce status writes within one turn of the event loop. */
  writeStatus(): void {
    if (this.removed || this.timer) return;
    this.timer = setImmediate(() => {
      this.timer = undefined;
      this.flushStatus();
    });
  }

  flushStatus(): void {
    if (this.timer) {
      clearImmediate(this.timer);
      this.timer = undefined;
    }
    if (this.removed) return;
    const { store, namespace, name, uid } = this.host;
    const cur = store.get(PODS, namespace, name);
    if (!cur || cur.metadata.uid !== uid) return;
    const next = this.host.build((cur as Obj).status ?? {});
    const text = JSON.stringify(next);
    if (text === this.last) return;
    this.last = text;
    store.mutate(PODS, namespace, name, (o) => {
      if (o.metadata.uid === uid) (o as Obj).status = next;
    });
  }

  /** Drop a pending write (force deletion: no status any more). */
  cancelPending(): void {
    if (this.timer) clearImmediate(this.timer);
  }
}
