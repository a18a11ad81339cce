/**
 * @module engine/archive/tar/header
 * Tar headers as data (pure): the 512-byte ustar block (POSIX.1-1988, with GNU's base-256 numbers
 * and GNU magic accepted), PAX extended records (POSIX.1-2001 `x`/`g`), and the encoder that
 * writes what Go's archive/tar writes: a plain ustar block when every field fits (magic
 * "ustar\0" + "00", as moby's archives have), else a PAX `x` header first with the fields that do
 * not fit (long or non-ASCII names, sizes of 8 GiB and more, large ids, fractional mtimes).
 */

export const BLOCK = 512;

export type EntryType = 'file' | 'link' | 'symlink' | 'char' | 'block' | 'dir' | 'fifo';

/** One archive member, after PAX/GNU long-name records are applied. */
export interface TarEntry {
  /** As in the archive (directories usually end in '/'). */
  name: string;
  type: EntryType;
  /** Permission and set-id/sticky bits (the low 12 bits). */
  mode: number;
  uid: number;
  gid: number;
  size: number;
  /** Seconds since the epoch (fractional from PAX). */
  mtime: number;
  linkname: string;
  uname: string;
  gname: string;
  devmajor: number;
  devminor: number;
  /** PAX records the encoder does not derive from the fields above (xattrs...), carried through. */
  pax?: Record<string, string>;
}

const TYPE_OF: Record<string, EntryType> = {
  '0': 'file',
  '\0': 'file',
  '7': 'file',
  '1': 'link',
  '2': 'symlink',
  '3': 'char',
  '4': 'block',
  '5': 'dir',
  '6': 'fifo',
};
const FLAG_OF: Record<EntryType, string> = {
  file: '0',
  link: '1',
  symlink: '2',
  char: '3',
  block: '4',
  dir: '5',
  fifo: '6',
};

/** The raw content of one header block, before PAX/GNU records are applied: the entry's fields as the block has them, its type flag as written. */
export interface RawHeader extends Omit<TarEntry, 'type' | 'pax'> {
  typeflag: string;
  /** ustar (POSIX or GNU magic): `prefix` was joined to `name` for POSIX. */
  ustar: boolean;
}

export class TarFormatError extends Error {}

function str(b: Buffer, off: number, len: number): string {
  const end = b.indexOf(0, off);
  return b.toString('utf8', off, end < 0 || end > off + len ? off + len : end);
}

/** An octal field (NUL/space padded), or GNU base-256 when the high bit is set. */
export function parseNumber(b: Buffer, off: number, len: number): number {
  const first = b[off]!;
  if (first & 0x80) {
    // GNU base-256: big-endian two's complement; 0x80 marks a positive number, 0xff a negative one.
    let v = first === 0xff ? -1 : first & 0x7f;
    for (let i = 1; i < len; i++) v = v * 256 + b[off + i]!;
    if (!Number.isSafeInteger(v)) throw new TarFormatError('archive/tar: numeric field out of range');
    return v;
  }
  const s = b
    .toString('latin1', off, off + len)
    .replace(/[\0 ]+$/, '')
    .replace(/^[\0 ]+/, '');
  if (s === '') return 0;
  if (!/^[0-7]+$/.test(s)) throw new TarFormatError('archive/tar: invalid tar header');
  return parseInt(s, 8);
}

export function isZeroBlock(b: Buffer): boolean {
  for (let i = 0; i < BLOCK; i++) if (b[i] !== 0) return false;
  return true;
}

/** Sum of the header bytes with the checksum field read as spaces (unsigned and signed variants). */
function checksums(b: Buffer): [number, number] {
  let u = 0,
    s = 0;
  for (let i = 0; i < BLOCK; i++) {
    const c = i >= 148 && i < 156 ? 0x20 : b[i]!;
    u += c;
    s += c > 127 ? c - 256 : c;
  }
  return [u, s];
}

