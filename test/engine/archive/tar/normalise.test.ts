/**
 * The normalising re-writer (names cleaned, breakouts refused, owners numeric, copyUIDGID chown,
 * size limit) and decompression by magic bytes (gzip in-process; bzip2/xz through the programs).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { gzipSync } from 'node:zlib';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  END_OF_ARCHIVE,
  encodeHeader,
  padding,
  readTar,
  normaliseTar,
  decompress,
  detectCompression,
  BreakoutError,
  type ArchiveMember,
  type TarEntry,
} from '../../../../src/engine/archive/tar/index.js';

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
function tar(items: Array<[Partial<TarEntry>, string?]>): Buffer {
  const parts: Buffer[] = [];
  for (const [e, data] of items) {
    parts.push(encodeHeader(base({ ...e, size: data?.length ?? 0 })));
    if (data) parts.push(Buffer.from(data), padding(data.length));
  }
  parts.push(END_OF_ARCHIVE);
  return Buffer.concat(parts);
}
async function* one(b: Buffer) {
  yield b;
}
async function collect(it: AsyncIterable<Buffer>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of it) parts.push(c);
  return Buffer.concat(parts);
}

test('~> names are cleaned, owners made numeric, members listed', async () => {
  const input = tar([
    [{ name: '/etc/app/', type: 'dir', mode: 0o750 }],
    [{ name: './etc//app/./conf.yml', uname: 'nginx', gname: 'www', uid: 101, gid: 102 }, 'k: v\n'],
    [{ name: 'etc/app/cur', type: 'symlink', linkname: 'conf.yml' }],
  ]);
  const members: ArchiveMember[] = [];
  const out = await collect(normaliseTar(one(input), {}, members));
  assert.equal(
    members.map((m) => [m.path, m.type, m.uid, m.gid]),
    [
      ['etc/app', 'dir', 0, 0],
      ['etc/app/conf.yml', 'file', 101, 102],
      ['etc/app/cur', 'symlink', 0, 0],
    ],
  );
  const back: TarEntry[] = [];
  for await (const m of readTar(one(out))) back.push(m.entry);
  assert.equal(
    back.map((e) => [e.name, e.uname, e.gname]),
    [
      ['etc/app/', '', ''],
      ['etc/app/conf.yml', '', ''],
      ['etc/app/cur', '', ''],
    ],
  );
});

test('~> copyUIDGID chowns every member', async () => {
  const members: ArchiveMember[] = [];
  const out = await collect(
    normaliseTar(one(tar([[{ name: 'f', uid: 5, gid: 6 }, 'x']])), { chown: { uid: 1000, gid: 1001 } }, members),
  );
  for await (const m of readTar(one(out))) assert.equal([m.entry.uid, m.entry.gid], [1000, 1001]);
});

test('~> breakouts are refused as moby refuses them', async () => {
  for (const [e, re] of [
    [{ name: '../evil' }, /outside of the extraction directory/],
    [{ name: 'a/../../evil' }, /outside/],
    [{ name: 'l', type: 'symlink', linkname: '../../etc/passwd' }, /invalid symlink/],
    [{ name: 'h', type: 'link', linkname: '../x' }, /^invalid hardlink "h" -> "..\/x"$/],
  ] as Array<[Partial<TarEntry>, RegExp]>) {
    try {
      await collect(normaliseTar(one(tar([[e]])), {}, []));
      assert.unreachable(e.name);
    } catch (err) {
      assert.instance(err, BreakoutError);
      assert.match((err as Error).message, re);
    }
  }
  // With the extraction directory, the message is moby's (checked against dockerd).
  try {
    await collect(normaliseTar(one(tar([[{ name: '../../x' }, 'x']])), { dest: '/tmp' }, []));
    assert.unreachable();
  } catch (err) {
    assert.is((err as Error).message, '"../../x" is outside of "/tmp"');
  }
  // Absolute symlinks are fine (resolved inside the container at run time), as in moby.
  const members: ArchiveMember[] = [];
  await collect(normaliseTar(one(tar([[{ name: 'l', type: 'symlink', linkname: '/etc/passwd' }]])), {}, members));
  assert.is(members[0]!.linkname, '/etc/passwd');
});

test("~> the size limit stops the stream with the caller's error", async () => {
  try {
    await collect(
      normaliseTar(
        one(tar([[{ name: 'big' }, 'x'.repeat(5000)]])),
        { maxBytes: 4096, tooLarge: (l) => new Error(`limit ${l}`) },
        [],
      ),
    );
    assert.unreachable();
  } catch (err) {
    assert.is((err as Error).message, 'limit 4096');
  }
});

test('~> gzip, bzip2 and xz archives are detected and decompressed; plain tar passes through', async () => {
  const plain = tar([[{ name: 'f' }, 'data']]);
  assert.is(detectCompression(plain), 'none');
  assert.ok((await collect(decompress(one(plain)))).equals(plain));
  const gz = gzipSync(plain);
  assert.is(detectCompression(gz), 'gzip');
  // split the gzip stream into tiny pieces: the magic must still be found
  async function* tiny() {
    for (let i = 0; i < gz.length; i += 2) yield gz.subarray(i, i + 2);
  }
  assert.ok((await collect(decompress(tiny()))).equals(plain));
  const dir = mkdtempSync(join(tmpdir(), 'kapi-cmp-'));
  try {
    writeFileSync(join(dir, 't.tar'), plain);
    for (const [prog, kind] of [
      ['bzip2', 'bzip2'],
      ['xz', 'xz'],
    ] as const) {
      let packed: Buffer;
      try {
        packed = execFileSync(prog, ['-c', join(dir, 't.tar')]);
      } catch {
        console.log(`SKIP ${prog} decompression: no ${prog} program here`);
        continue;
      }
      assert.is(detectCompression(packed), kind);
      assert.ok((await collect(decompress(one(packed)))).equals(plain), kind);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  // A corrupt gzip stream is an error, not a hang.
  const bad = Buffer.concat([gz.subarray(0, 20), Buffer.alloc(50, 0xaa)]);
  try {
    await collect(decompress(one(bad)));
    assert.unreachable();
  } catch (err) {
    assert.match((err as Error).message, /gzip/);
  }
});

test.run();
