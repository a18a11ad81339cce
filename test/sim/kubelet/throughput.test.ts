/**
 * 1 GiB through exec and through pods/log (follow and plain), byte-exact: a 16 MiB random block
 * written 64 times by busybox, checked by length and MD5 against the block read from the
 * container's root filesystem. Also backpressure: a WebSocket reader that stops reading stops
 * the producing process (it blocks in write) with bounded memory, and resumes to the last byte;
 * a process that does not read its stdin pauses the WebSocket. Throughput is printed, not asserted
 * (speed claims live in bench/sim-direct.ts).
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { get } from 'node:http';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { WebSocket } from 'ws';
import { PODS } from '../../../src/sim/types.js';
import { busyboxPod, execUrl, phase, startKubelet, waitFor, type KubeletHarness } from './helpers.js';

const test = suite<{ h: KubeletHarness; block: Buffer; expected: string }>('throughput');
const COPIES = 64;
const BLOCK = 16 << 20;
const TOTAL = COPIES * BLOCK;

test.before(async (ctx) => {
  ctx.h = await startKubelet({ backoffInitialMs: 1000 });
  ctx.h.store.create(
    PODS,
    busyboxPod(
      'src',
      ['sh', '-c', 'dd if=/dev/urandom of=/tmp/block bs=1M count=16 2>/dev/null; touch /tmp/ready; exec sleep 3600'],
      { restartPolicy: 'Never', terminationGracePeriodSeconds: 0 },
    ),
  );
  await waitFor(() => phase(ctx.h.store, 'src') === 'Running', 15000, 'Running');
  const root = join(ctx.h.stateDir, 'pods', ctx.h.store.pod('src')!.metadata.uid, 'containers', 'c-0', 'rootfs', 'tmp');
  await waitFor(() => existsSync(join(root, 'ready')), 15000, 'block');
  ctx.block = readFileSync(join(root, 'block'));
  const md5 = createHash('md5');
  for (let i = 0; i < COPIES; i++) md5.update(ctx.block);
  ctx.expected = md5.digest('hex');
});

test.after(async (ctx) => {
  await ctx.h.stop();
});

const mibps = (bytes: number, ms: number) => `${(bytes / 1048576 / (ms / 1000)).toFixed(0)} MiB/s`;

test('~> exec streams 1 GiB byte-exact (v5, stdout channel)', async ({ h, expected }) => {
  const md5 = createHash('md5');
  let bytes = 0;
  const t0 = Date.now();
  const status = await new Promise<string>((resolve, reject) => {
    const ws = new WebSocket(
      execUrl(h.base, 'src', ['sh', '-c', `for i in $(seq ${COPIES}); do cat /tmp/block; done`]).replace('http', 'ws'),
      ['v5.channel.k8s.io'],
      { perMessageDeflate: false },
    );
    let st = '';
    ws.on('message', (d: Buffer) => {
      if (d[0] === 1) {
        bytes += d.length - 1;
        md5.update(d.subarray(1));
      } else if (d[0] === 3) st += d.subarray(1).toString();
    });
    ws.on('close', () => resolve(st));
    ws.on('error', reject);
  });
  const ms = Date.now() - t0;
  console.log(`exec: ${bytes} bytes in ${ms} ms = ${mibps(bytes, ms)} (client in the same process)`);
  assert.is(bytes, TOTAL);
  assert.is(md5.digest('hex'), expected);
  assert.is(status, '{"metadata":{},"status":"Success"}');
});

test('~> pods/log streams 1 GiB byte-exact while the container writes it (follow), and again afterwards', async ({
  h,
  expected,
}) => {
  // The container copies the block from the first pod through a shared host path: its own busybox root.
  const srcRoot = join(h.stateDir, 'pods', h.store.pod('src')!.metadata.uid, 'containers', 'c-0', 'rootfs', 'tmp');
  h.store.create(PODS, {
    metadata: { name: 'logger', namespace: 'default' },
    spec: {
      restartPolicy: 'Never',
      volumes: [{ name: 'blk', hostPath: { path: srcRoot } }],
      containers: [
        {
          name: 'c',
          image: 'busybox',
          command: ['sh', '-c', `for i in $(seq ${COPIES}); do cat /blk/block; done`],
          volumeMounts: [{ name: 'blk', mountPath: '/blk', readOnly: true }],
        },
      ],
    },
  });
  await waitFor(() => ['Running', 'Succeeded'].includes(phase(h.store, 'logger') ?? ''), 15000, 'started');
  for (const q of ['?follow=true', '']) {
    const md5 = createHash('md5');
    let bytes = 0;
    const t0 = Date.now();
    await new Promise<void>((resolve, reject) => {
      get(`${h.base}/api/v1/namespaces/default/pods/logger/log${q}`, (res) => {
        res.on('data', (d: Buffer) => {
          bytes += d.length;
          md5.update(d);
        });
        res.on('end', resolve);
        res.on('error', reject);
      }).on('error', reject);
    });
    const ms = Date.now() - t0;
    console.log(`log${q || ' (after)'}: ${bytes} bytes in ${ms} ms = ${mibps(bytes, ms)} (client in the same process)`);
    assert.is(bytes, TOTAL);
    assert.is(md5.digest('hex'), expected);
    if (q) await waitFor(() => phase(h.store, 'logger') === 'Succeeded', 15000, 'Succeeded');
  }
});

test('~> a WebSocket reader that stops reading blocks the producer with bounded memory; no byte lost on resume', async ({
  h,
}) => {
  const total = 512 << 20;
  let bytes = 0;
  let status = '';
  const { WebSocket: WS } = await import('ws');
  const ws = new WS(
    execUrl(h.base, 'src', [
      'sh',
      '-c',
      `dd if=/dev/zero bs=64k count=${total >> 16} 2>/dev/null; echo finished >&2`,
    ]).replace('http', 'ws'),
    ['v5.channel.k8s.io'],
    { perMessageDeflate: false },
  );
  const closed = new Promise<void>((r) => ws.on('close', () => r()));
  let stderr = '';
  let pausedOnce = false;
  ws.on('message', (d: Buffer) => {
    if (d[0] === 1) bytes += d.length - 1;
    if (d[0] === 2) stderr += d.subarray(1).toString();
    if (d[0] === 3) status += d.subarray(1).toString();
    if (bytes > 8 << 20 && !pausedOnce) {
      pausedOnce = true;
      ws.pause();
    }
  });
  await waitFor(() => ws.isPaused, 10000, 'paused');
  const rss0 = process.memoryUsage().rss;
  await new Promise((r) => setTimeout(r, 1500));
  const grew = process.memoryUsage().rss - rss0;
  // dd writes 512 MiB in well under a second when nothing holds it back: it is still blocked.
  assert.is(stderr, '');
  assert.is(status, '');
  assert.ok(bytes < total, `${bytes}`);
  assert.ok(grew < 64 << 20, `RSS grew by ${grew} bytes while the reader was paused`);
  ws.resume();
  await closed;
  assert.is(bytes, total);
  assert.is(stderr, 'finished\n');
  assert.is(status, '{"metadata":{},"status":"Success"}');
});

test('~> a process that does not read its stdin pauses the WebSocket (the client sees bufferedAmount grow)', async ({
  h,
}) => {
  const chunk = Buffer.alloc(1 << 20, 0x61);
  const ws = new WebSocket(
    execUrl(h.base, 'src', ['sh', '-c', 'sleep 1.5; cat > /dev/null; echo drained'], {
      stdin: 'true',
      stdout: 'true',
    }).replace('http', 'ws'),
    ['v5.channel.k8s.io'],
    { perMessageDeflate: false },
  );
  let out = '';
  let st = '';
  ws.on('message', (d: Buffer) => {
    if (d[0] === 1) out += d.subarray(1).toString();
    if (d[0] === 3) st += d.subarray(1).toString();
  });
  const closed = new Promise<void>((r) => ws.on('close', () => r()));
  await new Promise((r) => ws.on('open', r));
  for (let i = 0; i < 64; i++) ws.send(Buffer.concat([Buffer.from([0]), chunk]));
  await new Promise((r) => setTimeout(r, 700));
  assert.ok(ws.bufferedAmount > 16 << 20, `client still holds ${ws.bufferedAmount} bytes: the server stopped reading`);
  await waitFor(() => ws.bufferedAmount === 0, 20000, 'stdin drained');
  ws.send(Buffer.from([255, 0]));
  await closed;
  assert.is(out, 'drained\n');
  assert.is(st, '{"metadata":{},"status":"Success"}');
});

test.run();
