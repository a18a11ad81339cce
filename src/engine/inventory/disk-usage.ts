/**
 * @module engine/inventory/disk-usage
 * `docker system df` (GET /system/df), composed from what the other wings list (pure), as moby's
 * daemon/disk_usage.go composes it: images with the number of containers made from each, every
 * container with its sizes, the volumes with their usage, and the build cache. kuber-api keeps no
 * layers (the kubelet pulls them), so sizes are the registry's compressed layer sizes for images,
 * 0 for containers' writable layers (Kubernetes does not report them), and the build cache is
 * always empty, as a dockerd that never built answers (`"BuildCache":[]`).
 *
 * Volumes come through {@link VolumeInventory}: the volumes wing (engine/volumes) provides it once
 * it lists claims; until then {@link NO_VOLUMES} lists none.
 */
import type { DiskUsage, DiskUsageType } from '../backend/inventory.js';
import { versionLess } from '../model/api-version.js';

/** What df needs from the volumes wing: each volume as moby's volume.Volume with UsageData. */
export interface VolumeInventory {
  /** Every volume, with `UsageData: { Size, RefCount }` (Size -1 when unknown, as moby). */
  diskUsageVolumes(): Promise<unknown[]>;
}

/** The volume inventory before the volumes wing provides one: no volumes. */
export const NO_VOLUMES: VolumeInventory = { diskUsageVolumes: async () => [] };

/** What df reads from the engine: image summaries (API 1.51 shape) and container summaries with sizes. */
export interface DiskUsageSources {
  /** GET /images/json?all=1 entries as of API 1.51 (`Containers` counted). */
  images(): Promise<Array<Record<string, unknown>>>;
  /** GET /containers/json?all=1&size=1 entries for the API version asked. */
  containers(apiVersion: string): Promise<unknown[]>;
  volumes: VolumeInventory;
}

/** The df image entry: moby sets SharedSize (0: no layer is shared that kuber-api knows of) and counts containers. */
export function diskUsageImage(summary: Record<string, unknown>, apiVersion: string): Record<string, unknown> {
  const out: Record<string, unknown> = { ...summary, SharedSize: 0 };
  if (typeof out.Containers !== 'number' || out.Containers < 0) out.Containers = 0;
  if (out.Labels && typeof out.Labels === 'object' && !Object.keys(out.Labels).length) out.Labels = null;
  if (Array.isArray(out.RepoDigests) && !out.RepoDigests.length) out.RepoDigests = null;
  if (versionLess(apiVersion, '1.44')) out.VirtualSize = out.Size;
  else delete out.VirtualSize;
  return out;
}

/** GET /system/df for the types asked (a type not asked for is null; BuildCache is always []). */
export async function diskUsage(
  src: DiskUsageSources,
  types: ReadonlySet<DiskUsageType>,
  apiVersion: string,
): Promise<DiskUsage> {
  const [images, containers, volumes] = await Promise.all([
    types.has('image') ? src.images() : undefined,
    types.has('container') ? src.containers(apiVersion) : undefined,
    types.has('volume') ? src.volumes.diskUsageVolumes() : undefined,
  ]);
  const imgs = images?.map((i) => diskUsageImage(i, apiVersion));
  const layersSize = (imgs ?? []).reduce((n, i) => n + (typeof i.Size === 'number' && i.Size > 0 ? i.Size : 0), 0);
  return {
    LayersSize: layersSize,
    Images: imgs ?? null,
    Containers: containers ?? null,
    Volumes: volumes ?? null,
    BuildCache: [],
  };
}
