/**
 * @module engine/archive/archive
 * `docker cp` (moby daemon/archive*.go: ContainerStatPath, ContainerArchivePath,
 * ContainerExtractToDir) on Kubernetes, by the container's state:
 * - running: through pods/exec in the container (engine/archive/pod.ts): `stat`, `tar -c`, `tar -x`;
 * - created, or stopped (PUT): the archive is staged in Kubernetes (engine/archive/stage.ts) and
 *   delivered at every start by an init container, before the entrypoint runs: the container is
 *   never started early;
 * - created (HEAD/GET): an inspector pod of the same image with the staged archives and volumes
 *   (engine/archive/inspector.ts) answers, since a created container has no process to ask;
 * - stopped (HEAD/GET): a 501 saying why: Kubernetes cannot read a terminated container's
 *   filesystem (dockerd reads its writable layer), and the next run starts from the image again.
 * Every archive goes through engine/archive/tar's normaliser first (moby's name cleaning and breakout
 * checks, numeric owners, copyUIDGID), which also rejects a malformed one before anything is kept.
 */
import { EngineError, invalid, systemError } from '../../errors.js';
import { containerPath, isDirMode, isSymlinkMode } from './stat.js';
import { archiveFromPod, extractInPod, statInPod, type CopyContext } from './pod.js';
import type { ExecTarget } from './exec.js';
import { decompress, normaliseTar, TarFormatError, type ArchiveMember } from './tar/index.js';
import { mainStatus } from '../model/state.js';
import { parseUser, CONTAINER_NAME } from '../model/translate.js';
import type { ContainerRecord } from '../model/types.js';
import type { ArchiveHost } from './host.js';
import type { PathStat } from '../backend/archive.js';
import type { PutArchiveOptions, ContainerArchive, ArchiveBackend } from '../backend/archive.js';

/** What the staging side offers the service (engine/archive/stage.ts). */
export interface ArchiveStager {
  /** Keep a normalised archive for the container's next starts; resolves once it is committed, with its chunk objects. */
  stage(
    rec: ContainerRecord,
    absPath: string,
    archive: AsyncIterable<Buffer>,
    members: ArchiveMember[],
  ): Promise<string[]>;
  /** Bytes that may still be staged for the container (a limit over all its copies). */
  remaining(rec: ContainerRecord): number;
  /** What the staged archives alone say about `absDir`: a directory, something else, or nothing. */
  stagedKind(rec: ContainerRecord, absDir: string): 'dir' | 'other' | undefined;
  tooLarge(rec: ContainerRecord): EngineError;
}

/** Reads of a container that has no running process (engine/archive/inspector.ts). */
export interface ArchiveInspector {
  stat(rec: ContainerRecord, c: CopyContext, signal?: AbortSignal): Promise<PathStat>;
  archive(rec: ContainerRecord, c: CopyContext, signal: AbortSignal): Promise<ContainerArchive>;
  /** A copy was staged: bring a running inspector up to date (never fails the copy). */
  staged(rec: ContainerRecord, dir: string, chunks: string[]): Promise<void>;
}

export class ArchiveService implements ArchiveBackend {
  stager?: ArchiveStager;
  inspector?: ArchiveInspector;

  constructor(private readonly engine: ArchiveHost) {}

  /** The running Pod of the container, if its main container runs now. */
  private runningTarget(rec: ContainerRecord): ExecTarget | undefined {
    const pod = this.engine.index.currentPod(rec);
    if (!pod || !mainStatus(pod)?.state?.running || pod.metadata.deletionTimestamp) return undefined;
    return {
      dialer: this.engine.kube.dialer,
      namespace: this.engine.namespace,
      pod: pod.metadata.name,
      container: CONTAINER_NAME,
      highWaterBytes: this.engine.opts.archiveExecHighWaterBytes,
    };
  }

  /**
   * Before staging: moby's checks of the extraction point (it must exist, 404, and be a directory,
   * 400), answered from the staged archives when they hold it, else from the image through the
   * inspector pod (the docker CLI has just stat-ed the destination, so it is usually running).
   * When the inspector cannot run at all, the copy is staged anyway: the kubelet creates missing
   * directories, which is more lenient than dockerd, never stricter.
   */
  private async checkExtractionPoint(rec: ContainerRecord, c: CopyContext, stager: ArchiveStager): Promise<void> {
    const dir = extractionDir(c);
    if (dir === '/') return;
    const staged = stager.stagedKind(rec, dir);
    if (staged === 'dir') return;
    if (staged === 'other') throw invalid('extraction point is not a directory');
    // A stopped container's next run starts from the image again; only a created one is inspected.
    if (!this.inspector || this.engine.stateOf(rec).Status !== 'created') return;
    let st: PathStat;
    try {
      st = await this.inspector.stat(rec, { ...c, abs: dir });
      // moby follows symlinks to the extraction point (filepath.EvalSymlinks).
      if (isSymlinkMode(st.mode) && st.linkTarget) st = await this.inspector.stat(rec, { ...c, abs: st.linkTarget });
    } catch (err) {
      if (err instanceof EngineError && err.category === 'not-found') throw err;
      this.engine.log.warn(
        { err: (err as Error).message, container: rec.id },
        'docker cp before start: the extraction point could not be checked; staging anyway',
      );
      return;
    }
    if (!isDirMode(st.mode)) throw invalid('extraction point is not a directory');
  }

