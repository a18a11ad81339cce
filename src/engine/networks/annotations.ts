/**
 * @module engine/networks/annotations
 * Read and write the annotations networks and published ports keep on a container's record
 * (`kuber-api.io/networks`, `kuber-api.io/ports`). Writes are merge patches with the record's
 * resourceVersion as precondition (a stale write fails with 409 and is retried on a fresh copy),
 * like the engine's state updates; the other annotations are left as they are.
 */
import { notFound } from '../../errors.js';
import { isAmbiguous, isConflict, isNotFound } from '../../kube/client.js';
import type { KObject } from '../../kube/cache.js';
import type { RecordHost } from './host.js';
import { kubeError } from '../../kube/errors.js';
import type { ContainerRecord } from '../model/types.js';

/** An annotation of a record, as the watch cache holds it. */
export function recordAnnotation(e: RecordHost, rec: ContainerRecord, key: string): string | undefined {
  return e.index.records.get(rec.object.name)?.metadata.annotations?.[key];
}

/**
 * Set annotations of container `id` to what `compute(rec)` returns (undefined: nothing to write),
 * as a compare-and-swap; returns the record as written (or as it was when nothing changed).
 */
export async function patchRecordAnnotations(
  e: RecordHost,
  id: string,
  compute: (rec: ContainerRecord) => Record<string, string | null> | undefined,
): Promise<ContainerRecord> {
  for (let attempt = 0; ; attempt++) {
    const rec = e.index.get(id);
    if (!rec) throw notFound(`No such container: ${id}`);
    const annotations = compute(rec);
    if (!annotations) return rec;
    try {
      const obj = await e.kube.client.mergePatch<KObject>(e.kube.path('configmaps', rec.object.name), {
        metadata: { resourceVersion: rec.object.resourceVersion, annotations },
      });
      e.index.records.observe(obj);
      return e.index.get(id) ?? rec;
    } catch (err) {
      if (isNotFound(err)) throw notFound(`No such container: ${id}`);
      // Ambiguous (the write may have landed): re-read and compute again; what it yields is the same.
      if (!(isConflict(err) || isAmbiguous(err)) || attempt >= 5) throw kubeError(err, 'updating the container record');
      const fresh = await e.kube.client.get<KObject>(e.kube.path('configmaps', rec.object.name)).catch(() => undefined);
      if (fresh) e.index.records.observe(fresh);
    }
  }
}
