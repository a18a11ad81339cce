/**
 * src/http/server.ts: listeners (-H syntax, several at once, stale sockets), maxConnections,
 * idle timeout, graceful close.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from '../../src/http/index.js';
import { startHttp, delay, TEST_LIMITS } from '../helpers/http.js';
import { RawClient, parseResponses } from '../helpers/raw-client.js';
import { testLogger } from '../helpers/server.js';

const ok = (_req: unknown, res: { json(s: number, b: unknown): void }) => res.json(200, { ok: true });

test('~> listens on several -H addresses at once and reports them as DOCKER_HOST urls', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'kapi-srv-'));
  const server = createServer(ok, { ...TEST_LIMITS, log: testLogger() });
  const bound = await server.listen([`unix://${dir}/a.sock`, 'tcp://127.0.0.1:0', `${dir}/b.sock`, '127.0.0.1:0']);
  assert.is(bound.length, 4);
  assert.is(bound[0]!.url, `unix://${dir}/a.sock`);
  assert.match(bound[1]!.url, /^tcp:\/\/127\.0\.0\.1:\d+$/);
  assert.is.not(bound[1]!.url, 'tcp://127.0.0.1:0');
  for (const b of bound) {
    const target = b.address.kind === 'unix' ? { path: b.address.path } : { port: b.address.port };
    const c = await RawClient.connect(target);
    await c.write('GET / HTTP/1.1\r\n\r\n');
    const [r] = await c.waitResponses(1);
    assert.is(r!.status, 200);
    c.destroy();
  }
  await server.close(0);
  assert.not.ok(existsSync(`${dir}/a.sock`), 'the socket file is removed on close');
});

test('~> a stale socket file is replaced; a live one or a regular file is refused', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'kapi-srv-'));
  const path = `${dir}/d.sock`;
  // a socket file nobody listens on: the leftover of a server that was SIGKILLed
  const child = spawn(
    process.execPath,
    ['-e', `require('net').createServer().listen(${JSON.stringify(path)}, () => console.log('up'))`],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  await new Promise((r) => child.stdout!.once('data', r));
  child.kill('SIGKILL');
  await new Promise((r) => child.once('exit', r));
  assert.ok(existsSync(path));
  const a = createServer(ok, { ...TEST_LIMITS, log: testLogger() });
  await a.listen([`unix://${path}`]);
  const b = createServer(ok, { ...TEST_LIMITS, log: testLogger() });
  let err: unknown;
  await b.listen([`unix://${path}`]).catch((e) => (err = e));
  assert.match(String(err), /in use/);
  await a.close(0);
  writeFileSync(`${dir}/file`, 'x');
  err = undefined;
  await b.listen([`unix://${dir}/file`]).catch((e) => (err = e));
  assert.match(String(err), /not a socket/);
  await b.close(0);
});

test('~> a bad address fails listen() and closes what was opened', async () => {
  const server = createServer(ok, { ...TEST_LIMITS, log: testLogger() });
  let err: unknown;
  await server.listen(['tcp://127.0.0.1:0', 'ftp://x']).catch((e) => (err = e));
  assert.match(String(err), /invalid listen address/);
});

test('~> maxConnections: one more connection gets 503 and close; a slot freed is usable again', async () => {
  const srv = await startHttp(ok, { maxConnections: 2 });
  const a = await RawClient.connect(srv.tcp);
  const b = await RawClient.connect(srv.unix);
  await a.write('GET / HTTP/1.1\r\n\r\n');
  await b.write('GET / HTTP/1.1\r\n\r\n');
  await a.waitResponses(1);
  await b.waitResponses(1);
  const c = await RawClient.connect(srv.tcp);
  await c.waitEnd();
  const [r] = parseResponses(c.data, { ended: true }).responses;
  assert.is(r!.status, 503);
  assert.match(r!.body.toString(), /too many connections \(limit 2\)/);
  assert.is(srv.server.connectionCount, 2);
  a.destroy();
  await delay(50);
  const d = await RawClient.connect(srv.tcp);
  await d.write('GET / HTTP/1.1\r\n\r\n');
  assert.is((await d.waitResponses(1))[0]!.status, 200);
  d.destroy();
  b.destroy();
  await srv.close();
});

test('~> idleTimeoutMs closes an idle keep-alive connection (no response written)', async () => {
  const srv = await startHttp(ok, { idleTimeoutMs: 150 });
  const c = await RawClient.connect(srv.tcp);
  await c.write('GET / HTTP/1.1\r\n\r\n');
  await c.waitResponses(1);
  const len = c.data.length;
  await c.waitEnd(2000);
  assert.is(c.data.length, len, 'nothing written at the idle close');
  await srv.close();
});

test('~> graceful close: idle connections close now, a running request finishes, new ones are refused', async () => {
  let release!: () => void;
  const srv = await startHttp(async (req, res) => {
    if (req.path === '/slow') await new Promise<void>((r) => (release = r));
    res.json(200, { path: req.path });
  });
  const idle = await RawClient.connect(srv.tcp);
  const busy = await RawClient.connect(srv.unix);
  await busy.write('GET /slow HTTP/1.1\r\n\r\n');
  await delay(30);
  const closing = srv.server.close(5000);
  await idle.waitEnd(1000);
  assert.is(idle.data.length, 0);
  let refused = false;
  await RawClient.connect(srv.tcp).catch(() => (refused = true));
  assert.ok(refused, 'the listener is closed');
  release();
  const [r] = await busy.waitResponses(1);
  assert.is(r!.status, 200);
  assert.is(r!.headers['connection'], 'close', 'the last response says close');
  await busy.waitEnd();
  busy.destroy();
  await closing;
  assert.is(srv.server.connectionCount, 0);
});

test('~> graceful close: a stream that outlives the grace period is cut', async () => {
  const srv = await startHttp((_req, res) => {
    const out = res.stream(200, { 'Content-Type': 'application/json' });
    out.write('{}\n');
  });
  const c = await RawClient.connect(srv.tcp);
  await c.write('GET /events HTTP/1.1\r\n\r\n');
  await c.waitForText('{}\n');
  const started = Date.now();
  await srv.server.close(200);
  const took = Date.now() - started;
  assert.ok(took >= 190 && took < 2000, `closed after ${took} ms`);
  await c.waitEnd();
  assert.not.ok(c.text.endsWith('0\r\n\r\n'), 'the stream was cut, not ended');
  assert.is(srv.server.connectionCount, 0);
});

test.run();
