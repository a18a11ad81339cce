/**
 * @module engine/backend
 * The seam between the Docker API handlers (src/api) and whatever implements Docker semantics
 * (src/engine on Kubernetes). Small capability interfaces, composed into {@link Backend}, as moby's
 * router/<resource>/backend.go does. Handlers depend on these, never on Kubernetes directly.
 * Shapes are the Docker Engine API's JSON (https://docs.docker.com/reference/api/engine/).
 */

/** What /info and /version need from the engine. */
export interface SystemBackend {
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

/** Container listing and inspection; the engine adds create/start/stop/... to this. */
export interface ContainerBackend {
  listContainers(opts: ListOptions, apiVersion: string): Promise<unknown[]>;
  /** Throws a not-found EngineError "No such container: <name>" when absent. */
  inspectContainer(nameOrId: string, opts: { size: boolean }, apiVersion: string): Promise<unknown>;
}

export interface Backend extends SystemBackend, ContainerBackend {}
