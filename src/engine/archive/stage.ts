/**
 * @module engine/archive/stage
 * Archives copied into a container that is not running are kept in Kubernetes until it starts:
 * the normalised tar is cut into chunks below the 1 MiB object limit, each an immutable
 * ConfigMap (`kapi-<id12>-s<seq>-<k>`, `binaryData.data`) owned by the container's record (GC
 * removes them with it), labelled `kuber-api.io/kind=archive` (so the record cache never holds
 * them). The archive counts once its entry is committed into the record's `data["staged.json"]`
 * (a compare-and-swap on the record's resourceVersion), which also orders the archives: at every
 * start, engine/archive/plan.ts turns the list into an init container and subPath mounts.
 * A failed copy deletes the chunks it wrote; chunks of a copy cut short by a crash carry a
 * sequence number no entry names, and are replaced by the next copy or collected with the record.
 */
import { notImplemented, EngineError } from '../../errors.js';
import { isAmbiguous, isConflict, isNotFound } from '../../kube/client.js';
import type { KObject } from '../../kube/cache.js';
import { kubeError } from '../../kube/errors.js';
import type { ArchiveHost } from './host.js';
import { writeChunkObject } from './chunk-object.js';
import type { ArchiveStager } from './archive.js';
import {
  chunkObjectName,
  compactMembers,
  finalTree,
  stagedMounts,
  type StagedArchive,
  type StagedManifest,
  type StagedSource,
} from './plan.js';
import type { ArchiveMember } from './tar/index.js';
import type { ContainerRecord } from '../model/types.js';

export const STAGED_KEY = 'staged.json';
/** Raw bytes per chunk object: a ConfigMap's data + binaryData may hold 1 MiB (core validation, MaxSecretSize), with room to spare. */
export const CHUNK_BYTES = 1016 * 1024;

export interface StageOptions {
  /** Staged bytes (normalised tar) per container, all copies together. */
  maxBytes: number;
  /** Mounts the staged files may need in the container. */
  maxFiles: number;
  /**
   * Staged bytes of all the instance's containers together: they live in etcd, whose whole
   * database is bounded (kube-apiserver's etcd --quota-backend-bytes, 2 GiB by default).
   */
  budgetBytes: number;
}

export function emptyManifest(): StagedManifest {
  return { v: 1, archives: [] };
}

/** The record's staged archives (none when the key is absent or unreadable). */
export function manifestOf(recordObject: KObject | undefined): StagedManifest {
  const raw = (recordObject as { data?: Record<string, string> } | undefined)?.data?.[STAGED_KEY];
  if (!raw) return emptyManifest();
  try {
    const m = JSON.parse(raw) as StagedManifest;
    return m && Array.isArray(m.archives) ? m : emptyManifest();
  } catch {
    return emptyManifest();
  }
}

/** The sources the init container extracts, in order. */
export function stagedSources(recordName: string, m: StagedManifest): StagedSource[] {
  return m.archives.map((a) => ({
    dir: `a${a.seq}`,
    kind: 's' as const,
    seq: a.seq,
    objects: Array.from({ length: a.chunks }, (_, k) => chunkObjectName(recordName, a.seq, k)),
  }));
}

export class ArchiveStage implements ArchiveStager {
  constructor(
    private readonly engine: ArchiveHost,
    private readonly opts: StageOptions,
  ) {}

  manifest(rec: ContainerRecord): StagedManifest {
    return manifestOf(this.engine.index.records.get(rec.object.name));
  }

  /** Commits of staged archives, one at a time: each checks the instance budget against the others. */
  private commits: Promise<unknown> = Promise.resolve();

  /** Bytes still allowed for this container: its own bound, and what the instance budget has left. */
  remaining(rec: ContainerRecord): number {
    return Math.max(0, Math.min(this.ownRemaining(rec), this.opts.budgetBytes - this.stagedTotal()));
  }

  private ownRemaining(rec: ContainerRecord): number {
    return this.opts.maxBytes - this.manifest(rec).archives.reduce((n, a) => n + a.bytes, 0);
  }

  /** Staged bytes of every container of this instance (records of removed containers are gone with their chunks). */
  stagedTotal(except?: string): number {
    let n = 0;
    for (const obj of this.engine.index.records.list())
      if (obj.metadata.name !== except) for (const a of manifestOf(obj).archives) n += a.bytes;
    return n;
  }

  stagedKind(rec: ContainerRecord, absDir: string): 'dir' | 'other' | undefined {
    const tree = finalTree(this.manifest(rec).archives);
    const e = tree.get(absDir);
    if (e) return e.type === 'd' ? 'dir' : 'other';
    for (const k of tree.keys()) if (k.startsWith(`${absDir}/`)) return 'dir';
    return undefined;
  }

