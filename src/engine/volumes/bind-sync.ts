/**
 * @module engine/volumes/bind-sync
 * Writable bind mounts are copied back to their source when the container stops, so that a test
 * that writes reports into a bind-mounted directory finds them on the client's filesystem, as with
 * dockerd (where the container writes the source itself).
 *
 * A run with writable binds gets a sidecar `kapi-binds` (the helper image) that mounts the staged
 * emptyDir holding the snapshots and waits; when the main container has terminated (or just before
 * kuber-api has the kubelet kill it: `docker kill`, a `docker stop` past its timeout), kuber-api
 * runs `tar -c` of each writable bind in the sidecar (pods/exec) and writes the members into the
 * source on its own filesystem; then (after an exit) it tells the sidecar to end, and the Pod
 * completes. Files are added and overwritten, never deleted on the source (a file the container
 * deleted stays); owners are not changed (kuber-api writes as itself); members that would leave
 * the source (`..`, through a symlink) are skipped.
 */
import { chmod, lstat, mkdir, realpath, symlink, open } from 'node:fs/promises';
import { posix } from 'node:path';
import type { V1Container } from '@kubernetes/client-node';
import type { Logger } from '../../log.js';
import type { WsDialer } from '../../kube/ws-dialer.js';
import { ExecChannel, execFailure } from '../archive/exec.js';
import { STAGE_VOLUME } from '../archive/plan.js';
import { cleanMemberPath, readTar, type TarMember } from '../archive/tar/index.js';
import type { MountPoint } from './spec.js';

export const BIND_SIDECAR = 'kapi-binds';
const OUT = '/kapi/out';
const DONE = `${OUT}/.kapi-done`;

/** The sidecar that keeps the snapshots readable after the main container ends. */
export function bindSidecar(helperImage: string, pullPolicy: string): V1Container {
  return {
    name: BIND_SIDECAR,
    image: helperImage,
    imagePullPolicy: pullPolicy,
    command: ['sh', '-c', `trap 'exit 0' TERM; while [ ! -e ${DONE} ]; do sleep 1; done`],
    volumeMounts: [{ name: STAGE_VOLUME, mountPath: OUT }],
    // Reads whatever the container wrote, under any owner.
    securityContext: { runAsUser: 0, runAsGroup: 0 },
  };
}

export interface SyncTarget {
  dialer: WsDialer;
  namespace: string;
  pod: string;
  highWaterBytes: number;
  log: Logger;
}

/** The writable binds of a container with their mount index (the snapshot's `b<i>` directory). */
export function writableBinds(mounts: MountPoint[]): Array<{ i: number; mount: MountPoint }> {
  return mounts.map((mount, i) => ({ i, mount })).filter((b) => b.mount.type === 'bind' && !b.mount.readOnly);
}

/** Copy every writable bind back; `final` ends the sidecar afterwards. Errors are logged, not thrown. */
export async function syncBack(
  t: SyncTarget,
  binds: Array<{ i: number; mount: MountPoint }>,
  final: boolean,
): Promise<void> {
  const exec = {
    dialer: t.dialer,
    namespace: t.namespace,
    pod: t.pod,
    container: BIND_SIDECAR,
    highWaterBytes: t.highWaterBytes,
  };
  for (const { i, mount } of binds) {
    try {
      const isDir = (await lstat(mount.source).catch(() => undefined))?.isDirectory() ?? true;
      const cmd = isDir
        ? ['tar', '-c', '-f', '-', '-C', `${OUT}/b${i}`, '.']
        : ['tar', '-c', '-f', '-', '-C', `${OUT}/b${i}`, posix.basename(mount.source)];
      const ch = await ExecChannel.open(exec, cmd);
      const root = isDir ? mount.source : posix.dirname(mount.source);
      const only = isDir ? undefined : posix.basename(mount.source);
      let written = 0;
      for await (const m of readTar(ch.stdout)) written += await writeMember(root, m, only);
      const outcome = await ch.done;
      if (outcome.status.kind !== 'exit' || outcome.status.exitCode !== 0) throw new Error(execFailure(outcome));
      t.log.debug({ pod: t.pod, source: mount.source, written }, 'bind copied back');
    } catch (err) {
      t.log.warn(
        { err: (err as Error).message, pod: t.pod, source: mount.source },
        'a writable bind mount could not be copied back to its source',
      );
    }
  }
  if (final) {
    const ch = await ExecChannel.open(exec, ['touch', DONE]).catch(() => undefined);
    await ch?.done;
  }
}

/** Write one member under `root`; returns 1 when written. */
async function writeMember(root: string, m: TarMember, only?: string): Promise<number> {
  const e = m.entry;
  let rel: string;
  try {
    rel = cleanMemberPath(e.name);
  } catch {
    return 0;
  }
  if (only !== undefined && rel !== only) return drain(m);
  const abs = rel ? posix.join(root, rel) : root;
  if (!(await insideRoot(root, posix.dirname(abs)))) return drain(m);
  const cur = await lstat(abs).catch(() => undefined);
  if (cur?.isSymbolicLink() && e.type !== 'symlink') return drain(m); // never write through a link
  switch (e.type) {
    case 'dir':
      await mkdir(abs, { recursive: true });
      if (rel) await chmod(abs, e.mode & 0o7777).catch(() => {});
      return 1;
    case 'file': {
      if (cur?.isDirectory()) return drain(m);
      const fh = await open(abs, 'w', e.mode & 0o777);
      try {
        for await (const b of m.body) await fh.write(b);
      } finally {
        await fh.close();
      }
      await chmod(abs, e.mode & 0o7777).catch(() => {});
      return 1;
    }
    case 'symlink':
      if (!cur) await symlink(e.linkname, abs).catch(() => {});
      return 1;
    default:
      return drain(m);
  }
}

async function drain(m: TarMember): Promise<number> {
  for await (const _ of m.body);
  return 0;
}

/** `dir`'s nearest existing ancestor (after symlinks) is `root` or below it; then `dir` is made. */
async function insideRoot(root: string, dir: string): Promise<boolean> {
  const r = await realpath(root).catch(() => root);
  let probe = dir;
  for (;;) {
    const real = await realpath(probe).catch(() => undefined);
    if (real !== undefined) {
      if (real !== r && !real.startsWith(`${r}/`)) return false;
      break;
    }
    if (probe === root || probe === '/' || !probe.startsWith(root)) return false;
    probe = posix.dirname(probe);
  }
  await mkdir(dir, { recursive: true });
  return true;
}
