/**
 * @module engine/model/image-names
 * Small image-reference helpers used across the engine (events, list filters, views). The image
 * family itself lives in engine/images/service.ts (registry-backed metadata kept in Kubernetes).
 */
import { normaliseRef, familiarRef } from './image-ref.js';
import { createHash } from 'node:crypto';

/** `busybox` -> `docker.io/library/busybox:latest` (distribution/reference ParseNormalizedNamed). */
export function normaliseImage(ref: string): string {
  try {
    return normaliseRef(ref);
  } catch {
    return ref.trim();
  }
}

/** The familiar short form Docker prints (`busybox:latest`, `myorg/app:1`, `ghcr.io/x/y:z`). */
export function familiarImage(ref: string): string {
  try {
    return familiarRef(ref);
  } catch {
    return ref.trim();
  }
}

/**
 * The ID of an image known only by its reference (no config read): a digest of the normalised
 * reference, stable across restarts (a digest reference uses its digest). Containers created
 * from images with a config carry the config digest instead (ContainerRecord.image.id).
 */
export function imageId(ref: string): string {
  const n = normaliseImage(ref);
  const d = /@(sha256:[0-9a-f]{64})$/.exec(n);
  if (d) return d[1]!;
  return recordedId(n);
}

/**
 * Whether `filter` (name, name:tag, ID or ID prefix) designates image `ref` (the ps ancestor
 * filter); `id` is the container's image ID when known.
 */
export function imageMatches(filter: string, ref: string, id: string = imageId(ref)): boolean {
  const f = filter.trim();
  if (/^(sha256:)?[0-9a-f]{4,64}$/.test(f)) {
    const hex = f.replace(/^sha256:/, '');
    if (id.slice(7).startsWith(hex)) return true;
  }
  // Without an image graph, "made from" means "made from this very reference" (busybox ==
  // busybox:latest == docker.io/library/busybox:latest).
  return normaliseImage(f) === normaliseImage(ref);
}

/** A stable ID for an image known only by its reference (no config could be read). */
export function recordedId(normalisedRef: string): string {
  return `sha256:${createHash('sha256').update(normalisedRef).digest('hex')}`;
}
