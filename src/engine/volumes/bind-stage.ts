/**
 * @module engine/volumes/bind-stage
 * At each start, every bind source is snapshotted into Kubernetes the way archives copied before
 * start are (engine/archive/stage.ts): the tar is cut into immutable ConfigMaps below the 1 MiB
 * object limit (`kapi-<id12>-b<i>-<k>`, label `kuber-api.io/kind=bind`, owned by the record so GC
 * removes them with the container), which the staging init container (engine/archive/plan.ts
 * stagingPodParts) extracts into the Pod's `kapi-staged` emptyDir under `b<i>/`; the main
 * container mounts that directory (or file) at the bind's target. A new start replaces the chunks.
 */
import { invalid } from '../../errors.js';
import type { Kube } from '../../kube/index.js';
import { chunkObjectName, type StagedSource } from '../archive/plan.js';
import { CHUNK_BYTES } from '../archive/stage.js';
import { writeChunkObject } from '../archive/chunk-object.js';
import type { ContainerRecord } from '../model/types.js';
import { bindTooLarge, tarStream, walkSource, type SourceEntry } from './bind-source.js';
import type { MountPoint } from './spec.js';

export interface StagedBind {
  source: StagedSource;
  /** subPath in the staged emptyDir that the target mounts: `b<i>` (a directory) or `b<i>/<name>` (a file). */
  subPath: string;
  mount: MountPoint;
}

/** Snapshot the binds of `rec` (mount index i -> sequence i) into chunk ConfigMaps. */
export async function stageBinds(
  kube: Kube,
  instance: string,
  rec: ContainerRecord,
  binds: Array<{ i: number; mount: MountPoint }>,
  maxBytes: number,
): Promise<StagedBind[]> {
  const walked: Array<{ i: number; mount: MountPoint; entries: SourceEntry[]; isDir: boolean }> = [];
  let total = 0;
  for (const b of binds) {
    const w = await walkSource(b.mount.source).catch((err: NodeJS.ErrnoException) => {
      throw invalid(`bind source path ${b.mount.source} cannot be read by kuber-api: ${err.message}`);
    });
    total += w.bytes;
    if (total > maxBytes) throw bindTooLarge(b.mount.source, w.bytes, maxBytes);
    walked.push({ ...b, entries: w.entries, isDir: w.isDir });
  }
  const out: StagedBind[] = [];
  for (const w of walked) {
    const objects = await writeChunks(kube, instance, rec, w.i, tarStream(w.entries));
    out.push({
      source: { dir: `b${w.i}`, kind: 'b', seq: w.i, objects },
      subPath: w.isDir ? `b${w.i}` : `b${w.i}/${w.entries[0]!.name}`,
      mount: w.mount,
    });
  }
  return out;
}

async function writeChunks(
  kube: Kube,
  instance: string,
  rec: ContainerRecord,
  seq: number,
  tar: AsyncIterable<Buffer>,
): Promise<string[]> {
  const names: string[] = [];
  let parts: Buffer[] = [];
  let len = 0;
  const flush = async (n: number) => {
    const all = Buffer.concat(parts, len);
    parts = n < all.length ? [all.subarray(n)] : [];
    len -= n;
    names.push(await writeChunk(kube, instance, rec, seq, names.length, all.subarray(0, n)));
  };
  for await (const b of tar) {
    parts.push(b);
    len += b.length;
    while (len >= CHUNK_BYTES) await flush(CHUNK_BYTES);
  }
  if (len > 0 || names.length === 0) await flush(len);
  return names;
}

async function writeChunk(
  kube: Kube,
  instance: string,
  rec: ContainerRecord,
  seq: number,
  k: number,
  data: Buffer,
): Promise<string> {
  const name = chunkObjectName(rec.object.name, seq, k, 'b');
  await writeChunkObject(kube, instance, rec, { name, kind: 'bind', doing: 'snapshotting a bind mount' }, data);
  return name;
}