/** Parse one header block; throws TarFormatError ("archive/tar: invalid tar header", as Go) when it is not one. */
export function parseHeader(b: Buffer): RawHeader {
  if (b.length < BLOCK) throw new TarFormatError('archive/tar: invalid tar header');
  const sum = parseNumber(b, 148, 8);
  const [u, s] = checksums(b);
  if (sum !== u && sum !== s) throw new TarFormatError('archive/tar: invalid tar header');
  const magic = b.toString('latin1', 257, 263);
  const ustar = magic === 'ustar\0' || magic === 'ustar ';
  let name = str(b, 0, 100);
  if (magic === 'ustar\0') {
    const prefix = str(b, 345, 155);
    if (prefix) name = `${prefix}/${name}`;
  }
  return {
    typeflag: String.fromCharCode(b[156]!),
    name,
    mode: parseNumber(b, 100, 8),
    uid: parseNumber(b, 108, 8),
    gid: parseNumber(b, 116, 8),
    size: parseNumber(b, 124, 12),
    mtime: parseNumber(b, 136, 12),
    linkname: str(b, 157, 100),
    uname: ustar ? str(b, 265, 32) : '',
    gname: ustar ? str(b, 297, 32) : '',
    devmajor: ustar ? parseNumber(b, 329, 8) : 0,
    devminor: ustar ? parseNumber(b, 337, 8) : 0,
    ustar,
  };
}

/** The member type of a typeflag; undefined for meta records (x, g, L, K) and unknown types. */
export function entryType(typeflag: string): EntryType | undefined {
  return TYPE_OF[typeflag];
}

/** PAX records `"<len> <key>=<value>\n"` (len counts the whole record). */
export function parsePax(data: Buffer): Record<string, string> {
  const out: Record<string, string> = {};
  let off = 0;
  while (off < data.length) {
    if (data[off] === 0) break; // NUL padding after the last record
    const sp = data.indexOf(0x20, off);
    if (sp < 0) throw new TarFormatError('archive/tar: invalid PAX record');
    const len = Number(data.toString('latin1', off, sp));
    if (!Number.isInteger(len) || len <= sp - off + 1 || off + len > data.length || data[off + len - 1] !== 0x0a)
      throw new TarFormatError('archive/tar: invalid PAX record');
    const rec = data.toString('utf8', sp + 1, off + len - 1);
    const eq = rec.indexOf('=');
    if (eq <= 0) throw new TarFormatError('archive/tar: invalid PAX record');
    out[rec.slice(0, eq)] = rec.slice(eq + 1);
    off += len;
  }
  return out;
}

function paxRecord(key: string, value: string): Buffer {
  const body = ` ${key}=${value}\n`;
  const bodyLen = Buffer.byteLength(body);
  // The length prefix counts its own digits (one more digit when adding them carries over).
  const digits = String(bodyLen).length;
  let len = bodyLen + digits;
  if (String(len).length > digits) len++;
  return Buffer.from(`${len}${body}`, 'utf8');
}

export function encodePax(records: Record<string, string>): Buffer {
  return Buffer.concat(Object.entries(records).map(([k, v]) => paxRecord(k, v)));
}

const MAX_OCTAL_8 = 0o7777777; // 7 digits + NUL
const MAX_OCTAL_12 = 0o77777777777; // 11 digits + NUL
const ascii = (s: string) => /^[\x01-\x7f]*$/.test(s);

function putString(b: Buffer, off: number, len: number, s: string): void {
  b.write(s, off, len, 'utf8');
}

function putOctal(b: Buffer, off: number, len: number, v: number): void {
  const s = Math.max(0, Math.floor(v))
    .toString(8)
    .padStart(len - 1, '0');
  b.write(s, off, len - 1, 'latin1');
  b[off + len - 1] = 0;
}

/** Split a long name into ustar prefix (<=155) + name (<=100) at a '/', if possible. */
function splitUstar(name: string): [string, string] | undefined {
  if (Buffer.byteLength(name) <= 100) return ['', name];
  if (!ascii(name)) return undefined;
  const limit = Math.min(name.length - 1, 155);
  for (let i = limit; i > 0; i--) {
    if (name[i] !== '/') continue;
    const prefix = name.slice(0, i);
    const rest = name.slice(i + 1);
    if (rest.length > 0 && rest.length <= 100 && prefix.length <= 155) return [prefix, rest];
  }
  return undefined;
}

