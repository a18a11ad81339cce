/**
 * `docker cp` against kuber-api on kube-sim: the shared cases (cp-cases.ts), plus what needs the
 * simulator or a second server: staged archives survive a kuber-api restart, PUT errors and
 * limits (malformed archive, size limit 413, what cannot be mounted before start 501), the stat
 * header compared with a real dockerd (dockerd-oracle, when it runs).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { gzipSync } from 'node:zlib';
import { mkdtempSync, writeFileSync, chmodSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ok, until } from './containers-cases.js';
import { connect } from 'node:net';
import { docker } from '../helpers/docker-cli.js';
import { cliSuite, rss } from '../helpers/streams-env.js';
import { decodeStat, http, registerCpCases } from './cp-cases.js';
import { findOracle } from '../helpers/tools.js';
import { END_OF_ARCHIVE, encodeHeader, padding } from '../../src/engine/archive/tar/index.js';

const LIMIT = 256 * 1024;
const { t, d, env } = cliSuite('docker cp tests', {
  api: { args: ['--archive-max-bytes', String(LIMIT), '--inspector-idle-ms', '2000'] },
  timeoutMs: 60_000,
});

registerCpCases((name, fn) => t(name, fn), { dockerHost: () => env().api.dockerHost, prefix: 'sim' });

const work = () => mkdtempSync(join(tmpdir(), 'kapi-cp-'));
const tarOf = (dir: string, ...names: string[]) => execFileSync('tar', ['-cf', '-', '-C', dir, ...names]);

t('~> staged archives survive a kuber-api restart: the file is there at start', async () => {
  const w = work();
  writeFileSync(join(w, 'kept.txt'), 'kept across restarts\n');
  ok(await d('create', '--name', 'cp-restart', 'busybox', 'cat', '/kept.txt'));
  ok(await d('cp', join(w, 'kept.txt'), 'cp-restart:/kept.txt'));
  await env().api.restart();
  assert.is(ok(await d('start', '-a', 'cp-restart')), 'kept across restarts');
  // Every run of the container gets them again (each run is a new Pod).
  assert.is(ok(await d('start', '-a', 'cp-restart')), 'kept across restarts');
  ok(await d('rm', 'cp-restart'));
});

t(
  "~> PUT archive: gzip accepted; a malformed archive is moby's 500; nothing is staged from a failed copy",
  async () => {
    const w = work();
    writeFileSync(join(w, 'g.txt'), 'gzipped\n');
    ok(await d('create', '--name', 'cp-put', 'busybox', 'cat', '/g.txt'));
    const put = (body: Buffer, path = '/') =>
      http(env().api.dockerHost, 'PUT', `/containers/cp-put/archive?path=${path}`, body, {
        'Content-Type': 'application/x-tar',
      });
    const gz = await put(gzipSync(tarOf(w, 'g.txt')));
    assert.equal([gz.status, gz.body.length], [200, 0], 'PUT answers 200 with no body');
    const junk = await put(Buffer.alloc(2048, 0x41));
    assert.is(junk.status, 500);
    assert.equal(JSON.parse(junk.body.toString()), { message: 'archive/tar: invalid tar header' });
    const evil = Buffer.concat([
      encodeHeader({
        name: '../../x',
        type: 'file',
        mode: 0o644,
        uid: 0,
        gid: 0,
        size: 1,
        mtime: 0,
        linkname: '',
        uname: '',
        gname: '',
        devmajor: 0,
        devminor: 0,
      }),
      Buffer.from('x'),
      padding(1),
      END_OF_ARCHIVE,
    ]);
    const breakout = await put(evil, '/tmp');
    assert.equal(
      [breakout.status, JSON.parse(breakout.body.toString())],
      [500, { message: '"../../x" is outside of "/tmp"' }],
      "moby's breakout error (as dockerd answers it)",
    );
    const missing = await http(env().api.dockerHost, 'PUT', '/containers/nope-nope/archive?path=/', tarOf(w, 'g.txt'));
    assert.is(missing.status, 404);
    assert.is(ok(await d('start', '-a', 'cp-put')), 'gzipped');
    ok(await d('rm', 'cp-put'));
  },
);

t(
  '~> before start: the size limit is a 413 naming the option; a symlink out of the copied files is a 501 naming why',
  async () => {
    const w = work();
    writeFileSync(join(w, 'big.bin'), Buffer.alloc(LIMIT + 1, 1));
    execFileSync('ln', ['-s', '/usr/share/elsewhere', join(w, 'dangling')]);
    ok(await d('create', '--name', 'cp-limits', 'busybox', 'true'));
    const big = await http(env().api.dockerHost, 'PUT', '/containers/cp-limits/archive?path=/tmp', tarOf(w, 'big.bin'));
    assert.is(big.status, 413);
    assert.match(JSON.parse(big.body.toString()).message, /--archive-max-bytes/);
    const link = await http(
      env().api.dockerHost,
      'PUT',
      '/containers/cp-limits/archive?path=/tmp',
      tarOf(w, 'dangling'),
    );
    assert.is(link.status, 501);
    assert.match(
      JSON.parse(link.body.toString()).message,
      /symbolic link to \/usr\/share\/elsewhere.*after docker start/,
    );
    // Once running, the same archive goes in through tar in the container.
    ok(await d('rm', 'cp-limits'));
    ok(await d('run', '-d', '--name', 'cp-limits2', 'busybox', 'sleep', '600'));
    const ok2 = await http(
      env().api.dockerHost,
      'PUT',
      '/containers/cp-limits2/archive?path=/tmp',
      tarOf(w, 'dangling', 'big.bin'),
    );
    assert.is(ok2.status, 200, ok2.body.toString());
    assert.is(ok(await d('exec', 'cp-limits2', 'readlink', '/tmp/dangling')), '/usr/share/elsewhere');
    assert.is(ok(await d('exec', 'cp-limits2', 'stat', '-c', '%s', '/tmp/big.bin')), String(LIMIT + 1));
    ok(await d('rm', '-f', 'cp-limits2'));
  },
);

t(
  '~> GET archive read slowly: kuber-api does not buffer the archive (RSS bounded), then the whole tar arrives',
  async () => {
    const SIZE = 64 << 20;
    ok(
      await d(
        'run',
        '-d',
        '--name',
        'cp-slow',
        'busybox',
        'sh',
        '-c',
        `head -c ${SIZE} /dev/zero > /tmp/big && touch /tmp/ready && sleep 600`,
      ),
    );
    await until(
      async () =>
        (await http(env().api.dockerHost, 'HEAD', '/containers/cp-slow/archive?path=/tmp/ready')).status === 200
          ? true
          : undefined,
      30_000,
      'the big file',
    );
    const base = (await rss(env().api.pid)).rssKb;
    const sock = connect(env().api.socketPath);
    sock.write('GET /v1.45/containers/cp-slow/archive?path=/tmp/big HTTP/1.1\r\nHost: docker\r\n\r\n');
    sock.pause();
    let total = 0;
    let peak = base;
    // A slow reader: 64 KiB every 25 ms for 1.5 s (~2.5 MiB/s), while the container could send far faster.
    const t0 = Date.now();
    while (Date.now() - t0 < 1500) {
      const b = sock.read(64 * 1024) as Buffer | null;
      if (b) total += b.length;
      await new Promise((r) => setTimeout(r, 25));
      peak = Math.max(peak, (await rss(env().api.pid)).rssKb);
    }
    const slowBytes = total;
    await new Promise<void>((resolve, reject) => {
      sock.on('data', (b: Buffer) => {
        total += b.length;
        if (b.subarray(-5).toString('latin1') === '0\r\n\r\n') resolve();
      });
      sock.on('error', reject);
      sock.on('end', resolve);
      sock.resume();
    });
    sock.destroy();
    console.log(
      `  slow GET archive: ${(slowBytes / 1048576).toFixed(1)} MiB read slowly, then ${(total / 1048576).toFixed(1)} MiB in all; kuber-api RSS ${(base / 1024).toFixed(0)} -> peak ${(peak / 1024).toFixed(0)} MiB`,
    );
    assert.ok(total > SIZE, `the whole archive arrived (${total} bytes)`);
    assert.ok(slowBytes < SIZE / 4, 'the reader was slow');
    assert.ok(
      peak - base < 32 * 1024,
      `kuber-api RSS grew by ${peak - base} kB while a slow reader held a ${SIZE >> 20} MiB archive back`,
    );
    ok(await d('rm', '-f', 'cp-slow'));
  },
);

t('~> the stat header matches a real dockerd for the same file (dockerd-oracle)', async () => {
  const oracle = await findOracle('stat header vs dockerd');
  if (!oracle) return;
  const w = work();
  writeFileSync(join(w, 'same.txt'), 'same bytes\n');
  chmodSync(join(w, 'same.txt'), 0o604);
  utimesSync(join(w, 'same.txt'), 1700000000, 1700000000);
  const body = tarOf(w, 'same.txt');
  const stats: Record<string, unknown>[] = [];
  for (const host of [`unix://${oracle}`, env().api.dockerHost]) {
    const name = `cp-oracle-${process.pid}`;
    const run = await docker(host, ['run', '-d', '--name', name, 'busybox', 'sleep', '300']);
    assert.is(run.code, 0, run.stderr);
    try {
      assert.is((await http(host, 'PUT', `/v1.41/containers/${name}/archive?path=/tmp`, body)).status, 200);
      const h = await http(host, 'HEAD', `/v1.41/containers/${name}/archive?path=/tmp/same.txt`);
      assert.is(h.status, 200);
      stats.push(decodeStat(h.headers['x-docker-container-path-stat']));
      const dir = decodeStat(
        (await http(host, 'HEAD', `/v1.41/containers/${name}/archive?path=/tmp`)).headers[
          'x-docker-container-path-stat'
        ],
      );
      stats.push({ name: dir.name, mode: dir.mode });
    } finally {
      await docker(host, ['rm', '-f', name]);
    }
  }
  assert.equal(stats[2], stats[0], 'file stat identical (name, size, mode, mtime, linkTarget)');
  assert.equal(stats[3], stats[1], '/tmp: same name and Go FileMode');
});

test.run();
