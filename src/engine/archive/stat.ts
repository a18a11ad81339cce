/**
 * @module engine/archive/stat
 * The `X-Docker-Container-Path-Stat` header (moby api/types/container PathStat, router copy.go
 * setContainerPathStatHeader): base64 (standard) of JSON `{name,size,mode,mtime,linkTarget}` in
 * that order. `mode` is a Go os.FileMode, not a unix st_mode: the type lives in the high bits
 * (directory 1<<31, symlink 1<<27, ...), set-id/sticky in bits 23/22/20, permissions in the low 9
 * (Go os/stat_linux.go fillFileStatFromSys). `mtime` is RFC 3339 with up to 9 fractional digits
 * (Go's RFC3339Nano, trailing zeros trimmed). Pure.
 */
import { posix } from 'node:path';
import type { PathStat } from '../backend/archive.js';

export type { PathStat };

// Go's os.FileMode bits (io/fs/fs.go); numbers, not `1 << n`, because JS shifts are 32-bit signed.
export const MODE_DIR = 2 ** 31;
export const MODE_SYMLINK = 2 ** 27;
export const MODE_DEVICE = 2 ** 26;
export const MODE_NAMED_PIPE = 2 ** 25;
export const MODE_SOCKET = 2 ** 24;
export const MODE_SETUID = 2 ** 23;
export const MODE_SETGID = 2 ** 22;
export const MODE_CHAR_DEVICE = 2 ** 21;
export const MODE_STICKY = 2 ** 20;

const S_IFMT = 0o170000;

/** A unix st_mode (as `stat -c %f` prints it, in hex) as Go's os.FileMode. */
export function goFileMode(stMode: number): number {
  let m = stMode & 0o777;
  switch (stMode & S_IFMT) {
    case 0o060000:
      m += MODE_DEVICE;
      break; // S_IFBLK
    case 0o020000:
      m += MODE_DEVICE + MODE_CHAR_DEVICE;
      break; // S_IFCHR
    case 0o040000:
      m += MODE_DIR;
      break; // S_IFDIR
    case 0o010000:
      m += MODE_NAMED_PIPE;
      break; // S_IFIFO
    case 0o120000:
      m += MODE_SYMLINK;
      break; // S_IFLNK
    case 0o140000:
      m += MODE_SOCKET;
      break; // S_IFSOCK
  }
  if (stMode & 0o2000) m += MODE_SETGID;
  if (stMode & 0o4000) m += MODE_SETUID;
  if (stMode & 0o1000) m += MODE_STICKY;
  return m;
}

export const isDirMode = (goMode: number) => goMode >= MODE_DIR;
export const isSymlinkMode = (goMode: number) => Math.floor(goMode / MODE_SYMLINK) % 2 === 1;

/** RFC 3339 in UTC with Go's RFC3339Nano fraction (up to 9 digits, trailing zeros dropped). */
export function rfc3339Nano(seconds: number, nanos: number): string {
  const base = new Date(seconds * 1000).toISOString().slice(0, 19);
  const frac = nanos > 0 ? `.${String(nanos).padStart(9, '0').replace(/0+$/, '')}` : '';
  return `${base}${frac}Z`;
}

/**
 * `stat -c %y` output (coreutils and busybox: "2026-11-27 21:41:10.123456789 +0000", the offset
 * being the container's time zone) as RFC 3339 in UTC.
 */
export function parseStatTime(s: string): string | undefined {
  const m = /^(\d{4})-(\d\d)-(\d\d) (\d\d):(\d\d):(\d\d)(?:\.(\d{1,9}))? ?([+-]\d{4})?$/.exec(s.trim());
  if (!m) return undefined;
  const offset = m[8] ? (m[8][0] === '-' ? -1 : 1) * (Number(m[8].slice(1, 3)) * 60 + Number(m[8].slice(3, 5))) : 0;
  const secs = Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!) / 1000 - offset * 60;
  const nanos = Number((m[7] ?? '').padEnd(9, '0') || 0);
  return rfc3339Nano(secs, nanos);
}

/** The header value: base64(JSON) with moby's key order. */
export function encodePathStat(s: PathStat): string {
  const json = JSON.stringify({ name: s.name, size: s.size, mode: s.mode, mtime: s.mtime, linkTarget: s.linkTarget });
  return Buffer.from(json, 'utf8').toString('base64');
}

/** The name moby reports: the base name of the cleaned path, "/" for the root. */
export function statName(absPath: string): string {
  const clean = posix.normalize(absPath).replace(/\/+$/, '');
  return clean === '' ? '/' : posix.basename(clean);
}

/** filepath.Join("/", path), keeping a trailing "/" or "/." as moby's PreserveTrailingDotOrSeparator does. */
export function containerPath(path: string): string {
  const joined = posix.join('/', path);
  if (path.endsWith('/.') || path === '.') return joined === '/' ? '/.' : `${joined.replace(/\/$/, '')}/.`;
  if (path.endsWith('/') && joined !== '/') return joined.endsWith('/') ? joined : `${joined}/`;
  return joined;
}

/**
 * Where `tar -c` runs and what it archives, so that member names are what moby produces: the base
 * name for a path ("/etc/passwd" -> "passwd", "/etc/" -> "etc/..."), "./" members for a trailing
 * "/." (the directory's contents), "." for the root.
 */
export function tarSource(absPath: string): { dir: string; base: string } {
  if (absPath.endsWith('/.')) return { dir: absPath.slice(0, -2) || '/', base: '.' };
  const clean = absPath.replace(/\/+$/, '');
  if (clean === '') return { dir: '/', base: '.' };
  return { dir: posix.dirname(clean), base: posix.basename(clean) };
}
