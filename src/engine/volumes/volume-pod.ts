/**
 * @module engine/volumes/volume-pod
 * What a container's storage adds to its Pod (pure): the volumes, the main container's mounts and
 * the init containers, from the staged archives (engine/archive/plan.ts), the bind-mount snapshots
 * and the Docker volumes/tmpfs mounts of the create body (engine/volume-spec.ts). translate.ts
 * appends the result to the Pod it builds; this is the one seam between them.
 */
import type { PodStorage } from '../model/translate.js';
import type { Level } from '../../kube/pod-security/index.js';
import { stagedMounts, stagingPodParts, STAGE_VOLUME, type StagedManifest, type StagedSource } from '../archive/plan.js';

export type { PodStorage };

export const NO_STORAGE: PodStorage = Object.freeze({ volumes: [], mounts: [], initContainers: [] }) as PodStorage;

export interface StorageInput {
  /** The staged archives (engine/archive/stage.ts) and their chunk objects. */
  manifest: StagedManifest;
  sources: StagedSource[];
  helperImage: string;
  imagePullPolicy: string;
  /** The Pod Security level the Pod must pass, and the user helpers run as when not root (engine/model/security.ts). */
  securityLevel?: Level;
  helperUid?: number;
}

export function podStorage(input: StorageInput): PodStorage {
  const out: PodStorage = { volumes: [], mounts: [], initContainers: [] };
  const parts = stagingPodParts(input.sources, input.helperImage, input.imagePullPolicy, input.securityLevel ?? 'baseline', input.helperUid);
  if (parts) {
    out.volumes.push(...parts.volumes);
    out.initContainers.push(parts.initContainer);
    for (const m of stagedMounts(input.manifest.archives).mounts) out.mounts.push({ name: STAGE_VOLUME, mountPath: m.mountPath, subPath: m.subPath });
  }
  return out;
}
