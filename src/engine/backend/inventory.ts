/**
 * @module engine/backend/inventory
 * The seam types of the inventory and usage routes CI scripts run (issue 10 item 7): `docker system
 * df` (moby api/types/system DiskUsage, daemon/disk_usage.go), `docker image history` (moby
 * api/types/image HistoryResponseItem) and `docker stats` (moby api/types/container StatsResponse).
 * backend.ts composes these into the family interfaces; the engine implements them in
 * engine/inventory (df), engine/images/history.ts and engine/stats.
 */

/** The object types GET /system/df?type= may ask for (moby system.DiskUsageObject, API 1.42+). */
export type DiskUsageType = 'container' | 'image' | 'volume' | 'build-cache';
export const DISK_USAGE_TYPES: readonly DiskUsageType[] = ['container', 'image', 'volume', 'build-cache'];

/** GET /system/df (moby system.DiskUsage): a type not asked for is null, as dockerd sends it. */
export interface DiskUsage {
  LayersSize: number;
  Images: unknown[] | null;
  Containers: unknown[] | null;
  Volumes: unknown[] | null;
  /** Always empty: kuber-api builds nothing (dockerd with an empty build cache sends []). */
  BuildCache: unknown[];
}

/** One GET /images/{name}/history entry (moby image.HistoryResponseItem), newest first. */
export interface HistoryEntry {
  Id: string;
  Created: number;
  CreatedBy: string;
  Tags: string[] | null;
  Size: number;
  Comment: string;
}

/** The source of a container's stats samples (engine/stats). */
export interface StatsReader {
  /** One sample: moby's StatsResponse JSON for the API version asked. */
  sample(): Promise<Record<string, unknown>>;
  /** Whether the container still runs (a stream ends when it stops, as dockerd's does). */
  running(): boolean;
}

export interface InventoryBackend {
  /** GET /system/df?type=...: the types asked for (all when none). */
  diskUsage(types: ReadonlySet<DiskUsageType>, apiVersion: string): Promise<DiskUsage>;
  /** GET /images/{name}/history: 404 "No such image: <name>" as moby. */
  imageHistory(name: string): Promise<HistoryEntry[]>;
  /**
   * GET /containers/{name}/stats: a reader of samples (404 for an unknown container first; 501
   * when the cluster serves no metrics API).
   */
  containerStats(nameOrId: string, apiVersion: string): Promise<StatsReader>;
}
