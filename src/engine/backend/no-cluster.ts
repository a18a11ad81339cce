/**
 * @module engine/backend/no-cluster
 * The backend used while no Kubernetes cluster is configured: an empty engine. It lists no
 * containers, finds none, and leaves `kubernetes` out of systemInfo so that GET /info says that
 * no cluster is configured. Everything that would create something answers 501 from the router.
 */
import { notFound, unavailable } from '../../errors.js';
import type { Backend, CreateResult, ListOptions, SystemInfo, WaitResult } from './backend.js';
import type { DiskUsage, DiskUsageType, HistoryEntry, StatsReader } from './inventory.js';

const noCluster = () =>
  unavailable(
    'no Kubernetes cluster is configured: start kuber-api with --kubeconfig (or without one to run the embedded kube-sim)',
  );

export class NoClusterBackend implements Backend {
  attachContainer(nameOrId: string): never {
    throw notFound(`No such container: ${nameOrId}`);
  }
  resizeContainer(nameOrId: string): void {
    throw notFound(`No such container: ${nameOrId}`);
  }
  createExec(nameOrId: string): never {
    throw notFound(`No such container: ${nameOrId}`);
  }
  inspectExec(id: string): never {
    throw notFound(`No such exec instance: ${id}`);
  }
  resizeExec(id: string): void {
    throw notFound(`No such exec instance: ${id}`);
  }
  async startExec(id: string): Promise<never> {
    throw notFound(`No such exec instance: ${id}`);
  }
  containerLogs(nameOrId: string): never {
    throw notFound(`No such container: ${nameOrId}`);
  }
  async statContainerPath(nameOrId: string): Promise<never> {
    throw notFound(`No such container: ${nameOrId}`);
  }
  async getContainerArchive(nameOrId: string): Promise<never> {
    throw notFound(`No such container: ${nameOrId}`);
  }
  async putContainerArchive(nameOrId: string): Promise<void> {
    throw notFound(`No such container: ${nameOrId}`);
  }

  async systemInfo(): Promise<SystemInfo> {
    return { containers: 0, containersRunning: 0, containersPaused: 0, containersStopped: 0, images: 0 };
  }

  // -- inventory (backend/inventory.ts): nothing exists without a cluster
  async diskUsage(types: ReadonlySet<DiskUsageType>): Promise<DiskUsage> {
    const of = (t: DiskUsageType) => (types.has(t) ? [] : null);
    return { LayersSize: 0, Images: of('image'), Containers: of('container'), Volumes: of('volume'), BuildCache: [] };
  }
  async imageHistory(name: string): Promise<HistoryEntry[]> {
    throw notFound(`No such image: ${name}`);
  }
  async containerStats(nameOrId: string): Promise<StatsReader> {
    throw notFound(`No such container: ${nameOrId}`);
  }
  // -- end inventory

  async listContainers(_opts: ListOptions, _apiVersion: string): Promise<unknown[]> {
    return [];
  }

  async inspectContainer(nameOrId: string): Promise<unknown> {
    throw notFound(`No such container: ${nameOrId}`);
  }

  async createContainer(): Promise<CreateResult> {
    throw noCluster();
  }
  async startContainer(nameOrId: string): Promise<void> {
    throw notFound(`No such container: ${nameOrId}`);
  }
  async stopContainer(nameOrId: string): Promise<void> {
    throw notFound(`No such container: ${nameOrId}`);
  }
  async killContainer(nameOrId: string): Promise<void> {
    throw notFound(`No such container: ${nameOrId}`);
  }
  async restartContainer(nameOrId: string): Promise<void> {
    throw notFound(`No such container: ${nameOrId}`);
  }
  async waitContainer(nameOrId: string): Promise<{ id: string; result: Promise<WaitResult> }> {
    throw notFound(`No such container: ${nameOrId}`);
  }
  async removeContainer(nameOrId: string): Promise<void> {
    throw notFound(`No such container: ${nameOrId}`);
  }
  async renameContainer(nameOrId: string): Promise<void> {
    throw notFound(`No such container: ${nameOrId}`);
  }

  async topContainer(nameOrId: string): Promise<{ Titles: string[]; Processes: string[][] }> {
    throw notFound(`No such container: ${nameOrId}`);
  }
  async pruneContainers(): Promise<{ ContainersDeleted: string[]; SpaceReclaimed: number }> {
    return { ContainersDeleted: [], SpaceReclaimed: 0 };
  }

  async inspectImage(name: string): Promise<unknown> {
    throw notFound(`No such image: ${name}`);
  }
  async listImages(): Promise<unknown[]> {
    return [];
  }
  async pullImage(): Promise<void> {
    throw noCluster();
  }
  async tagImage(name: string): Promise<void> {
    throw notFound(`No such image: ${name}`);
  }
  async removeImage(name: string): Promise<Array<{ Untagged?: string }>> {
    throw notFound(`No such image: ${name}`);
  }
  async login(): Promise<{ Status: string; IdentityToken: string }> {
    throw noCluster();
  }
  async pruneImages(): Promise<{ ImagesDeleted: never[]; SpaceReclaimed: number }> {
    return { ImagesDeleted: [], SpaceReclaimed: 0 };
  }

  async createNetwork(): Promise<{ Id: string; Warning: string }> {
    throw noCluster();
  }
  async listNetworks(): Promise<unknown[]> {
    return [];
  }
  async inspectNetwork(term: string): Promise<unknown> {
    throw notFound(`network ${term} not found`);
  }
  async removeNetwork(term: string): Promise<void> {
    throw notFound(`network ${term} not found`);
  }
  async connectNetwork(term: string): Promise<void> {
    throw notFound(`network ${term} not found`);
  }
  async disconnectNetwork(term: string): Promise<void> {
    throw notFound(`network ${term} not found`);
  }
  async pruneNetworks(): Promise<{ NetworksDeleted: string[] | null }> {
    return { NetworksDeleted: null };
  }

  async createVolume(): Promise<unknown> {
    throw noCluster();
  }
  async listVolumes(): Promise<{ Volumes: unknown[]; Warnings: null }> {
    return { Volumes: [], Warnings: null };
  }
  async inspectVolume(name: string): Promise<unknown> {
    throw notFound(`get ${name}: no such volume`);
  }
  async removeVolume(name: string, force: boolean): Promise<void> {
    if (!force) throw notFound(`get ${name}: no such volume`);
  }
  async pruneVolumes(): Promise<{ VolumesDeleted: string[]; SpaceReclaimed: number }> {
    return { VolumesDeleted: [], SpaceReclaimed: 0 };
  }
  async volumesDiskUsage(): Promise<unknown[]> {
    return [];
  }
}
