/**
 * src/api/system.ts over HTTP: _ping, /version, /info, /events, OPTIONS. Field sets follow
 * moby api/types/system/info.go (and what dockerd 26 answers, see test/e2e/system-oracle.test.ts).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startServer, type TestServer } from '../helpers/server.js';
import { FakeBackend, FakeEvents, containerEvent } from '../helpers/fake-backend.js';
import { httpRequest, RawClient, parseResponses } from '../helpers/raw-client.js';
import { delay } from '../helpers/http.js';

let srv: TestServer;
const backend = new FakeBackend();
const events = new FakeEvents();
test.before(async () => {
  srv = await startServer({ backend, events });
});
test.after(() => srv.close());

const json = (b: Buffer) => JSON.parse(b.toString());

test('~> GET /_ping: 200 OK text/plain with the engine-detection headers', async () => {
  for (const path of ['/_ping', '/v1.24/_ping', '/v1.51/_ping']) {
    const r = await httpRequest(srv, 'GET', path);
    assert.is(r.status, 200);
    assert.is(r.body.toString(), 'OK');
    assert.is(r.headers['content-type'], 'text/plain; charset=utf-8');
    assert.is(r.headers['api-version'], '1.51');
    assert.is(r.headers['ostype'], 'linux');
    assert.is(r.headers['docker-experimental'], 'false');
    assert.is(r.headers['builder-version'], '1');
    assert.is(r.headers['swarm'], 'inactive');
    assert.is(r.headers['cache-control'], 'no-cache, no-store, must-revalidate');
    assert.is(r.headers['pragma'], 'no-cache');
    assert.match(r.headers['server']!, /^Docker\/28\.3\.3 \(linux\)$/);
  }
});

test('~> HEAD /_ping: the same headers, Content-Length 0, no body', async () => {
  const c = await RawClient.connect({ path: srv.socketPath });
  await c.write('HEAD /_ping HTTP/1.1\r\nHost: docker\r\n\r\nGET /_ping HTTP/1.1\r\nHost: docker\r\n\r\n');
  const [h, g] = await c.waitResponses(2, 5000, { head: [0] });
  assert.is(h!.status, 200);
  assert.is(h!.headers['content-length'], '0');
  assert.is(h!.headers['api-version'], '1.51');
  assert.is(g!.body.toString(), 'OK', 'the HEAD left nothing on the wire');
  c.destroy();
});

test('~> GET /version: every field, ApiVersion equal to the ping header', async () => {
  const r = await httpRequest(srv, 'GET', '/version');
  const v = json(r.body);
  for (const k of [
    'Platform',
    'Components',
    'Version',
    'ApiVersion',
    'MinAPIVersion',
    'GitCommit',
    'GoVersion',
    'Os',
    'Arch',
    'KernelVersion',
    'BuildTime',
  ])
    assert.ok(k in v, k);
  assert.is(v.ApiVersion, r.headers['api-version']);
  assert.is(v.ApiVersion, '1.51');
  assert.is(v.MinAPIVersion, '1.24');
  assert.is(v.Os, 'linux');
  assert.is(v.Version, '28.3.3');
  const engine = v.Components[0];
  assert.is(engine.Name, 'Engine');
  for (const k of [
    'ApiVersion',
    'MinAPIVersion',
    'GitCommit',
    'GoVersion',
    'Os',
    'Arch',
    'KernelVersion',
    'BuildTime',
    'Experimental',
  ])
    assert.ok(k in engine.Details, k);
  assert.is(engine.Details.ApiVersion, '1.51');
  assert.ok(
    !v.Components.some((c: { Name: string }) => c.Name === 'Kubernetes'),
    'no cluster, no Kubernetes component',
  );
});

test('~> GET /info: the fields clients read, counts from the backend', async () => {
  const info = json((await httpRequest(srv, 'GET', '/info')).body);
  // what testcontainers-node (container-runtime/clients/client.ts) and the docker CLI read from /info
  for (const k of [
    'IndexServerAddress',
    'OperatingSystem',
    'OSType',
    'Architecture',
    'NCPU',
    'MemTotal',
    'Runtimes',
    'Labels',
    'ServerVersion',
  ])
    assert.ok(k in info, k);
  // the rest of moby's system.Info that `docker info` prints
  for (const k of [
    'ID',
    'Name',
    'KernelVersion',
    'ContainersRunning',
    'ContainersPaused',
    'ContainersStopped',
    'Images',
    'Driver',
    'DefaultRuntime',
    'Swarm',
    'SecurityOptions',
    'CgroupDriver',
    'CgroupVersion',
    'Warnings',
  ])
    assert.ok(k in info, k);
  assert.is(info.Containers, 3);
  assert.is(info.ContainersRunning, 1);
  assert.is(info.ContainersStopped, 2);
  assert.is(info.Images, 4);
  assert.is(info.OSType, 'linux');
  assert.is(info.IndexServerAddress, 'https://index.docker.io/v1/');
  assert.is(info.Swarm.LocalNodeState, 'inactive');
  assert.is(info.Swarm.ControlAvailable, false);
  assert.ok(info.Runtimes.runc);
  assert.is(info.ServerVersion, '28.3.3');
  assert.ok(info.Warnings.length === 1 && /no Kubernetes cluster is configured/.test(info.Warnings[0]));
});

test('~> /info and /version describe the Kubernetes side once one is configured', async () => {
  backend.info = {
    ...backend.info,
    kubernetes: { server: 'https://10.0.0.1:6443', version: 'v1.31.2', namespace: 'job-42', simulated: false },
  };
  try {
    const info = json((await httpRequest(srv, 'GET', '/info')).body);
    assert.is(info.Driver, 'kubernetes');
    assert.ok(info.Labels.includes('io.kuber-api.kubernetes.namespace=job-42'));
    assert.ok(info.DriverStatus.some(([k, v]: string[]) => k === 'Kubernetes Server' && v === 'https://10.0.0.1:6443'));
    assert.is(info.Warnings.length, 0);
    assert.match(info.OperatingSystem, /Kubernetes v1\.31\.2/);
    const v = json((await httpRequest(srv, 'GET', '/version')).body);
    const k = v.Components.find((c: { Name: string }) => c.Name === 'Kubernetes');
    assert.equal(k, {
      Name: 'Kubernetes',
      Version: 'v1.31.2',
      Details: { Server: 'https://10.0.0.1:6443', Namespace: 'job-42', Simulated: 'false' },
    });
  } finally {
    delete backend.info.kubernetes;
  }
});

test('~> OPTIONS on any path is 200 (moby optionsHandler)', async () => {
  const r = await httpRequest(srv, 'OPTIONS', '/containers/x/json');
  assert.is(r.status, 200);
  assert.is(r.body.length, 0);
});

test('~> GET /events: head flushed at once, events as JSON lines with legacy fields below 1.52', async () => {
  events.past = [containerEvent('create', 'a'.repeat(64), 1_700_000_000)];
  const c = await RawClient.connect({ path: srv.socketPath });
  await c.write(
    'GET /v1.51/events?since=1699999999&filters=%7B%22type%22%3A%5B%22container%22%5D%7D HTTP/1.1\r\nHost: docker\r\n\r\n',
  );
  await c.waitForText('\r\n\r\n');
  assert.match(c.text, /^HTTP\/1\.1 200 OK\r\n/);
  assert.match(c.text, /Transfer-Encoding: chunked\r\n/);
  assert.match(c.text, /Content-Type: application\/json\r\n/);
  await c.waitForText('"create"');
  const q = events.queries.at(-1)!;
  assert.equal({ ...q.filters }, { type: ['container'] });
  assert.is(q.since, 1_699_999_999_000);
  events.emit(containerEvent('start', 'a'.repeat(64), 1_700_000_001));
  await c.waitForText('"start"');
  c.end();
  await c.waitEnd();
  const [r] = parseResponses(c.data, { ended: true }).responses;
  const lines = r!.body
    .toString()
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  assert.is(lines.length, 2);
  assert.equal(lines[1], {
    status: 'start',
    id: 'a'.repeat(64),
    from: 'busybox',
    ...containerEvent('start', 'a'.repeat(64), 1_700_000_001),
  });
  await delay(20);
  assert.is(events.subscribers.size, 0, 'the client went away: unsubscribed');
});

test('~> GET /events at API 1.52 has no legacy fields', async () => {
  const srv2 = await startServer({ backend, events, apiVersion: '1.52' });
  try {
    const c = await RawClient.connect({ path: srv2.socketPath });
    await c.write('GET /v1.52/events HTTP/1.1\r\nHost: docker\r\n\r\n');
    await c.waitForText('\r\n\r\n');
    await delay(20);
    events.emit(containerEvent('die'));
    await c.waitForText('"die"');
    const body = c.text.slice(c.text.indexOf('\r\n\r\n') + 4);
    const line = JSON.parse(body.slice(body.indexOf('{'), body.lastIndexOf('}') + 1));
    assert.equal(line, containerEvent('die'));
    c.destroy();
  } finally {
    await srv2.close();
  }
});

test('~> GET /events?until=<past> ends at once; until=<soon> ends then', async () => {
  let r = await httpRequest(srv, 'GET', '/events?until=1');
  assert.is(r.status, 200);
  assert.is(r.body.length, 0);
  const started = Date.now();
  r = await httpRequest(srv, 'GET', `/events?until=${(Date.now() + 300) / 1000}`);
  assert.ok(Date.now() - started >= 250);
  assert.is(r.status, 200);
});

test('~> GET /events with bad filters or times is a 400 before the stream starts', async () => {
  const r = await httpRequest(srv, 'GET', '/events?filters=%7Bbad');
  assert.is(r.status, 400);
  assert.match(json(r.body).message, /invalid filter/);
  const t = await httpRequest(srv, 'GET', '/events?since=tomorrow');
  assert.is(t.status, 400);
});

test('~> GET /events: since after until is a 400 (moby wording)', async () => {
  const r = await httpRequest(srv, 'GET', '/events?since=200&until=100');
  assert.is(r.status, 400);
  assert.is(json(r.body).message, '`since` time (200) cannot be after `until` time (100)');
});

test('~> GET /events: Accept json-seq gets RS-prefixed records; image create is hidden below 1.46', async () => {
  const c = await RawClient.connect({ path: srv.socketPath });
  await c.write('GET /v1.45/events HTTP/1.1\r\nHost: docker\r\nAccept: application/json-seq\r\n\r\n');
  await c.waitForText('\r\n\r\n');
  assert.match(c.text, /Content-Type: application\/json-seq\r\n/);
  await delay(20);
  events.emit({ ...containerEvent('x'), Type: 'image', Action: 'create' });
  events.emit({ ...containerEvent('x'), Type: 'image', Action: 'pull' });
  await c.waitForText('"pull"');
  assert.not.match(c.text, /"create"/);
  assert.match(c.text, /\x1e\{"status":"pull"/);
  c.destroy();
});

test('~> GET /info: fields moby keeps for older clients only', async () => {
  const old = json((await httpRequest(srv, 'GET', '/v1.41/info')).body);
  const cur = json((await httpRequest(srv, 'GET', '/v1.51/info')).body);
  assert.is(old.BridgeNfIptables, false);
  assert.is(cur.BridgeNfIptables, undefined);
  assert.ok('AllowNondistributableArtifactsCIDRs' in old.RegistryConfig);
  assert.not.ok('AllowNondistributableArtifactsCIDRs' in cur.RegistryConfig);
  assert.ok('Expected' in old.RuncCommit);
  assert.not.ok('Expected' in cur.RuncCommit);
});

test('~> the Docker API refuses a browser Origin by default (403) and serves one listed with --api-cors-header', async () => {
  const r = await httpRequest(srv, 'GET', '/v1.51/version', { headers: { Origin: 'https://page.example' } });
  assert.is(r.status, 403);
  assert.match(JSON.parse(r.body.toString()).message, /--api-cors-header/);
  const srv2 = await startServer({ backend, events, corsOrigins: ['https://page.example'] });
  try {
    const ok = await httpRequest(srv2, 'GET', '/v1.51/version', { headers: { Origin: 'https://page.example' } });
    assert.is(ok.status, 200);
    assert.is(ok.headers['access-control-allow-origin'], 'https://page.example');
  } finally {
    await srv2.close();
  }
});

test.run();