  tooLarge(rec: ContainerRecord): EngineError {
    if (this.opts.budgetBytes - this.stagedTotal() < this.ownRemaining(rec)) {
      return new EngineError(
        'too-large',
        `cannot copy into container ${rec.name}: it is not running, so kuber-api keeps the archive in Kubernetes (ConfigMaps, in etcd) until it starts, and the archives staged for all containers together may hold at most ${this.opts.budgetBytes} bytes (--archive-budget-bytes); start or remove containers with staged copies, or copy after docker start`,
      );
    }
    return new EngineError(
      'too-large',
      `cannot copy into container ${rec.name}: it is not running, so kuber-api keeps the archive in Kubernetes (ConfigMaps) until it starts, and the archives copied into one container may hold at most ${this.opts.maxBytes} bytes (--archive-max-bytes); copy large content after docker start, or into a volume`,
    );
  }

  async stage(
    rec: ContainerRecord,
    absPath: string,
    archive: AsyncIterable<Buffer>,
    members: ArchiveMember[],
  ): Promise<string[]> {
    const before = this.manifest(rec);
    const seq = before.archives.reduce((n, a) => Math.max(n, a.seq), 0) + 1;
    const written: string[] = [];
    try {
      let parts: Buffer[] = [];
      let len = 0;
      let bytes = 0;
      const flush = async (n: number) => {
        const all = Buffer.concat(parts, len);
        const chunk = all.subarray(0, n);
        parts = n < all.length ? [all.subarray(n)] : [];
        len -= n;
        written.push(await this.writeChunk(rec, seq, written.length, chunk));
      };
      for await (const b of archive) {
        parts.push(b);
        len += b.length;
        bytes += b.length;
        while (len >= CHUNK_BYTES) await flush(CHUNK_BYTES);
      }
      if (len > 0 || written.length === 0) await flush(len);
      const entry: StagedArchive = {
        seq,
        path: absPath.replace(/\/\.$/, '').replace(/(.)\/+$/, '$1'),
        chunks: written.length,
        bytes,
        members: compactMembers(members),
      };
      const commit = this.commits.then(() => this.commit(rec, entry));
      this.commits = commit.catch(() => {});
      await commit;
      return written;
    } catch (err) {
      await Promise.all(
        written.map((name) =>
          this.engine.kube.client.delete(this.engine.kube.path('configmaps', name)).catch(() => {}),
        ),
      );
      throw err;
    }
  }

  /** Check what the container's mounts would be with `entry` added (501 for what cannot be mounted). */
  private check(rec: ContainerRecord, archives: StagedArchive[]): void {
    const { mounts, problems } = stagedMounts(archives);
    if (problems.length) {
      throw notImplemented(
        `cannot copy into container ${rec.name} before it starts: ${problems.slice(0, 3).join('; ')}${problems.length > 3 ? ` (and ${problems.length - 3} more)` : ''}. On Kubernetes, files copied before start are mounted one by one into the container (kuber-api cannot write into the image's filesystem), and only regular files, directories and links to copied files can be; copy this after docker start instead`,
      );
    }
    if (mounts.length > this.opts.maxFiles) {
      throw new EngineError(
        'too-large',
        `cannot copy into container ${rec.name} before it starts: the copied files would need ${mounts.length} mounts, more than ${this.opts.maxFiles} (--archive-max-files); copy them after docker start, or as one archive of a new directory`,
      );
    }
  }

  private async writeChunk(rec: ContainerRecord, seq: number, k: number, data: Buffer): Promise<string> {
    const name = chunkObjectName(rec.object.name, seq, k);
    const e = this.engine;
    await writeChunkObject(e.kube, e.opts.instance, rec, { name, kind: 'archive', doing: 'staging the archive' }, data);
    return name;
  }

  /** Append `entry` to the record's manifest: merge patch with the resourceVersion as precondition. */
  private async commit(rec: ContainerRecord, entry: StagedArchive): Promise<void> {
    const e = this.engine;
    for (let attempt = 0; ; attempt++) {
      const cur = e.index.records.get(rec.object.name);
      if (!cur) throw kubeError(new Error('the container was removed'), 'staging the archive');
      const m = manifestOf(cur);
      const archives = [...m.archives.filter((a) => a.seq !== entry.seq), entry];
      this.check(rec, archives);
      // The budget, with every other container's staged bytes as committed (commits are serialised).
      if (this.stagedTotal(rec.object.name) + archives.reduce((n, a) => n + a.bytes, 0) > this.opts.budgetBytes)
        throw this.tooLarge(rec);
      const patch = {
        metadata: { resourceVersion: cur.metadata.resourceVersion },
        data: { [STAGED_KEY]: JSON.stringify({ v: 1, archives } satisfies StagedManifest) },
      };
      try {
        const obj = await e.kube.client.mergePatch<KObject>(e.kube.path('configmaps', rec.object.name), patch);
        e.index.records.observe(obj);
        return;
      } catch (err) {
        if (isNotFound(err)) throw kubeError(err, 'staging the archive: the container was removed');
        // Ambiguous (the write may have landed): re-read; entries are keyed by seq, so writing it again is harmless.
        if (!(isConflict(err) || isAmbiguous(err)) || attempt >= 5)
          throw kubeError(err, 'recording the staged archive');
        const fresh = await e.kube.client
          .get<KObject>(e.kube.path('configmaps', rec.object.name))
          .catch(() => undefined);
        if (fresh) e.index.records.observe(fresh);
      }
    }
  }
}
