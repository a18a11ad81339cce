/**
 * @module engine/backend/backend
 * The seam between the Docker API handlers (src/api) and whatever implements Docker semantics
 * (src/engine on Kubernetes). Small capability interfaces, composed into {@link Backend}, as moby's
 * router/<resource>/backend.go does. Handlers depend on these, never on Kubernetes directly.
 * Types only: the implementations (engine/kube-engine.ts and the wings) import from here, and
 * backend/streams.ts, archive.ts, images.ts hold the seam types of those families.
 * Shapes are the Docker Engine API's JSON (https://docs.docker.com/reference/api/engine/).
 */

import type { StreamsBackend } from './streams.js';
import type { ArchiveBackend } from './archive.js';
import type { ProgressMessage, PullOptions, RegistryAuth } from './images.js';
import type { InventoryBackend } from './inventory.js';
export type { DiskUsage, DiskUsageType, HistoryEntry, InventoryBackend, StatsReader } from './inventory.js';
export type { ProgressMessage, PullOptions } from './images.js';
export type { AttachBackend, ExecBackend, LogsBackend, StreamsBackend } from './streams.js';
export type { ArchiveBackend, ContainerArchive, PutArchiveOptions } from './archive.js';

/** What /info and /version need from the engine; df, image history and stats (backend/inventory.ts). */
export interface SystemBackend extends InventoryBackend {
  /** Counts and the Kubernetes side (server URL, version, namespace) for GET /info. */
  systemInfo(): Promise<SystemInfo>;
}

export interface SystemInfo {
  containers: number;
  containersRunning: number;
  containersPaused: number;
  containersStopped: number;
  images: number;
  /** Present once a Kubernetes cluster is configured. */
  kubernetes?: { server: string; version: string; namespace: string; simulated: boolean };
}

/** Options of GET /containers/json, already parsed from the query. */
export interface ListOptions {
  all: boolean;
  limit?: number;
  size: boolean;
  /** Docker filters, normalised to key -> list of values (map-of-bools and arrays both accepted). */
  filters: Record<string, string[]>;
}

/** Container listing and inspection. */
export interface ContainerBackend {
  listContainers(opts: ListOptions, apiVersion: string): Promise<unknown[]>;
  /** Throws a not-found EngineError "No such container: <name>" when absent. */
  inspectContainer(nameOrId: string, opts: { size: boolean }, apiVersion: string): Promise<unknown>;
}

/** POST /containers/create answer. */
export interface CreateResult {
  Id: string;
  Warnings: string[];
}

export type WaitCondition = 'not-running' | 'next-exit' | 'removed';

/** POST /containers/{id}/wait body (moby container.WaitResponse). */
export interface WaitResult {
  StatusCode: number;
  Error?: { Message: string };
}

/**
 * The container lifecycle (moby router/container backend.go stateBackend + monitorBackend).
 * `nameOrId` is a full ID, a name (with or without its leading `/`) or a unique ID prefix.
 * Errors are EngineErrors with moby's classes: not-found, conflict, not-modified (304), invalid.
 */
export interface ContainerLifecycleBackend {
  /** `body` is the create JSON (Config with HostConfig and NetworkingConfig inline). */
  createContainer(name: string | undefined, body: Record<string, unknown>): Promise<CreateResult>;
  startContainer(nameOrId: string): Promise<void>;
  /** `timeout` in seconds (-1 waits forever; absent: the container's StopTimeout, else 10). */
  stopContainer(nameOrId: string, opts: { timeout?: number; signal?: string }): Promise<void>;
  /** Default signal SIGKILL. */
  killContainer(nameOrId: string, signal?: string): Promise<void>;
  restartContainer(nameOrId: string, opts: { timeout?: number; signal?: string }): Promise<void>;
  /**
   * Resolves once the container is found (so a 404 is still a plain error), with `result`
   * settling when `condition` holds: the handler sends the 200 head in between.
   */
  waitContainer(
    nameOrId: string,
    condition: WaitCondition,
    signal: AbortSignal,
  ): Promise<{ id: string; result: Promise<WaitResult> }>;
  removeContainer(nameOrId: string, opts: { force: boolean; volumes: boolean; link: boolean }): Promise<void>;
  renameContainer(nameOrId: string, newName: string): Promise<void>;
  /** GET /containers/{id}/top: `ps <psArgs>` run in the container (moby runs it on the host). */
  topContainer(nameOrId: string, psArgs: string): Promise<{ Titles: string[]; Processes: string[][] }>;
  /** POST /containers/prune: remove stopped containers matching `until`/`label` filters. */
  pruneContainers(filters: Record<string, string[]>): Promise<{ ContainersDeleted: string[]; SpaceReclaimed: number }>;
}

