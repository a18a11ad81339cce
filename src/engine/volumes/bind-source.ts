/**
 * @module engine/volumes/bind-source
 * A bind mount's source, read from kuber-api's own filesystem. The docker CLI sends only paths, so
 * the source is where the client is: in a CI job pod that works when the job's build directory is
 * mounted into kuber-api's container at the same path (README "Bind mounts").
 * - `checkBindSource` runs at `docker create`: dockerd's errors (moby daemon/volumes_unix.go and
 *   volume/mounts/linux_parser.go: a `--mount` bind source that does not exist is
 *   `invalid mount config for type "bind": bind source path does not exist: <path>`; a `-v` bind
 *   whose source does not exist is created as a directory, as dockerd does), the Docker socket
 *   refused with the reason, sockets/devices refused.
 * - `walkSource` lists what a snapshot holds (for the size limit) and `tarStream` writes it as a
 *   tar (the members relative to the source: `.` and below for a directory, the file's base name
 *   for a file), with numeric owners and modes as on disk.
 */
import { lstat, mkdir, open, readdir, readlink, stat } from 'node:fs/promises';
import { posix } from 'node:path';
import { EngineError, invalid } from '../../errors.js';
import { encodeHeader, END_OF_ARCHIVE, padding, type TarEntry } from '../archive/tar/index.js';

const DOCKER_SOCKETS = new Set(['/var/run/docker.sock', '/run/docker.sock']);
const READ_CHUNK = 256 * 1024;

export interface BindCheck {
  /** kuber-api runs in a cluster (as the CI job's sidecar): a missing source is most likely not shared with it. */
  inCluster: boolean;
}

function notVisible(path: string, inCluster: boolean): string {
  return inCluster
    ? ` (kuber-api reads bind sources from its own filesystem; in a CI job, mount the build directory into kuber-api's container at the same path: see the README, "Bind mounts")`
    : '';
}

/** Check (and for `-v`, create) a bind source at create time. */
export async function checkBindSource(source: string, fromBinds: boolean, opts: BindCheck): Promise<void> {
  if (DOCKER_SOCKETS.has(source)) {
    throw invalid(
      `bind-mounting the Docker socket (${source}) is not supported by kuber-api: the container runs in a Kubernetes Pod, which cannot reach the Docker API kuber-api serves on its own socket, and a bind mount is a copy of the source, not a live file`,
    );
  }
  let st;
  try {
    st = await stat(source);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT')
      throw invalid(
        `invalid mount config for type "bind": cannot read bind source ${source}: ${(err as Error).message}`,
      );
    if (fromBinds && !opts.inCluster) {
      // moby daemon/volumes_unix.go (createIfNotExists for Binds): `-v` creates a missing source directory.
      await mkdir(source, { recursive: true }).catch((e: Error) => {
        throw invalid(`error while creating mount source path '${source}': ${e.message}`);
      });
      return;
    }
    throw invalid(
      `invalid mount config for type "bind": bind source path does not exist: ${source}${notVisible(source, opts.inCluster)}`,
    );
  }
  if (st.isSocket() || st.isCharacterDevice() || st.isBlockDevice() || st.isFIFO()) {
    throw invalid(
      `bind source ${source} is a ${st.isSocket() ? 'socket' : st.isFIFO() ? 'named pipe' : 'device'}: kuber-api copies bind sources into the Pod, and only files and directories can be copied`,
    );
  }
}

export interface SourceEntry {
  /** Path relative to the source's parent view: '.' and './x' for a directory, the base name for a file. */
  name: string;
  abs: string;
  type: 'file' | 'dir' | 'symlink';
  size: number;
  mode: number;
  uid: number;
  gid: number;
  mtime: number;
  link?: string;
}

/** Everything a snapshot of `source` holds, depth first; sockets and devices inside are skipped. */
export async function walkSource(source: string): Promise<{ entries: SourceEntry[]; bytes: number; isDir: boolean }> {
  const root = await stat(source);
  const entries: SourceEntry[] = [];
  let bytes = 0;
  const add = async (abs: string, name: string, follow: boolean) => {
    const st = follow ? await stat(abs) : await lstat(abs);
    const base = {
      name,
      abs,
      size: 0,
      mode: st.mode & 0o7777,
      uid: st.uid,
      gid: st.gid,
      mtime: Math.floor(st.mtimeMs / 1000),
    };
    if (st.isSymbolicLink()) {
      entries.push({ ...base, type: 'symlink', link: await readlink(abs) });
    } else if (st.isDirectory()) {
      entries.push({ ...base, type: 'dir' });
      for (const child of (await readdir(abs)).sort()) await add(posix.join(abs, child), `${name}/${child}`, false);
    } else if (st.isFile()) {
      entries.push({ ...base, type: 'file', size: st.size });
      bytes += st.size + 1024;
    }
  };
  await add(source, root.isDirectory() ? '.' : posix.basename(source), true);
  return { entries, bytes, isDir: root.isDirectory() };
}

export function bindTooLarge(source: string, bytes: number, max: number): EngineError {
  return new EngineError(
    'too-large',
    `bind source ${source} holds about ${bytes} bytes, more than kuber-api copies into a container at start (${max} bytes in all, --bind-max-bytes); raise --bind-max-bytes, or use a named volume for large content`,
  );
}

/** The snapshot as a tar stream (files read in chunks; a file that shrank meanwhile is padded). */
export async function* tarStream(entries: SourceEntry[]): AsyncGenerator<Buffer> {
  for (const e of entries) {
    const header: TarEntry = {
      name: e.type === 'dir' ? `${e.name}/` : e.name,
      type: e.type,
      mode: e.mode,
      uid: e.uid,
      gid: e.gid,
      size: e.type === 'file' ? e.size : 0,
      mtime: e.mtime,
      linkname: e.link ?? '',
      uname: '',
      gname: '',
      devmajor: 0,
      devminor: 0,
    };
    yield encodeHeader(header);
    if (e.type !== 'file' || e.size === 0) continue;
    const fh = await open(e.abs, 'r');
    try {
      let left = e.size;
      while (left > 0) {
        const buf = Buffer.alloc(Math.min(READ_CHUNK, left));
        const { bytesRead } = await fh.read(buf, 0, buf.length, e.size - left);
        if (bytesRead === 0) {
          yield Buffer.alloc(left);
          break;
        }
        left -= bytesRead;
        yield buf.subarray(0, bytesRead);
      }
    } finally {
      await fh.close();
    }
    yield padding(e.size);
  }
  yield END_OF_ARCHIVE;
}
