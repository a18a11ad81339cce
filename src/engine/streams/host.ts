/**
 * @module engine/streams/host
 * What attach, exec and logs need from the container engine (engine/kube-engine `KubeEngine`
 * provides it): find a container, see the Pod of its current run in the watch cache and wait on
 * it without polling, reach the apiserver (REST client, WebSocket dialer), and publish events.
 * Kept structural so that the streaming modules neither import the engine class nor are imported
 * by it beyond one constructor call.
 */
import type { KubeClient } from '../../kube/client.js';
import type { WsDialer } from '../../kube/ws-dialer.js';
import type { PodLike } from '../model/state.js';
import type { ContainerRecord, CreateBody, DockerState } from '../model/types.js';

/** A Pod as the caches hold it. */
export type StreamPod = PodLike & { metadata: { name: string; uid?: string; annotations?: Record<string, string> } };

/** A container resolved for streaming (the engine calls it `ContainerTarget`). */
export interface StreamTarget {
  id: string;
  name: string;
  namespace: string;
  config: CreateBody;
  /** The current run (0: never started) and its Pod's name. */
  run: number;
  podName?: string;
  /** The container's name inside the Pod. */
  containerName: string;
  state: DockerState;
}

export interface StreamsHost {
  readonly kube: { readonly client: KubeClient; readonly dialer: WsDialer; readonly namespace: string };
  /** 404 "No such container: x" (400 for an ambiguous ID prefix). */
  target(nameOrId: string): StreamTarget;
  readonly index: {
    get(id: string): ContainerRecord | undefined;
    currentPod(rec: ContainerRecord): StreamPod | undefined;
    /** Resolves with the first defined `check()`, re-evaluated on every cache change (no polling). */
    when<R>(
      check: () => R | undefined,
      opts?: { timeoutMs?: number; signal?: AbortSignal; timeoutError?: () => Error },
    ): Promise<R>;
  };
  readonly events: {
    container(
      src: { id: string; name: string; image: string; labels: Record<string, string> },
      action: string,
      extra?: Record<string, string>,
    ): unknown;
  };
  eventSource(rec: ContainerRecord): { id: string; name: string; image: string; labels: Record<string, string> };
  /** Delay the container's AutoRemove until `release()` (at most --auto-remove-hold-ms). */
  holdAutoRemove?(id: string): () => void;
}

/** The main container's state in a Pod (the one container kuber-api creates per Pod). */
export function mainState(
  pod: StreamPod | undefined,
  container: string,
): 'absent' | 'waiting' | 'running' | 'terminated' {
  if (!pod) return 'absent';
  const cs = pod.status?.containerStatuses?.find((c) => c.name === container);
  if (cs?.state?.running) return 'running';
  if (cs?.state?.terminated) return 'terminated';
  const phase = pod.status?.phase;
  if (phase === 'Failed' || phase === 'Succeeded') return 'terminated';
  return 'waiting';
}