function ustarBlock(
  e: TarEntry,
  name: [string, string],
  linkname: string,
  fit: { size: boolean; uid: boolean; gid: boolean },
): Buffer {
  const b = Buffer.alloc(BLOCK);
  putString(b, 0, 100, name[1]);
  putOctal(b, 100, 8, e.mode & 0o7777);
  putOctal(b, 108, 8, fit.uid ? e.uid : 0);
  putOctal(b, 116, 8, fit.gid ? e.gid : 0);
  putOctal(b, 124, 12, fit.size ? (e.type === 'file' ? e.size : 0) : 0);
  putOctal(b, 136, 12, Math.min(MAX_OCTAL_12, Math.max(0, Math.floor(e.mtime))));
  b.fill(0x20, 148, 156);
  b.write(FLAG_OF[e.type], 156, 1, 'latin1');
  putString(b, 157, 100, linkname);
  b.write('ustar\x0000', 257, 8, 'latin1');
  putString(b, 265, 32, ascii(e.uname) && e.uname.length <= 32 ? e.uname : '');
  putString(b, 297, 32, ascii(e.gname) && e.gname.length <= 32 ? e.gname : '');
  if (e.type === 'char' || e.type === 'block') {
    putOctal(b, 329, 8, e.devmajor);
    putOctal(b, 337, 8, e.devminor);
  }
  putString(b, 345, 155, name[0]);
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += b[i]!;
  b.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 8, 'latin1');
  return b;
}

/** Zero padding that completes a member body of `size` bytes to a whole block. */
export function padding(size: number): Buffer {
  const r = size % BLOCK;
  return r === 0 ? Buffer.alloc(0) : Buffer.alloc(BLOCK - r);
}

/** The end-of-archive marker: two zero blocks. */
export const END_OF_ARCHIVE = Buffer.alloc(2 * BLOCK);

/** The header block(s) of one member: an optional PAX `x` header (+ data) and the ustar block. */
export function encodeHeader(e: TarEntry): Buffer {
  const pax: Record<string, string> = { ...(e.pax ?? {}) };
  const split = splitUstar(e.name);
  if (!split) pax.path = e.name;
  const linkFits = Buffer.byteLength(e.linkname) <= 100 && ascii(e.linkname);
  if (!linkFits) pax.linkpath = e.linkname;
  const size = e.type === 'file' ? e.size : 0;
  const fit = {
    size: size <= MAX_OCTAL_12,
    uid: e.uid >= 0 && e.uid <= MAX_OCTAL_8,
    gid: e.gid >= 0 && e.gid <= MAX_OCTAL_8,
  };
  if (!fit.size) pax.size = String(size);
  if (!fit.uid) pax.uid = String(e.uid);
  if (!fit.gid) pax.gid = String(e.gid);
  if (!Number.isInteger(e.mtime)) pax.mtime = e.mtime.toFixed(9).replace(/0+$/, '').replace(/\.$/, '');
  if (e.uname && (!ascii(e.uname) || e.uname.length > 32)) pax.uname = e.uname;
  if (e.gname && (!ascii(e.gname) || e.gname.length > 32)) pax.gname = e.gname;
  const block = ustarBlock(
    e,
    split ?? ['', asciiFallback(e.name, 100)],
    linkFits ? e.linkname : asciiFallback(e.linkname, 100),
    fit,
  );
  if (!Object.keys(pax).length) return block;
  const data = encodePax(pax);
  // Go names the PAX header after the member: PaxHeaders.0/<base> (readers ignore it).
  const paxEntry: TarEntry = {
    name: asciiFallback(`PaxHeaders.0/${e.name.replace(/\/+$/, '').split('/').pop() ?? ''}`, 100),
    type: 'file',
    mode: 0,
    uid: 0,
    gid: 0,
    size: data.length,
    mtime: 0,
    linkname: '',
    uname: '',
    gname: '',
    devmajor: 0,
    devminor: 0,
  };
  const paxBlock = ustarBlock(paxEntry, ['', paxEntry.name], '', { size: true, uid: true, gid: true });
  paxBlock.write('x', 156, 1, 'latin1');
  // The typeflag changed: recompute the checksum.
  paxBlock.fill(0x20, 148, 156);
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += paxBlock[i]!;
  paxBlock.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 8, 'latin1');
  return Buffer.concat([paxBlock, data, padding(data.length), block]);
}

/** A name cut to `max` bytes of ASCII for the ustar field when the real one is in a PAX record. */
function asciiFallback(s: string, max: number): string {
  // eslint-disable-next-line no-control-regex
  return s.replace(/[^\x01-\x7f]/g, '_').slice(0, max);
}
