/**
 * @module engine/archive/chunk-object
 * One chunk of a staged tar as an immutable ConfigMap (binaryData `data`), owned by the container's
 * record so that Kubernetes' garbage collector removes it with the container. Both `docker cp`
 * before start (archive/stage.ts) and bind-mount snapshots (volumes/bind-stage.ts) store their
 * tars this way; the Pod mounts the chunks (archive/plan.ts).
 */
import { isAlreadyExists } from '../../kube/client.js';
import { kubeError } from '../../kube/errors.js';
import type { Kube } from '../../kube/index.js';
import { shortId } from '../model/ids.js';
import { LABEL_CONTAINER, LABEL_INSTANCE, LABEL_KIND, LABEL_MANAGED_BY } from '../model/record.js';
import type { ContainerRecord } from '../model/types.js';
import { recordOwnerRef } from '../model/owner.js';

export interface ChunkObject {
  /** The ConfigMap's name (archive/plan.ts chunkObjectName). */
  name: string;
  /** Its kind label: a `docker cp` archive or a bind-mount snapshot. */
  kind: 'archive' | 'bind';
  /** What the chunk is for, in the error when Kubernetes refuses it ("staging the archive"). */
  doing: string;
}

/**
 * Create the chunk. A ConfigMap of the same name is a leftover (a copy that never committed, a
 * create retried after a 5xx, the previous start's snapshot): immutable, so it is replaced.
 */
export async function writeChunkObject(
  kube: Kube,
  instance: string,
  rec: ContainerRecord,
  chunk: ChunkObject,
  data: Buffer,
): Promise<void> {
  const { name } = chunk;
  const obj = {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: {
      name,
      namespace: kube.namespace,
      labels: {
        [LABEL_INSTANCE]: instance,
        [LABEL_KIND]: chunk.kind,
        [LABEL_CONTAINER]: shortId(rec.id),
        [LABEL_MANAGED_BY]: 'kuber-api',
      },
      ownerReferences: [recordOwnerRef(rec.object)],
    },
    immutable: true,
    binaryData: { data: data.toString('base64') },
  };
  const refused = (err: unknown) => kubeError(err, `${chunk.doing} (ConfigMap ${name})`);
  try {
    await kube.client.create(kube.path('configmaps'), obj);
  } catch (err) {
    if (!isAlreadyExists(err)) throw refused(err);
    await kube.client.delete(kube.path('configmaps', name)).catch(() => {});
    await kube.client.create(kube.path('configmaps'), obj).catch((err2) => {
      throw refused(err2);
    });
  }
}
