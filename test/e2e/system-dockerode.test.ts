/** dockerode (from npm, as testcontainers uses it) against kuber-api: ping, version, info, list, inspect. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import Docker from 'dockerode';
import { startServer, type TestServer } from '../helpers/server.js';

let srv: TestServer;
test.before(async () => {
  srv = await startServer();
});
test.after(() => srv.close());

const clients = () =>
  [
    ['unix', new Docker({ socketPath: srv.socketPath })],
    ['tcp', new Docker({ host: '127.0.0.1', port: srv.port, protocol: 'http' })],
    ['unix, pinned version', new Docker({ socketPath: srv.socketPath, version: 'v1.41' })],
  ] as const;

test('~> ping() answers OK', async () => {
  for (const [via, d] of clients()) {
    const r = await d.ping();
    assert.is(String(r), 'OK', via);
  }
});

test('~> version() and info()', async () => {
  for (const [via, d] of clients()) {
    const v = await d.version();
    assert.is(v.ApiVersion, '1.51', via);
    assert.is(v.Os, 'linux');
    const info = await d.info();
    assert.is(info.OSType, 'linux', via);
    assert.is(info.Containers, 0);
    assert.is(info.Swarm.LocalNodeState, 'inactive');
  }
});

test('~> listContainers() with array filters, and inspect of a missing container is a 404', async () => {
  const d = new Docker({ socketPath: srv.socketPath });
  const list = await d.listContainers({
    all: true,
    limit: 1,
    filters: { label: ['org.testcontainers=true'], status: ['running'] },
  });
  assert.equal(list, []);
  try {
    await d.getContainer('nosuch').inspect();
    assert.unreachable('inspect should fail');
  } catch (err) {
    const e = err as { statusCode?: number; json?: { message?: string } };
    assert.is(e.statusCode, 404);
    assert.is(e.json?.message, 'No such container: nosuch');
  }
});

test('~> an unsupported call is a 501 with the reason in the JSON body', async () => {
  const d = new Docker({ socketPath: srv.socketPath });
  try {
    await d.listServices();
    assert.unreachable();
  } catch (err) {
    const e = err as { statusCode?: number; json?: { message?: string } };
    assert.is(e.statusCode, 501);
    assert.match(String(e.json?.message), /Swarm mode is not supported/);
  }
});

test('~> getEvents() gets its stream head at once', async () => {
  const d = new Docker({ socketPath: srv.socketPath });
  const started = Date.now();
  const stream = (await d.getEvents({ since: Math.floor(Date.now() / 1000) - 10 })) as NodeJS.ReadableStream & {
    destroy(): void;
  };
  assert.ok(Date.now() - started < 2000, 'the head arrived before any event');
  stream.destroy();
});

test.run();
