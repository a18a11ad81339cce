/** src/api/containers.ts: list and inspect reach the ContainerBackend with parsed options. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startServer, type TestServer } from '../helpers/server.js';
import { FakeBackend } from '../helpers/fake-backend.js';
import { httpRequest } from '../helpers/raw-client.js';

let srv: TestServer;
const backend = new FakeBackend();
test.before(async () => {
  srv = await startServer({ backend });
});
test.after(() => srv.close());

// (JSON round trip: parsed filters are null-prototype objects, which deep-equal never matches to a literal)
const lastCall = () => JSON.parse(JSON.stringify(backend.calls.at(-1)!)) as (typeof backend.calls)[number];

test('~> GET /containers/json parses all, limit, size and filters (Go map-of-bools form)', async () => {
  backend.containers = [{ Id: 'a'.repeat(64), Names: ['/web'] }];
  const f = encodeURIComponent('{"label":{"com.docker.compose.project=p":true},"status":{"running":true}}');
  const r = await httpRequest(srv, 'GET', `/v1.50/containers/json?all=1&limit=1&size=1&filters=${f}`);
  assert.is(r.status, 200);
  assert.equal(JSON.parse(r.body.toString()), backend.containers);
  assert.equal(lastCall(), {
    method: 'listContainers',
    args: [
      { all: true, limit: 1, size: true, filters: { label: ['com.docker.compose.project=p'], status: ['running'] } },
      '1.50',
    ],
  });
});

test('~> dockerode/testcontainers spellings: true/false, arrays, empty limit', async () => {
  const f = encodeURIComponent(
    '{"label":["org.testcontainers.container-hash=h"],"status":["created","running","paused","exited"]}',
  );
  await httpRequest(srv, 'GET', `/containers/json?all=false&limit=&filters=${f}`);
  assert.equal(lastCall().args, [
    {
      all: false,
      size: false,
      filters: { label: ['org.testcontainers.container-hash=h'], status: ['created', 'running', 'paused', 'exited'] },
    },
    '1.51',
  ]);
  await httpRequest(srv, 'GET', '/containers/json?limit=-1');
  assert.equal(lastCall().args[0], { all: false, size: false, filters: {} }, 'limit -1 means no limit');
});

test('~> bad query values are 400', async () => {
  for (const q of ['limit=abc', 'filters=%7Bnope']) {
    const r = await httpRequest(srv, 'GET', `/containers/json?${q}`);
    assert.is(r.status, 400, q);
  }
});

test('~> GET /containers/{name}/json: found, not found (404 No such container), names with slashes', async () => {
  backend.containers = [{ Id: 'b'.repeat(64), Name: '/db' }];
  let r = await httpRequest(srv, 'GET', '/containers/db/json?size=1');
  assert.is(r.status, 200);
  assert.equal(lastCall(), { method: 'inspectContainer', args: ['db', { size: true }, '1.51'] });
  r = await httpRequest(srv, 'GET', '/v1.41/containers/nosuch/json');
  assert.is(r.status, 404);
  assert.equal(JSON.parse(r.body.toString()), { message: 'No such container: nosuch' });
  await httpRequest(srv, 'GET', '/containers//db/json');
  assert.is(lastCall().args[0], '/db');
});

test.run();
