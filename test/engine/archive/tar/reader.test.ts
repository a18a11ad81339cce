/**
 * The tar reader and header codec against archives made by GNU tar and busybox tar (ustar, GNU
 * long names and base-256, PAX), fed whole, byte by byte and in odd splits; and our encoder's
 * output read back by GNU tar and busybox tar.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import {
  mkdtempSync,
  mkdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
  chmodSync,
  utimesSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  BLOCK,
  END_OF_ARCHIVE,
  encodeHeader,
  encodePax,
  padding,
  parsePax,
  readTar,
  TarFormatError,
  type TarEntry,
} from '../../../../src/engine/archive/tar/index.js';

const dir = mkdtempSync(join(tmpdir(), 'kapi-tar-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

async function* chunks(buf: Buffer, sizes: number[] | 'bytes' | 'whole'): AsyncGenerator<Buffer> {
  if (sizes === 'whole') return void (yield buf);
  let off = 0,
    i = 0;
  while (off < buf.length) {
    const n = sizes === 'bytes' ? 1 : sizes[i++ % sizes.length]!;
    yield buf.subarray(off, off + n);
    off += n;
  }
}

async function list(buf: Buffer, split: number[] | 'bytes' | 'whole' = 'whole') {
  const out: Array<{ entry: TarEntry; data: string }> = [];
  for await (const m of readTar(chunks(buf, split))) {
    const parts: Buffer[] = [];
    for await (const c of m.body) parts.push(c);
    out.push({ entry: m.entry, data: Buffer.concat(parts).toString('utf8') });
  }
  return out;
}

function fixture(): string {
  const src = join(dir, 'src');
  rmSync(src, { recursive: true, force: true });
  mkdirSync(join(src, 'sub', 'deeper'), { recursive: true });
  writeFileSync(join(src, 'a.txt'), 'alpha\n');
  chmodSync(join(src, 'a.txt'), 0o640);
  const long = 'x'.repeat(120);
  writeFileSync(join(src, 'sub', `${long}.txt`), 'long name\n');
  writeFileSync(join(src, 'sub', 'deeper', 'ünïcödé.txt'), 'unicode\n');
  symlinkSync('../a.txt', join(src, 'sub', 'link'));
  writeFileSync(join(src, 'empty'), '');
  utimesSync(join(src, 'a.txt'), 1700000000, 1700000000);
  return src;
}

test('~> GNU tar archives (gnu and posix formats) read back exactly, however the bytes are split', async () => {
  const src = fixture();
  for (const format of ['gnu', 'posix', 'ustar']) {
    const file = join(dir, `${format}.tar`);
    try {
      execFileSync('tar', ['--format', format, '--owner=1234', '--group=99999999', '-cf', file, '-C', src, '.'], {
        stdio: 'pipe',
      });
    } catch {
      // ustar cannot hold the 99999999 gid or the long name: GNU tar refuses, which is the point of PAX.
      assert.is(format, 'ustar');
      continue;
    }
    const buf = readFileSync(file);
    const whole = await list(buf);
    const names = whole.map((m) => m.entry.name).sort();
    assert.ok(names.includes('./a.txt'), `${format}: ${names}`);
    assert.ok(names.includes(`./sub/${'x'.repeat(120)}.txt`), `${format}: long name`);
    assert.ok(names.includes('./sub/deeper/ünïcödé.txt'), `${format}: unicode name`);
    const a = whole.find((m) => m.entry.name === './a.txt')!;
    assert.equal(
      [a.entry.type, a.entry.mode, a.entry.uid, a.entry.gid, a.entry.size, a.data, Math.floor(a.entry.mtime)],
      ['file', 0o640, 1234, 99999999, 6, 'alpha\n', 1700000000],
    );
    const link = whole.find((m) => m.entry.name === './sub/link')!;
    assert.equal([link.entry.type, link.entry.linkname], ['symlink', '../a.txt']);
    assert.is(whole.find((m) => m.entry.name === './sub/')!.entry.type, 'dir');
    for (const split of ['bytes', [7, 511, 513, 1], [1000]] as const) {
      const again = await list(buf, split as never);
      assert.equal(
        again.map((m) => [m.entry.name, m.data]),
        whole.map((m) => [m.entry.name, m.data]),
        `${format} split ${String(split)}`,
      );
    }
  }
});

test('~> busybox tar archives read back', async () => {
  const src = fixture();
  const file = join(dir, 'bb.tar');
  execFileSync('busybox', ['tar', '-cf', file, '-C', src, 'a.txt', 'sub']);
  const m = await list(readFileSync(file));
  assert.ok(m.some((x) => x.entry.name === `sub/${'x'.repeat(120)}.txt` && x.data === 'long name\n'));
  assert.ok(m.some((x) => x.entry.name === 'a.txt' && x.data === 'alpha\n'));
});

test('~> our encoder: GNU tar and busybox tar list and extract what we write (long, unicode, big ids, fractional mtime)', async () => {
  const entries: Array<{ e: TarEntry; data?: string }> = [
    { e: base({ name: 'd/', type: 'dir', mode: 0o755 }) },
    { e: base({ name: 'd/f.txt', size: 5, mode: 0o600, uid: 1000, gid: 1000 }), data: 'hello' },
    { e: base({ name: `d/${'y'.repeat(90)}/${'z'.repeat(90)}.txt`, size: 3 }), data: 'abc' },
    { e: base({ name: `d/${'q'.repeat(200)}`, size: 2, uid: 3_000_000, gid: 77 }), data: 'hi' },
    { e: base({ name: 'd/ñ.txt', size: 1, mtime: 1700000000.5 }), data: 'n' },
    { e: base({ name: 'd/l', type: 'symlink', linkname: 'f.txt' }) },
    { e: base({ name: 'd/h', type: 'link', linkname: 'd/f.txt' }) },
  ];
  const parts: Buffer[] = [];
  for (const { e, data } of entries) {
    parts.push(encodeHeader(e));
    if (data !== undefined) parts.push(Buffer.from(data), padding(data.length));
  }
  parts.push(END_OF_ARCHIVE);
  const buf = Buffer.concat(parts);
  assert.is(buf.length % BLOCK, 0);
  const file = join(dir, 'ours.tar');
  writeFileSync(file, buf);
  const gnu = execFileSync('tar', ['--numeric-owner', '-tvf', file], { encoding: 'utf8' });
  assert.match(gnu, /-rw------- 1000\/1000\s+5 .* d\/f\.txt/);
  assert.match(gnu, new RegExp(`3000000/77 .* d/${'q'.repeat(200)}`));
  assert.match(gnu, /d\/ñ\.txt/);
  assert.match(gnu, /d\/l -> f\.txt/);
  assert.match(gnu, /d\/h link to d\/f\.txt/);
  const out = join(dir, 'x-gnu');
  mkdirSync(out);
  execFileSync('tar', ['-xf', file, '-C', out]);
  assert.is(readFileSync(join(out, 'd', `${'y'.repeat(90)}`, `${'z'.repeat(90)}.txt`), 'utf8'), 'abc');
  assert.is(readFileSync(join(out, 'd', 'h'), 'utf8'), 'hello');
  const outBb = join(dir, 'x-bb');
  mkdirSync(outBb);
  execFileSync('busybox', ['tar', '-xf', file, '-C', outBb]);
  assert.is(readFileSync(join(outBb, 'd', `${'q'.repeat(200)}`), 'utf8'), 'hi');
  assert.is(readFileSync(join(outBb, 'd', 'ñ.txt'), 'utf8'), 'n');
  // And we read ourselves.
  const back = await list(buf, [3, 700]);
  assert.equal(
    back.map((m) => m.entry.name),
    entries.map((x) => x.e.name),
  );
  assert.is(back[3]!.entry.uid, 3_000_000);
  assert.is(back[4]!.entry.mtime, 1700000000.5);
});

function base(p: Partial<TarEntry>): TarEntry {
  return {
    name: '',
    type: 'file',
    mode: 0o644,
    uid: 0,
    gid: 0,
    size: 0,
    mtime: 1700000000,
    linkname: '',
    uname: '',
    gname: '',
    devmajor: 0,
    devminor: 0,
    ...p,
  };
}

test('~> PAX records: length prefixes that carry over a digit boundary round-trip', () => {
  for (let n = 0; n < 120; n++) {
    const rec = { path: 'p'.repeat(n) };
    assert.equal(parsePax(encodePax(rec)), rec);
  }
});

test('~> malformed input fails as Go does: invalid header, unexpected EOF', async () => {
  const junk = Buffer.alloc(1024, 7);
  try {
    await list(junk);
    assert.unreachable();
  } catch (err) {
    assert.instance(err, TarFormatError);
    assert.is((err as Error).message, 'archive/tar: invalid tar header');
  }
  const h = encodeHeader(base({ name: 'f', size: 100 }));
  try {
    await list(Buffer.concat([h, Buffer.alloc(10)]));
    assert.unreachable();
  } catch (err) {
    assert.is((err as Error).message, 'archive/tar: unexpected EOF');
  }
  // No end marker at all is accepted (the stream ends on a block boundary).
  const m = await list(Buffer.concat([encodeHeader(base({ name: 'f', size: 1 })), Buffer.from('x'), padding(1)]));
  assert.equal(
    m.map((x) => [x.entry.name, x.data]),
    [['f', 'x']],
  );
});

test('~> a body the consumer skips is skipped; header-only types ignore their size field', async () => {
  const parts = [
    encodeHeader(base({ name: 'big', size: 2000 })),
    Buffer.alloc(2000, 1),
    padding(2000),
    encodeHeader(base({ name: 'after', size: 1 })),
    Buffer.from('z'),
    padding(1),
    END_OF_ARCHIVE,
  ];
  const names: string[] = [];
  for await (const m of readTar(chunks(Buffer.concat(parts), [333]))) names.push(m.entry.name);
  assert.equal(names, ['big', 'after']);
});

test.run();
