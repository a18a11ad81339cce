/**
 * @module engine/archive/tar/reader
 * A streaming tar reader: `readTar(source)` yields each member with its body as an async
 * iterable, pulling from `source` only as the consumer asks (for-await gives backpressure: a
 * Readable source is paused while nobody reads). Handles ustar, GNU (base-256 numbers, `L`/`K`
 * long names) and PAX (`x` per member, `g` global) headers, as Go's archive/tar does; bodies of
 * header-only types (links, directories, devices) are ignored whatever their size says. A body the
 * consumer leaves unread is skipped.
 */
import { BLOCK, TarFormatError, entryType, isZeroBlock, parseHeader, parsePax, type TarEntry } from './header.js';

export { TarFormatError };

export interface TarMember {
  entry: TarEntry;
  /** The member's bytes (exactly `entry.size`); read it before asking for the next member, or it is skipped. */
  body: AsyncIterable<Buffer>;
}

/** Meta records (PAX, GNU long names) larger than this are refused: they are names, not data. */
const MAX_META_BYTES = 1 << 20;

/** Pull-based byte buffer over an async iterator of chunks. */
export class ByteSource {
  private readonly it: AsyncIterator<Buffer | Uint8Array | string>;
  private chunks: Buffer[] = [];
  private length = 0;
  private ended = false;
  /** Bytes consumed so far. */
  consumed = 0;

  constructor(source: AsyncIterable<Buffer | Uint8Array | string>) {
    this.it = source[Symbol.asyncIterator]();
  }

  /** Buffer until `n` bytes are available or the source ends; resolves to what is available (<= n). */
  private async fill(n: number): Promise<number> {
    while (this.length < n && !this.ended) {
      const r = await this.it.next();
      if (r.done) {
        this.ended = true;
        break;
      }
      const b =
        typeof r.value === 'string' ? Buffer.from(r.value) : Buffer.isBuffer(r.value) ? r.value : Buffer.from(r.value);
      if (b.length) {
        this.chunks.push(b);
        this.length += b.length;
      }
    }
    return Math.min(n, this.length);
  }

  /** Exactly `n` bytes, or fewer at the end of the source. */
  async read(n: number): Promise<Buffer> {
    const have = await this.fill(n);
    return this.take(have);
  }

  /** Up to `max` bytes, whatever is buffered first (at least one byte unless the source ended). */
  async readSome(max: number): Promise<Buffer> {
    if (this.length === 0) await this.fill(1);
    if (this.length === 0) return Buffer.alloc(0);
    const first = this.chunks[0]!;
    return this.take(Math.min(max, first.length));
  }

  private take(n: number): Buffer {
    if (n === 0) return Buffer.alloc(0);
    let out: Buffer;
    const first = this.chunks[0]!;
    if (first.length >= n) {
      out = first.subarray(0, n);
      if (first.length === n) this.chunks.shift();
      else this.chunks[0] = first.subarray(n);
    } else {
      out = Buffer.allocUnsafe(n);
      let off = 0;
      while (off < n) {
        const c = this.chunks[0]!;
        const k = Math.min(c.length, n - off);
        c.copy(out, off, 0, k);
        off += k;
        if (k === c.length) this.chunks.shift();
        else this.chunks[0] = c.subarray(k);
      }
    }
    this.length -= n;
    this.consumed += n;
    return out;
  }

  /** Skip `n` bytes; false if the source ended first. */
  async skip(n: number): Promise<boolean> {
    while (n > 0) {
      const b = await this.readSome(Math.min(n, 1 << 20));
      if (!b.length) return false;
      n -= b.length;
    }
    return true;
  }

  /** Read and discard the rest of the source. */
  async drain(): Promise<void> {
    this.chunks = [];
    this.length = 0;
    while (!this.ended) {
      const r = await this.it.next();
      if (r.done) this.ended = true;
    }
  }

  /** Stop pulling from the source (its iterator's return(): a Readable is destroyed). */
  async close(): Promise<void> {
    if (!this.ended) {
      this.ended = true;
      await this.it.return?.();
    }
  }
}

const unexpectedEof = () => new TarFormatError('archive/tar: unexpected EOF');