  private context(nameOrId: string, path: string): CopyContext {
    return { name: nameOrId, path, abs: containerPath(path) };
  }

  private event(rec: ContainerRecord, action: string): void {
    this.engine.events.container(this.engine.eventSource(rec), action);
  }

  async statContainerPath(nameOrId: string, path: string): Promise<PathStat> {
    const rec = this.engine.index.resolve(nameOrId);
    const c = this.context(nameOrId, path);
    const t = this.runningTarget(rec);
    if (t) return statInPod(t, c);
    if (!this.inspector) throw notRunning(rec);
    return this.inspector.stat(rec, c);
  }

  async getContainerArchive(nameOrId: string, path: string, signal: AbortSignal): Promise<ContainerArchive> {
    const rec = this.engine.index.resolve(nameOrId);
    const c = this.context(nameOrId, path);
    const t = this.runningTarget(rec);
    let a: ContainerArchive;
    if (t) a = await archiveFromPod(t, c, signal);
    else if (this.inspector) a = await this.inspector.archive(rec, c, signal);
    else throw notRunning(rec);
    this.event(rec, 'archive-path');
    return a;
  }

  async putContainerArchive(
    nameOrId: string,
    path: string,
    opts: PutArchiveOptions,
    body: AsyncIterable<Buffer>,
  ): Promise<void> {
    const rec = this.engine.index.resolve(nameOrId);
    const c = this.context(nameOrId, path);
    readOnlyRootfs(rec, c);
    const chown = opts.copyUIDGID ? chownOf(rec) : undefined;
    const members: ArchiveMember[] = [];
    // The lock: a start waits for a copy being staged (and a copy for a start), as moby's container
    // lock does; a staged archive is then either in this run or in the next one. A copy into a
    // running container only decides under the lock: the upload itself streams through tar in the
    // container without it, so a stop or a remove never waits for a slow or large upload (the
    // container stopping ends the copy with an error).
    const running = await this.engine.withLock(rec.id, async () => {
      const cur = this.engine.index.get(rec.id) ?? rec;
      const t = this.runningTarget(cur);
      if (t) return t;
      try {
        if (!this.stager) throw notRunning(cur);
        const stager = this.stager;
        await this.checkExtractionPoint(cur, c, stager);
        const archive = normaliseTar(
          decompress(body),
          { chown, dest: extractionDir(c), maxBytes: stager.remaining(cur), tooLarge: () => stager.tooLarge(cur) },
          members,
        );
        const chunks = await stager.stage(cur, c.abs, archive, members);
        await this.inspector?.staged(this.engine.index.get(rec.id) ?? cur, extractionDir(c), chunks);
      } catch (err) {
        throw archiveError(err);
      }
      return undefined;
    });
    if (running) {
      // Streamed: no member list is kept (nothing is mounted), and one copy holds at most --archive-upload-max-bytes.
      const max = this.engine.opts.archiveUploadMaxBytes;
      const tooLarge = () =>
        new EngineError(
          'too-large',
          `cannot copy into container ${rec.name}: the archive holds more than ${max} bytes (--archive-upload-max-bytes)`,
        );
      try {
        await extractInPod(
          running,
          c,
          normaliseTar(decompress(body), { chown, dest: extractionDir(c), maxBytes: max, tooLarge }, { push: () => 0 }),
        );
      } catch (err) {
        throw archiveError(err);
      }
    }
    this.event(rec, 'extract-to-dir');
  }
}

/** The extraction directory: the cleaned path without a trailing "/" or "/.". */
function extractionDir(c: CopyContext): string {
  return c.abs.replace(/\/\.$/, '').replace(/(.)\/+$/, '$1') || '/';
}

/**
 * moby containerExtractToDir: a read-only root filesystem refuses copies outside volumes (400);
 * tmpfs mounts are the only writable places kuber-api gives such a container yet.
 */
function readOnlyRootfs(rec: ContainerRecord, c: CopyContext): void {
  const hc = rec.config.HostConfig as { ReadonlyRootfs?: boolean; Tmpfs?: Record<string, string> | null } | undefined;
  if (!hc?.ReadonlyRootfs) return;
  const dir = extractionDir(c);
  const inTmpfs = Object.keys(hc.Tmpfs ?? {}).some((m) => dir === m || dir.startsWith(`${m.replace(/\/+$/, '')}/`));
  if (!inTmpfs) throw invalid('container rootfs is marked read-only');
}

/** copyUIDGID: moby chowns to the container's user (tarCopyOptions); no user means the archive's own ids. */
function chownOf(rec: ContainerRecord): { uid: number; gid: number } | undefined {
  const u = parseUser(rec.config.User);
  if (u.uid === undefined) return undefined;
  return { uid: u.uid, gid: u.gid ?? 0 };
}

/** A malformed archive is a 500 with archive/tar's message, as moby answers. */
export function archiveError(err: unknown): unknown {
  if (err instanceof EngineError) return err;
  if (err instanceof TarFormatError) return systemError(err.message, err);
  if (err instanceof Error && /^(gzip|bzip2|xz|zstd):/.test(err.message))
    return invalid(`the archive could not be decompressed: ${err.message}`, err);
  return err;
}

function notRunning(rec: ContainerRecord): EngineError {
  return systemError(
    `container ${rec.id.slice(0, 12)} is not running: kuber-api copies files through the running container`,
  );
}