/**
 * Images (engine/images/service.ts): registry-backed metadata kept in Kubernetes, no layers (the
 * kubelet pulls them). Errors follow moby: 404 "No such image: <name>", 409 conflicts on removal.
 */
export interface ImageBackend {
  /** GET /images/{name}/json; 404 "No such image: <name>" for an image never pulled or used. */
  inspectImage(name: string, apiVersion: string): Promise<unknown>;
  /** GET /images/json (filters: dangling, label, reference, before, since, until). */
  listImages(opts: { all: boolean; filters: Record<string, string[]> }, apiVersion: string): Promise<unknown[]>;
  /**
   * POST /images/create?fromImage=: resolve against the registry and keep the config. `progress`
   * receives the JSON progress messages; a rejection before the first message is answered with
   * its status (as moby does before any output), after it as an `errorDetail` line.
   */
  pullImage(ref: string, opts: PullOptions, progress: (m: ProgressMessage) => void): Promise<void>;
  /** POST /images/{name}/tag?repo=&tag= */
  tagImage(name: string, repo: string, tag?: string): Promise<void>;
  /** DELETE /images/{name}: untagged references and deleted IDs; 409 conflicts as moby. */
  removeImage(
    name: string,
    opts: { force: boolean; noprune: boolean },
  ): Promise<Array<{ Untagged?: string; Deleted?: string }>>;
  /** POST /auth (`docker login`): checked against the registry; kept for the kubelet's pulls. 401 as moby when refused. */
  login(auth: RegistryAuth): Promise<{ Status: string; IdentityToken: string }>;
  /** POST /images/prune */
  pruneImages(
    filters: Record<string, string[]>,
  ): Promise<{ ImagesDeleted: Array<{ Untagged?: string; Deleted?: string }>; SpaceReclaimed: number }>;
}

/**
 * Networks (moby router/network backend.go). `term` is a network ID, name or unique ID prefix;
 * errors as moby: 404 "network <x> not found", 409 duplicate name, 403 predefined or in use.
 */
export interface NetworkBackend {
  /** POST /networks/create: the create body as JSON; `Warning` lists what has no effect on Kubernetes. */
  createNetwork(body: Record<string, unknown>): Promise<{ Id: string; Warning: string }>;
  listNetworks(filters: Record<string, string[]>): Promise<unknown[]>;
  inspectNetwork(term: string): Promise<unknown>;
  removeNetwork(term: string): Promise<void>;
  connectNetwork(
    term: string,
    body: { Container?: string; EndpointConfig?: Record<string, unknown> | null },
  ): Promise<void>;
  disconnectNetwork(term: string, body: { Container?: string; Force?: boolean }): Promise<void>;
  pruneNetworks(filters: Record<string, string[]>): Promise<{ NetworksDeleted: string[] | null }>;
}

/**
 * Volumes (moby router/volume backend.go). Errors as moby: 404 "get X: no such volume",
 * 409 "remove X: volume is in use - [ids]". Implemented by engine/volumes/service.ts.
 */
export interface VolumeBackend {
  /** POST /volumes/create {Name, Driver, DriverOpts, Labels}: the volume (an existing name answers the existing one). */
  createVolume(body: {
    Name?: string;
    Driver?: string;
    DriverOpts?: Record<string, string> | null;
    Labels?: Record<string, string> | null;
  }): Promise<unknown>;
  /** GET /volumes (filters dangling, name, label, driver). */
  listVolumes(filters: Record<string, string[]>): Promise<{ Volumes: unknown[]; Warnings: null }>;
  inspectVolume(name: string): Promise<unknown>;
  /** DELETE /volumes/{name}?force= (force: a missing volume is not an error). */
  removeVolume(name: string, force: boolean): Promise<void>;
  /** POST /volumes/prune (filters label, all). */
  pruneVolumes(
    filters: Record<string, string[]>,
    apiVersion: string,
  ): Promise<{ VolumesDeleted: string[]; SpaceReclaimed: number }>;
  /** The `Volumes` of GET /system/df: each volume with `UsageData` {Size: -1 (not measured), RefCount}. */
  volumesDiskUsage(): Promise<unknown[]>;
}

export interface Backend
  extends
    SystemBackend,
    ContainerBackend,
    ContainerLifecycleBackend,
    ImageBackend,
    StreamsBackend,
    ArchiveBackend,
    NetworkBackend,
    VolumeBackend {}
