/**
 * @module engine/ryuk/host
 * What the in-process Ryuk needs from the engine that composes it (engine/kube-engine.ts): the
 * core (records, the lock, events), the published-port binding of a start, the exit bookkeeping
 * `docker wait` reads, AutoRemove, and the Docker operations Ryuk itself calls through its mounted
 * socket (list and remove containers, networks, volumes, images: moby-ryuk interfaces.go
 * dockerClient), which the composition root provides from kuber-api's own Backend.
 */
import type { EngineCore } from '../core/engine-core.js';
import type { FilterArgs } from './go.js';

/** Ryuk's Docker client (moby-ryuk interfaces.go), on kuber-api's own operations. */
export interface RyukDocker {
  listContainers(filters: FilterArgs): Promise<Array<{ Id: string; Created: number; Labels?: Record<string, string> }>>;
  /** `docker rm -f -v`. */
  removeContainer(id: string): Promise<void>;
  listNetworks(filters: FilterArgs): Promise<Array<{ Id: string; Created: string }>>;
  removeNetwork(id: string): Promise<void>;
  /** Absent while kuber-api has no volumes (the volumes wing wires them). */
  listVolumes?(filters: FilterArgs): Promise<Array<{ Name: string; CreatedAt?: string }>>;
  removeVolume?(name: string): Promise<void>;
  listImages(filters: FilterArgs): Promise<Array<{ Id: string; Created: number }>>;
  /** `docker rmi` without force (Ryuk: PruneChildren only). */
  removeImage(id: string): Promise<void>;
}

export interface RyukOptions {
  /** Repositories emulated in-process (`--ryuk-image`). */
  readonly images: readonly string[];
  /** Lines of a Ryuk's log kept (and persisted in its record). */
  readonly logLines: number;
  /** Longest filter line (Ryuk's bufio.Scanner buffer: 64 KiB). */
  readonly maxLineBytes: number;
  /** Distinct filters one Ryuk keeps. */
  readonly maxFilters: number;
  /** Connections one Ryuk serves at once. */
  readonly maxConnections: number;
}

export interface RyukHost extends Pick<
  EngineCore,
  'kube' | 'namespace' | 'index' | 'events' | 'log' | 'withLock' | 'eventSource'
> {
  /** Bind the published ports before the start (engine/ports/publisher.ts beforeStart). */
  readonly ports: { beforeStart(id: string): Promise<() => void> };
  /** Count an exit for `docker wait` (engine/containers/monitor.ts noteExit). */
  noteExit(id: string, code: number): void;
  /** Remove under the container's lock (AutoRemove). */
  removeLocked(id: string, force: boolean): Promise<void>;
  autoRemoveHeld(id: string): Promise<void>;
  readonly docker: RyukDocker;
}