function applyPax(e: TarEntry, pax: Record<string, string>): void {
  for (const [k, v] of Object.entries(pax)) {
    switch (k) {
      case 'path':
        e.name = v;
        break;
      case 'linkpath':
        e.linkname = v;
        break;
      case 'size':
      case 'uid':
      case 'gid': {
        const n = Number(v);
        if (!Number.isSafeInteger(n) || n < 0) throw new TarFormatError(`archive/tar: invalid PAX record: ${k}=${v}`);
        e[k] = n;
        break;
      }
      case 'mtime': {
        const n = Number(v);
        if (!Number.isFinite(n)) throw new TarFormatError(`archive/tar: invalid PAX record: mtime=${v}`);
        e.mtime = n;
        break;
      }
      case 'uname':
      case 'gname':
        e[k] = v;
        break;
      case 'atime':
      case 'ctime':
      case 'comment':
      case 'charset':
      case 'hdrcharset':
        break;
      default:
        if (k.startsWith('GNU.sparse.')) throw new TarFormatError('archive/tar: sparse files are not supported');
        (e.pax ??= {})[k] = v;
    }
  }
}

/** Read a meta record's data (PAX, GNU long name) into memory. */
async function readMeta(src: ByteSource, size: number): Promise<Buffer> {
  if (size > MAX_META_BYTES) throw new TarFormatError('archive/tar: header record too large');
  const data = await src.read(size);
  if (data.length < size) throw unexpectedEof();
  if (!(await src.skip((BLOCK - (size % BLOCK)) % BLOCK))) throw unexpectedEof();
  return data;
}

/**
 * The members of a tar stream. Ends at the end-of-archive marker (the rest of the source is
 * drained) or at the end of the source on a block boundary; throws TarFormatError (Go's messages)
 * for anything else.
 */
export async function* readTar(source: AsyncIterable<Buffer | Uint8Array | string>): AsyncGenerator<TarMember> {
  const src = new ByteSource(source);
  let global: Record<string, string> = {};
  let pax: Record<string, string> | undefined;
  let longName: string | undefined;
  let longLink: string | undefined;
  for (;;) {
    const block = await src.read(BLOCK);
    if (block.length === 0) return; // end of input on a boundary (no end marker): accepted, as Go does
    if (block.length < BLOCK) throw unexpectedEof();
    if (isZeroBlock(block)) {
      await src.drain(); // a second zero block and any padding after it
      return;
    }
    const raw = parseHeader(block);
    const t = raw.typeflag;
    if (t === 'x' || t === 'g') {
      const records = parsePax(await readMeta(src, raw.size));
      if (t === 'g') global = { ...global, ...records };
      else pax = { ...(pax ?? {}), ...records };
      continue;
    }
    if (t === 'L' || t === 'K') {
      const name = (await readMeta(src, raw.size)).toString('utf8').replace(/\0.*$/s, '');
      if (t === 'L') longName = name;
      else longLink = name;
      continue;
    }
    if (t === 'V') {
      if (!(await src.skip(raw.size + ((BLOCK - (raw.size % BLOCK)) % BLOCK)))) throw unexpectedEof();
      continue;
    }
    let type = entryType(t);
    if (t === 'D') type = 'dir'; // GNU dumpdir: a directory whose data lists its contents
    if (t === 'S') throw new TarFormatError('archive/tar: sparse files are not supported');
    if (!type) throw new TarFormatError(`unhandled tar header type ${t.charCodeAt(0)}`);
    const entry: TarEntry = {
      name: raw.name,
      type,
      mode: raw.mode & 0o7777,
      uid: raw.uid,
      gid: raw.gid,
      size: raw.size,
      mtime: raw.mtime,
      linkname: raw.linkname,
      uname: raw.uname,
      gname: raw.gname,
      devmajor: raw.devmajor,
      devminor: raw.devminor,
    };
    if (longName !== undefined) entry.name = longName;
    if (longLink !== undefined) entry.linkname = longLink;
    applyPax(entry, global);
    if (pax) applyPax(entry, pax);
    pax = longName = longLink = undefined;
    // Header-only types carry no data whatever the size field says (Go: isHeaderOnlyType), except
    // GNU dumpdirs, whose listing is skipped.
    const dataSize = type === 'file' ? entry.size : t === 'D' ? raw.size : 0;
    if (type !== 'file') entry.size = 0;
    let remaining = type === 'file' ? dataSize : 0;
    const body: AsyncIterable<Buffer> = {
      async *[Symbol.asyncIterator]() {
        while (remaining > 0) {
          const b = await src.readSome(Math.min(remaining, 1 << 20));
          if (!b.length) throw unexpectedEof();
          remaining -= b.length;
          yield b;
        }
      },
    };
    yield { entry, body };
    if (t === 'D') remaining = dataSize;
    if (remaining > 0 && !(await src.skip(remaining))) throw unexpectedEof();
    const pad = (BLOCK - (dataSize % BLOCK)) % BLOCK;
    if (pad && !(await src.skip(pad))) throw unexpectedEof();
  }
}
