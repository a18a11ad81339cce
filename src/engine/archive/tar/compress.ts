/**
 * @module engine/archive/tar/compress
 * Archives as moby accepts them (pkg/archive DecompressStream): plain tar, or gzip, bzip2, xz or
 * zstd compressed, told apart by their magic bytes. gzip (and zstd where Node has it) decompress
 * in-process with zlib; bzip2 and xz (and zstd on older Node) through the `bzip2`/`xz`/`zstd`
 * program when it is on kuber-api's PATH, else a 501 naming what is missing.
 */
import { spawn } from 'node:child_process';
import { Duplex, Readable, pipeline, type Transform } from 'node:stream';
import * as zlib from 'node:zlib';
import { accessSync, constants } from 'node:fs';
import { join } from 'node:path';
import { notImplemented } from '../../../errors.js';

export type Compression = 'none' | 'gzip' | 'bzip2' | 'xz' | 'zstd';

export function detectCompression(head: Buffer): Compression {
  if (head.length >= 3 && head[0] === 0x1f && head[1] === 0x8b && head[2] === 0x08) return 'gzip';
  if (head.length >= 3 && head.toString('latin1', 0, 3) === 'BZh') return 'bzip2';
  if (head.length >= 6 && head[0] === 0xfd && head.toString('latin1', 1, 6) === '7zXZ\0') return 'xz';
  if (head.length >= 4 && head.readUInt32LE(0) === 0xfd2fb528) return 'zstd';
  return 'none';
}

function onPath(program: string): boolean {
  return (process.env.PATH ?? '/usr/bin:/bin').split(':').some((d) => {
    try {
      accessSync(join(d, program), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

/** A child process as a Duplex transform (stdin -> stdout); a non-zero exit is an error. */
function programTransform(program: string, args: string[]): Duplex {
  const child = spawn(program, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => {
    if (stderr.length < 4096) stderr += d.toString('utf8');
  });
  const out = Readable.from(
    (async function* () {
      const exited = new Promise<number>((resolve) => child.once('close', (code) => resolve(code ?? 1)));
      for await (const chunk of child.stdout) yield chunk as Buffer;
      const code = await exited;
      if (code !== 0) throw new Error(`${program}: ${stderr.trim() || `exit code ${code}`}`);
    })(),
  );
  // Writes go to the child's stdin (its backpressure included); reads come from its stdout.
  return Duplex.from({ writable: child.stdin, readable: out });
}

function decompressor(kind: Compression): Transform | Duplex {
  switch (kind) {
    case 'gzip':
      return zlib.createGunzip();
    case 'zstd': {
      const z = zlib as unknown as { createZstdDecompress?: () => Transform };
      if (z.createZstdDecompress) return z.createZstdDecompress();
      if (onPath('zstd')) return programTransform('zstd', ['-dc']);
      throw notImplemented(
        'zstd-compressed archives need Node.js 22.15 or the zstd program next to kuber-api; send a plain or gzip-compressed tar',
      );
    }
    case 'bzip2':
      if (onPath('bzip2')) return programTransform('bzip2', ['-dc']);
      throw notImplemented(
        'bzip2-compressed archives need the bzip2 program next to kuber-api; send a plain or gzip-compressed tar',
      );
    case 'xz':
      if (onPath('xz')) return programTransform('xz', ['-dc']);
      throw notImplemented(
        'xz-compressed archives need the xz program next to kuber-api; send a plain or gzip-compressed tar',
      );
    default:
      throw new Error(`no decompressor for ${kind}`);
  }
}

/**
 * The decompressed bytes of `source` (passed through when it is a plain tar). Backpressure: the
 * source is read only as fast as the result is consumed.
 */
export async function* decompress(source: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  const it = source[Symbol.asyncIterator]();
  const head: Buffer[] = [];
  let headLen = 0;
  let done = false;
  while (headLen < 6) {
    const r = await it.next();
    if (r.done) {
      done = true;
      break;
    }
    head.push(r.value);
    headLen += r.value.length;
  }
  const first = Buffer.concat(head);
  const kind = detectCompression(first);
  const rest = async function* () {
    if (first.length) yield first;
    if (done) return;
    for (;;) {
      const r = await it.next();
      if (r.done) return;
      yield r.value;
    }
  };
  if (kind === 'none') {
    yield* rest();
    return;
  }
  const d = decompressor(kind);
  let failure: Error | undefined;
  const out = pipeline(Readable.from(rest(), { objectMode: false }), d, (err) => {
    if (err) failure = err;
  }) as unknown as AsyncIterable<Buffer>;
  try {
    for await (const chunk of out) yield chunk;
  } catch (err) {
    throw wrapDecompressError(kind, failure ?? (err as Error));
  }
  if (failure) throw wrapDecompressError(kind, failure);
}

function wrapDecompressError(kind: Compression, err: Error): Error {
  if ((err as { category?: string }).category) return err;
  return new Error(`${kind}: ${err.message}`);
}
