/**
 * engine/volumes/bind-source: bind sources read from kuber-api's filesystem — dockerd's errors at
 * create (moby volume/mounts/linux_parser.go, daemon/volumes_unix.go), the snapshot's listing and
 * its tar stream (read back with the project's tar reader).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EngineError } from '../../../src/errors.js';
import { bindTooLarge, checkBindSource, tarStream, walkSource } from '../../../src/engine/volumes/bind-source.js';
import { readTar } from '../../../src/engine/archive/tar/index.js';

const dir = mkdtempSync(join(tmpdir(), 'kapi-bind-src-'));

const rejects = async (p: Promise<unknown>, re: RegExp) => {
  try {
    await p;
  } catch (err) {
    assert.instance(err, EngineError);
    assert.match((err as Error).message, re);
    return err as EngineError;
  }
  assert.unreachable('did not reject');
};

test("missing sources: --mount is dockerd's error; -v creates the directory, except in a cluster (where the message says how to share it)", async () => {
  const missing = join(dir, 'nope');
  const e = await rejects(
    checkBindSource(missing, false, { inCluster: false }),
    /^invalid mount config for type "bind": bind source path does not exist: \/.*\/nope$/,
  );
  assert.is(e!.category, 'invalid');
  await checkBindSource(join(dir, 'made', 'deep'), true, { inCluster: false });
  assert.ok(existsSync(join(dir, 'made', 'deep')));
  await rejects(
    checkBindSource(join(dir, 'elsewhere'), true, { inCluster: true }),
    /bind source path does not exist: .*elsewhere \(kuber-api reads bind sources from its own filesystem; in a CI job, mount the build directory into kuber-api's container at the same path/,
  );
});

test('the Docker socket and other sockets are refused with the reason', async () => {
  await rejects(
    checkBindSource('/var/run/docker.sock', false, { inCluster: false }),
    /bind-mounting the Docker socket \(\/var\/run\/docker\.sock\) is not supported by kuber-api/,
  );
  const sock = join(dir, 's.sock');
  const srv = createServer().listen(sock);
  await new Promise((r) => srv.once('listening', r));
  try {
    await rejects(
      checkBindSource(sock, false, { inCluster: false }),
      /is a socket: kuber-api copies bind sources into the Pod/,
    );
  } finally {
    srv.close();
  }
});

test('a directory snapshot: ./ members, files, symlinks, modes; a file snapshot is its base name; the size counts', async () => {
  const src = join(dir, 'tree');
  mkdirSync(join(src, 'sub'), { recursive: true });
  writeFileSync(join(src, 'a.txt'), 'alpha\n', { mode: 0o640 });
  writeFileSync(join(src, 'sub', 'b.bin'), Buffer.alloc(70_000, 7));
  symlinkSync('a.txt', join(src, 'link'));
  const w = await walkSource(src);
  assert.ok(w.isDir);
  assert.equal(
    w.entries.map((e) => [e.name, e.type]),
    [
      ['.', 'dir'],
      ['./a.txt', 'file'],
      ['./link', 'symlink'],
      ['./sub', 'dir'],
      ['./sub/b.bin', 'file'],
    ],
  );
  assert.ok(w.bytes >= 70_006);
  const got: Array<[string, string, number, string]> = [];
  for await (const m of readTar(tarStream(w.entries))) {
    const chunks: Buffer[] = [];
    for await (const b of m.body) chunks.push(b);
    const body = Buffer.concat(chunks);
    got.push([
      m.entry.name,
      m.entry.type,
      m.entry.mode & 0o777,
      m.entry.type === 'symlink' ? m.entry.linkname : String(body.length),
    ]);
  }
  assert.equal(got, [
    ['./', 'dir', got[0]![2], '0'],
    ['./a.txt', 'file', 0o640, '6'],
    ['./link', 'symlink', got[2]![2], 'a.txt'],
    ['./sub/', 'dir', got[3]![2], '0'],
    ['./sub/b.bin', 'file', got[4]![2], '70000'],
  ]);
  const f = await walkSource(join(src, 'a.txt'));
  assert.not.ok(f.isDir);
  assert.equal(
    f.entries.map((e) => e.name),
    ['a.txt'],
  );
  const big = bindTooLarge(src, 70_000, 4096);
  assert.is(big.category, 'too-large');
  assert.match(big.message, '(4096 bytes in all, --bind-max-bytes)');
});

test.run();
