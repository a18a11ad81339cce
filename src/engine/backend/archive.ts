/**
 * @module engine/backend/archive
 * The `docker cp` seam types (moby api/server/router/container/backend.go copyBackend;
 * api/types/container PathStat). engine/archive implements them.
 */
import type { Writable } from 'node:stream';

/** What the `X-Docker-Container-Path-Stat` header carries (moby api/types/container PathStat). */
export interface PathStat {
  name: string;
  size: number;
  mode: number;
  mtime: string;
  linkTarget: string;
}

/** PUT /containers/{id}/archive query (moby CopyToContainerOptions). */
export interface PutArchiveOptions {
  noOverwriteDirNonDir: boolean;
  copyUIDGID: boolean;
}

/** GET /containers/{id}/archive once the path is known to exist: its stat, then the tar stream. */
export interface ContainerArchive {
  stat: PathStat;
  pipe(sink: Writable): Promise<void>;
  abort(): void;
}

/** HEAD/GET/PUT /containers/{id}/archive (moby router/container backend.go copyBackend). */
export interface ArchiveBackend {
  /** 404 "Could not find the file <path> in container <name>". */
  statContainerPath(nameOrId: string, path: string): Promise<PathStat>;
  getContainerArchive(nameOrId: string, path: string, signal: AbortSignal): Promise<ContainerArchive>;
  putContainerArchive(
    nameOrId: string,
    path: string,
    opts: PutArchiveOptions,
    body: AsyncIterable<Buffer>,
  ): Promise<void>;
}
