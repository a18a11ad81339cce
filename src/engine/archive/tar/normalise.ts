/**
 * @module engine/archive/tar/normalise
 * Re-write an incoming archive member by member (streaming): names cleaned as moby's Untar cleans
 * them (filepath.Clean, leading '/' dropped) with its breakout checks ("../" escapes refused),
 * owners made numeric (uname/gname dropped, so that a `tar` inside a container does not map names
 * through its own /etc/passwd: moby extracts by number), optionally chowned (copyUIDGID), and
 * re-encoded with our writer (ustar + PAX). The members are listed as they pass, for the staging
 * manifest. Nothing is buffered beyond one chunk of a body.
 */
import { posix } from 'node:path';
import { END_OF_ARCHIVE, encodeHeader, padding, TarFormatError, type EntryType, type TarEntry } from './header.js';
import { readTar } from './reader.js';

/** One member as the manifest records it (path relative to the extraction directory, no trailing '/'). */
export interface ArchiveMember {
  path: string;
  type: EntryType;
  size: number;
  mode: number;
  uid: number;
  gid: number;
  mtime: number;
  linkname: string;
}

export interface NormaliseOptions {
  /** copyUIDGID: every member owned by this uid/gid. */
  chown?: { uid: number; gid: number };
  /** Output bytes allowed; beyond it `tooLarge()` is thrown. */
  maxBytes?: number;
  tooLarge?: (limit: number) => Error;
  /** The extraction directory, for moby's breakout message. */
  dest?: string;
  /** Called for every member before it is written (throw to refuse it). */
  check?: (m: ArchiveMember) => void;
}

/** moby's breakoutError: a member that would land outside the extraction directory. */
export class BreakoutError extends TarFormatError {}

/** filepath.Clean of a member name, relative: '' for the root itself. Throws BreakoutError for escapes. */
export function cleanMemberPath(name: string, dest?: string): string {
  // Clean keeps a leading "../" of a relative name, and moby then refuses the member
  // (pkg/archive createTarFile: `%q is outside of %q` with the extraction directory).
  const rel = posix.normalize(name.replace(/^\/+/, '')).replace(/\/+$/, '');
  if (rel === '..' || rel.startsWith('../'))
    throw new BreakoutError(
      `${JSON.stringify(name)} is outside of ${dest === undefined ? 'the extraction directory' : JSON.stringify(dest)}`,
    );
  return rel === '.' ? '' : rel;
}

/** filepath.Clean of a hardlink target, relative; checkLinks refuses an escape with moby's message. */
function cleanLinkTarget(name: string): string {
  const rel = posix.normalize(name.replace(/^\/+/, '')).replace(/\/+$/, '');
  return rel === '.' ? '' : rel;
}

/** Hardlinks must point inside the archive; relative symlinks must not climb out of it (moby createTarFile). */
function checkLinks(m: ArchiveMember, rawName: string): void {
  if (m.type === 'link') {
    const rel = posix.normalize(m.linkname.replace(/^\/+/, ''));
    if (rel === '..' || rel.startsWith('../'))
      throw new BreakoutError(`invalid hardlink ${JSON.stringify(rawName)} -> ${JSON.stringify(m.linkname)}`);
  } else if (m.type === 'symlink' && !m.linkname.startsWith('/')) {
    const escapes = posix.normalize(posix.join(posix.dirname(m.path), m.linkname));
    if (escapes === '..' || escapes.startsWith('../'))
      throw new BreakoutError(`invalid symlink ${JSON.stringify(rawName)} -> ${JSON.stringify(m.linkname)}`);
  }
}

/**
 * The normalised archive as chunks (ending with the end-of-archive marker); `members` receives
 * each member as it is written. Throws TarFormatError for a malformed input.
 */
export async function* normaliseTar(
  source: AsyncIterable<Buffer>,
  opts: NormaliseOptions,
  members: { push(m: ArchiveMember): unknown },
): AsyncGenerator<Buffer> {
  let out = 0;
  const count = (b: Buffer): Buffer => {
    out += b.length;
    if (opts.maxBytes !== undefined && out > opts.maxBytes)
      throw (opts.tooLarge ?? ((l: number) => new Error(`archive larger than ${l} bytes`)))(opts.maxBytes);
    return b;
  };
  for await (const { entry, body } of readTar(source)) {
    const path = cleanMemberPath(entry.name, opts.dest);
    const m: ArchiveMember = {
      path,
      type: entry.type,
      size: entry.size,
      mode: entry.mode,
      uid: opts.chown ? opts.chown.uid : entry.uid,
      gid: opts.chown ? opts.chown.gid : entry.gid,
      mtime: entry.mtime,
      linkname: entry.type === 'link' ? cleanLinkTarget(entry.linkname) : entry.linkname,
    };
    checkLinks(m, entry.name);
    if (entry.type === 'link' && m.linkname === '')
      throw new BreakoutError(`invalid hardlink ${JSON.stringify(entry.name)} -> ${JSON.stringify(entry.linkname)}`);
    opts.check?.(m);
    members.push(m);
    const e: TarEntry = {
      ...entry,
      name: path === '' ? './' : entry.type === 'dir' ? `${path}/` : path,
      linkname: m.linkname,
      uid: m.uid,
      gid: m.gid,
      uname: '',
      gname: '',
    };
    yield count(encodeHeader(e));
    if (entry.type === 'file') {
      for await (const chunk of body) yield count(chunk);
      const pad = padding(entry.size);
      if (pad.length) yield count(pad);
    }
  }
  yield count(END_OF_ARCHIVE);
}
