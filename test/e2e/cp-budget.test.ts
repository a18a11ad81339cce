/**
 * The per-instance budget of staged archive bytes (issue 14, item 5): archives copied into
 * containers that are not running live in etcd (ConfigMaps) until they start, so all containers of
 * one kuber-api together may stage at most `--archive-budget-bytes`; beyond it, a 413 naming the
 * option. Removing a container gives its bytes back; a running container's copies are not staged.
 * A copy into a running container streams through, at most `--archive-upload-max-bytes` per copy,
 * and does not hold the container's lock: a stop does not wait for a slow upload.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { docker } from '../helpers/docker-cli.js';
import { cliSuite } from '../helpers/streams-env.js';
import { ok } from './containers-cases.js';
import { http } from './cp-cases.js';

const PER_CONTAINER = 600 * 1024;
const BUDGET = 1000 * 1024;
const UPLOAD = 300 * 1024;
const w = mkdtempSync(join(tmpdir(), 'kapi-cp-budget-'));
const { t, d, env } = cliSuite('docker cp budget tests', {
  api: {
    args: [
      '--archive-max-bytes',
      String(PER_CONTAINER),
      '--archive-budget-bytes',
      String(BUDGET),
      '--archive-upload-max-bytes',
      String(UPLOAD),
    ],
  },
  timeoutMs: 60_000,
});
test.after(() => rmSync(w, { recursive: true, force: true }));
const tarOf = (name: string, size: number) => {
  writeFileSync(join(w, name), Buffer.alloc(size, 7));
  return execFileSync('tar', ['-cf', '-', '-C', w, name]);
};
const put = (container: string, body: Buffer) =>
  http(env().api.dockerHost, 'PUT', `/containers/${container}/archive?path=/tmp`, body);

t(
  '~> staged copies of all containers together stay within --archive-budget-bytes (413 naming it); rm gives the bytes back',
  async () => {
    for (const n of ['b1', 'b2', 'b3']) ok(await d('create', '--name', n, 'busybox', 'cat', `/tmp/${n}.bin`));
    // The per-container bound speaks for itself when it is the one reached.
    const own = await put('b1', tarOf('b1-big.bin', 700 * 1024));
    assert.is(own.status, 413);
    assert.match(JSON.parse(own.body.toString()).message, /--archive-max-bytes/);
    const each = 400 * 1024; // below the per-container bound; two of them fit the budget, three do not
    assert.is((await put('b1', tarOf('b1.bin', each))).status, 200);
    assert.is((await put('b2', tarOf('b2.bin', each))).status, 200);
    const over = await put('b3', tarOf('b3.bin', each));
    assert.is(over.status, 413, over.body.toString());
    assert.match(JSON.parse(over.body.toString()).message, /--archive-budget-bytes/);
    ok(await d('rm', 'b1'));
    assert.is((await put('b3', tarOf('b3.bin', each))).status, 200);
    // What was staged is delivered at start.
    assert.is(ok(await d('start', '-a', 'b3')).length, each);
    for (const n of ['b2', 'b3']) ok(await d('rm', n));
  },
);

t(
  '~> into a running container: at most --archive-upload-max-bytes per copy (413 naming it), the container keeps running',
  async () => {
    ok(await d('run', '-d', '--name', 'up1', 'busybox', 'sleep', '600'));
    assert.is((await put('up1', tarOf('small.bin', 200 * 1024))).status, 200);
    assert.is(ok(await d('exec', 'up1', 'stat', '-c', '%s', '/tmp/small.bin')), String(200 * 1024));
    const big = await put('up1', tarOf('big.bin', 400 * 1024));
    assert.is(big.status, 413, big.body.toString());
    assert.match(JSON.parse(big.body.toString()).message, /--archive-upload-max-bytes/);
    assert.is(ok(await d('inspect', '--format', '{{.State.Running}}', 'up1')), 'true');
    ok(await d('rm', '-f', 'up1'));
  },
);

t('~> a slow upload into a running container does not hold its lock: docker stop goes through meanwhile', async () => {
  ok(await d('run', '-d', '--name', 'up2', 'busybox', 'sleep', '600'));
  const tar = tarOf('slow.bin', 200 * 1024);
  const req = request({
    socketPath: env().api.socketPath,
    method: 'PUT',
    path: '/containers/up2/archive?path=/tmp',
    headers: { 'Content-Length': String(tar.length), 'Content-Type': 'application/x-tar' },
  });
  const answered = new Promise<number>((resolve) => {
    req.on('response', (res) => (res.resume(), resolve(res.statusCode ?? 0)));
    req.on('error', () => resolve(0));
  });
  req.write(tar.subarray(0, 4096)); // the upload has begun, and stalls
  await new Promise((r) => setTimeout(r, 300));
  const stop = await docker(env().api.dockerHost, ['stop', '-t', '1', 'up2'], { timeoutMs: 30_000 });
  assert.is(stop.code, 0, `docker stop waited for the upload: ${stop.stderr}`);
  assert.is(ok(await d('inspect', '--format', '{{.State.Running}}', 'up2')), 'false');
  req.destroy();
  await answered;
  ok(await d('rm', '-f', 'up2'));
});

test.run();
