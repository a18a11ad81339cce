/**
 * @module engine/no-cluster
 * The backend used while no Kubernetes cluster is configured: an empty engine. It lists no
 * containers, finds none, and leaves `kubernetes` out of systemInfo so that GET /info says that
 * no cluster is configured. Everything that would create something answers 501 from the router.
 */
import { notFound } from '../errors.js';
import type { Backend, ListOptions, SystemInfo } from './backend.js';

export class NoClusterBackend implements Backend {
  async systemInfo(): Promise<SystemInfo> {
    return { containers: 0, containersRunning: 0, containersPaused: 0, containersStopped: 0, images: 0 };
  }

  async listContainers(_opts: ListOptions, _apiVersion: string): Promise<unknown[]> {
    return [];
  }

  async inspectContainer(nameOrId: string): Promise<unknown> {
    throw notFound(`No such container: ${nameOrId}`);
  }
}
