/**
 * @module engine/archive/plan
 * How staged archives reach a container at start (pure). Every staged archive is a list of chunk
 * ConfigMaps; the Pod gets:
 * - one configMap volume per chunk (disk-backed on a real kubelet: a projected or secret volume
 *   would be tmpfs and count against memory for the Pod's whole life) and an emptyDir `kapi-staged`;
 * - an init container (the helper image, busybox by default) that concatenates each archive's
 *   chunks and extracts them with `tar -x`, archive N into `kapi-staged:/a<N>/` (each into its own
 *   directory, so that a later archive never fights an earlier one's file types);
 * - in the main container, one subPath mount per regular file at its exact path, from the archive
 *   that wrote it last (later PUTs override earlier ones). Files are mounted one by one so that the
 *   image's directories stay visible around them; directories holding nothing else are mounted
 *   whole; a symlink to a copied file is mounted as that file.
 * What this cannot express is refused when the archive is copied (not at start): a symlink to
 * anything else, device and fifo nodes.
 */
import type { V1Container, V1Volume, V1VolumeMount } from '@kubernetes/client-node';
import { posix } from 'node:path';
import type { ArchiveMember } from './tar/index.js';
import { helperSecurityContext } from '../model/security.js';
import type { Level } from '../../kube/pod-security/index.js';

/** One staged archive as the record keeps it (data key `staged.json`). */
export interface StagedArchive {
  seq: number;
  /** The absolute extraction directory in the container. */
  path: string;
  chunks: number;
  bytes: number;
  /** [path relative to `path`, type letter (f file, h hardlink, d dir, l symlink), link target]. */
  members: Array<[string, string, string?]>;
}

export interface StagedManifest {
  v: 1;
  archives: StagedArchive[];
}

export const STAGE_VOLUME = 'kapi-staged';
export const INIT_CONTAINER = 'kapi-stage';
const SRC_DIR = '/kapi/src';
const OUT_DIR = '/kapi/out';

export function chunkObjectName(recordName: string, seq: number, k: number, kind: 's' | 'b' = 's'): string {
  return `${recordName}-${kind}${seq}-${k}`;
}

const TYPE_LETTER: Record<string, string> = {
  file: 'f',
  link: 'h',
  dir: 'd',
  symlink: 'l',
  char: 'c',
  block: 'b',
  fifo: 'p',
};

export function compactMembers(members: ArchiveMember[]): StagedArchive['members'] {
  return members
    .filter((m) => m.path !== '')
    .map((m) =>
      m.type === 'symlink' || m.type === 'link'
        ? [m.path, TYPE_LETTER[m.type]!, m.linkname]
        : [m.path, TYPE_LETTER[m.type]!],
    );
}

interface FinalEntry {
  /** subPath in the staged emptyDir. */
  sub: string;
  type: string;
  link?: string;
}

/** The merged view of every archive in order: container path -> where its content is. */
export function finalTree(archives: StagedArchive[]): Map<string, FinalEntry> {
  const tree = new Map<string, FinalEntry>();
  for (const a of archives) {
    for (const [rel, type, link] of a.members) {
      const abs = posix.join(a.path, rel);
      const prev = tree.get(abs);
      // A non-directory replacing a directory takes its contents with it (tar unlinks it).
      if (prev?.type === 'd' && type !== 'd')
        for (const k of [...tree.keys()]) if (k.startsWith(`${abs}/`)) tree.delete(k);
      tree.set(abs, { sub: `a${a.seq}/${rel}`, type, ...(link !== undefined ? { link } : {}) });
    }
  }
  return tree;
}

/** Resolve a symlink inside the copied files: the file it ends at, if any. */
function resolveLink(tree: Map<string, FinalEntry>, abs: string, depth = 0): FinalEntry | undefined {
  const e = tree.get(abs);
  if (!e || depth > 8) return undefined;
  if (e.type === 'f' || e.type === 'h') return e;
  if (e.type !== 'l' || e.link === undefined) return undefined;
  const target = e.link.startsWith('/') ? posix.normalize(e.link) : posix.join(posix.dirname(abs), e.link);
  return resolveLink(tree, target, depth + 1);
}

