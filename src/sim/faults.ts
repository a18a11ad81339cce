/**
 * @module sim/faults
 * Fault injection for tests, driven through the admin endpoint (`/_sim/faults`) or the programmatic
 * handle. The apiserver consults the REST/watch faults; the kubelet consults the stream/pod faults.
 */
export interface Faults {
  /** Answer the next N matching REST requests with this status (429 carries Retry-After: 1). */
  failRequests?: { status: 429 | 500 | 503; count: number; pathContains?: string; method?: string };
  /**
   * Carry out the next N matching REST requests, then hide the outcome: answer 500 ('fail') or close
   * the connection without an answer ('drop'). The write happened, and the client cannot know it
   * (an apiserver that committed to etcd and then failed, or a connection lost after the write).
   */
  afterCommit?: { action: 'fail' | 'drop'; count: number; pathContains?: string; method?: string };
  /** Delay every matching REST request by this many ms. */
  delayMs?: { ms: number; pathContains?: string };
  /** Close open watches (and new ones after `afterEvents` events) without an error event. */
  dropWatches?: { afterEvents?: number };
  /** Expire watches: resuming from any resourceVersion older than this one ('now' = the current
   * one) gets 410 Expired, as after an etcd compaction; open watches end so clients resume. */
  expireWatchesBefore?: string;
  /** Drop streaming connections (exec/attach/log/portforward) after this many bytes of output. */
  dropStreamsAfterBytes?: number;
  /** Image references (exact or prefix ending in '*') whose pull fails: ErrImagePull -> ImagePullBackOff. */
  failImagePull?: string[];
  /** The next N pod sandbox setups fail (as a CNI or runtime failure would): FailedCreatePodSandBox. */
  failSandboxes?: number;
}

/** A mutable faults registry shared by the apiserver and the kubelet of one simulator. */
export class FaultRegistry {
  current: Faults = {};
  private listeners: Array<(changed: Faults) => void> = [];
  set(f: Faults): void {
    this.current = { ...this.current, ...f };
    for (const l of this.listeners) l(f);
  }
  clear(): void {
    this.current = {};
    for (const l of this.listeners) l({});
  }
  /** Be told of every set() (with the faults just set) and clear() (with {}). */
  onChange(cb: (changed: Faults) => void): () => void {
    this.listeners.push(cb);
    return () => {
      this.listeners = this.listeners.filter((l) => l !== cb);
    };
  }
  /** Consume one request failure if one matches; returns the status to answer or undefined. */
  takeRequestFailure(method: string, path: string): number | undefined {
    const f = this.current.failRequests;
    if (!f || f.count <= 0) return undefined;
    if (f.pathContains && !path.includes(f.pathContains)) return undefined;
    if (f.method && f.method !== method) return undefined;
    f.count--;
    return f.status;
  }
  /** Consume one after-commit fault if one matches: what to do once the request is carried out. */
  takeAfterCommit(method: string, path: string): 'fail' | 'drop' | undefined {
    const f = this.current.afterCommit;
    if (!f || f.count <= 0) return undefined;
    if (f.pathContains && !path.includes(f.pathContains)) return undefined;
    if (f.method && f.method !== method) return undefined;
    f.count--;
    return f.action;
  }
  /** Consume one injected sandbox failure, if any is left. */
  takeSandboxFailure(): boolean {
    const n = this.current.failSandboxes ?? 0;
    if (n <= 0) return false;
    this.current.failSandboxes = n - 1;
    return true;
  }
  imagePullFails(image: string): boolean {
    return (this.current.failImagePull ?? []).some((p) =>
      p.endsWith('*') ? image.startsWith(p.slice(0, -1)) : p === image,
    );
  }
}