export interface StagedMount {
  mountPath: string;
  subPath: string;
}

/** The main container's mounts, sorted by path; `problems` lists what cannot be mounted. */
export function stagedMounts(archives: StagedArchive[]): { mounts: StagedMount[]; problems: string[] } {
  const tree = finalTree(archives);
  const mounts: StagedMount[] = [];
  const problems: string[] = [];
  const paths = [...tree.keys()].sort();
  const parents = new Set<string>();
  for (const p of paths)
    for (let d = posix.dirname(p); d !== '/' && !parents.has(d); d = posix.dirname(d)) parents.add(d);
  for (const abs of paths) {
    const e = tree.get(abs)!;
    if (abs === '/') continue;
    switch (e.type) {
      case 'f':
      case 'h':
        mounts.push({ mountPath: abs, subPath: e.sub });
        break;
      case 'd':
        if (!parents.has(abs)) mounts.push({ mountPath: abs, subPath: e.sub });
        break;
      case 'l': {
        const target = resolveLink(tree, abs);
        if (target) mounts.push({ mountPath: abs, subPath: target.sub });
        else problems.push(`${abs} is a symbolic link to ${e.link}, which is not among the copied files`);
        break;
      }
      default:
        problems.push(
          `${abs} is a ${e.type === 'c' ? 'character device' : e.type === 'b' ? 'block device' : 'named pipe'}`,
        );
    }
  }
  return { mounts, problems };
}

/** A Pod volume name for chunk k of staged archive (or bind snapshot) `seq`: a DNS label. */
export function chunkVolumeName(kind: 's' | 'b', seq: number, k: number): string {
  return `kapi-${kind}${seq}-${k}`;
}

export interface StagedSource {
  /** 'a<seq>' for archives, 'b<i>' for bind snapshots: the directory in the staged emptyDir. */
  dir: string;
  /** The chunk ConfigMaps, in order. */
  objects: string[];
  kind: 's' | 'b';
  seq: number;
}

/** The init container and volumes that extract `sources` (in order) into the staged emptyDir. */
export function stagingPodParts(
  sources: StagedSource[],
  helperImage: string,
  pullPolicy: string,
  level: Level = 'baseline',
  uid?: number,
): { volumes: V1Volume[]; initContainer: V1Container } | undefined {
  if (!sources.length) return undefined;
  const volumes: V1Volume[] = [{ name: STAGE_VOLUME, emptyDir: {} }];
  const mounts: V1VolumeMount[] = [{ name: STAGE_VOLUME, mountPath: OUT_DIR }];
  const lines = ['set -e', 'x() { d="$1"; shift; mkdir -p "$d"; cat "$@" | tar -x -f - -C "$d"; }'];
  for (const s of sources) {
    const files: string[] = [];
    s.objects.forEach((obj, k) => {
      const vol = chunkVolumeName(s.kind, s.seq, k);
      volumes.push({ name: vol, configMap: { name: obj, items: [{ key: 'data', path: 'data' }] } });
      mounts.push({ name: vol, mountPath: `${SRC_DIR}/${vol}`, readOnly: true });
      files.push(`${SRC_DIR}/${vol}/data`);
    });
    lines.push(`x ${OUT_DIR}/${s.dir} ${files.join(' ')}`);
  }
  return {
    volumes,
    initContainer: {
      name: INIT_CONTAINER,
      image: helperImage,
      imagePullPolicy: pullPolicy,
      command: ['sh', '-c', lines.join('\n')],
      volumeMounts: mounts,
      terminationMessagePolicy: 'FallbackToLogsOnError', // tar's complaint becomes the start error
      // Extraction keeps the archive's owners and modes (numeric ids), which needs root (with file
      // capabilities only); under `restricted` it runs as the container's user and owners are not kept.
      securityContext: helperSecurityContext(level, true, uid),
    },
  };
}
