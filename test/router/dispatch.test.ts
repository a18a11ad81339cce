/**
 * src/router/dispatch.ts + error-writer.ts through a real server: versions, 404, error shapes,
 * middleware headers, percent-decoding. Shapes checked against dockerd (see test/e2e/system-oracle).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createDispatcher } from '../../src/router/dispatch.js';
import { versionHeaders } from '../../src/router/version.js';
import { conflict, notFound, notModified, EngineError } from '../../src/errors.js';
import { startHttp, type HttpTestServer } from '../helpers/http.js';
import { httpRequest } from '../helpers/raw-client.js';
import type { RouteDef } from '../../src/router/router.js';

const routes: RouteDef[] = [
  { method: 'GET', path: '/ok', handler: 'ok' },
  { method: 'GET', path: '/things/{name:.*}/json', handler: 'thing' },
  { method: 'POST', path: '/throw/{kind}', handler: 'thrower' },
  { method: 'GET', path: '/stream-then-fail', handler: 'streamFail' },
];
const handlers: Record<string, Parameters<typeof createDispatcher>[1] extends (r: RouteDef) => infer H ? H : never> = {
  ok: (req, res) => res.json(200, { apiVersion: req.apiVersion }),
  thing: (req, res) => res.json(200, { name: req.params['name'] }),
  thrower: (req) => {
    const kind = req.params['kind'];
    if (kind === 'notfound') throw notFound('No such container: x');
    if (kind === 'conflict') throw conflict('name in use');
    if (kind === 'notmodified') throw notModified();
    if (kind === 'toolarge') throw new EngineError('too-large', 'too big');
    throw new TypeError('plain bug');
  },
  streamFail: (_req, res) => {
    res.stream(200, { 'Content-Type': 'application/json' }).write('{"a":1}\n');
    throw new Error('failed mid-stream');
  },
};

let srv: HttpTestServer;
test.before(async () => {
  const { handler } = createDispatcher(routes, (r) => handlers[r.handler]!, {
    apiVersion: '1.51',
    minApiVersion: '1.24',
    headers: versionHeaders('1.51', '28.3.3'),
  });
  srv = await startHttp(handler);
});
test.after(() => srv.close());

test('~> unversioned and /v1.NN/ paths reach the same route; apiVersion is set', async () => {
  assert.equal(JSON.parse((await httpRequest(srv.unix, 'GET', '/ok')).body.toString()), { apiVersion: '1.51' });
  assert.equal(JSON.parse((await httpRequest(srv.unix, 'GET', '/v1.38/ok')).body.toString()), { apiVersion: '1.38' });
});

test('~> middleware headers on routed responses, Go spelling', async () => {
  const r = await httpRequest(srv.unix, 'GET', '/v1.45/ok');
  assert.is(r.headers['api-version'], '1.51');
  assert.is(r.headers['ostype'], 'linux');
  assert.is(r.headers['server'], 'Docker/28.3.3 (linux)');
  assert.is(r.headers['docker-experimental'], 'false');
  assert.ok(r.names.includes('Api-Version') && r.names.includes('Ostype'));
  assert.is(r.headers['content-type'], 'application/json');
  assert.is(r.body.toString(), '{"apiVersion":"1.45"}\n', 'JSON + newline, as Go json.Encoder');
});

test('~> unknown route: 404 page not found, no middleware headers (as dockerd)', async () => {
  for (const [m, p] of [
    ['GET', '/nosuch'],
    ['GET', '/v1.51/nosuch'],
    ['POST', '/ok'],
    ['GET', '/v1.99/nosuch'],
  ] as const) {
    const r = await httpRequest(srv.unix, m, p);
    assert.is(r.status, 404, p);
    assert.is(r.body.toString(), '{"message":"page not found"}\n');
    assert.is(r.headers['content-type'], 'application/json');
    assert.is(r.headers['api-version'], undefined);
  }
});

test("~> version too new / too old: 400 with dockerd's message and base headers only", async () => {
  let r = await httpRequest(srv.unix, 'GET', '/v1.99/ok');
  assert.is(r.status, 400);
  assert.equal(JSON.parse(r.body.toString()), {
    message: 'client version 1.99 is too new. Maximum supported API version is 1.51',
  });
  assert.is(r.headers['api-version'], '1.51');
  assert.is(r.headers['docker-experimental'], undefined);
  r = await httpRequest(srv.unix, 'GET', '/v1.12/ok');
  assert.is(r.status, 400);
  assert.match(
    JSON.parse(r.body.toString()).message,
    /^client version 1\.12 is too old\. Minimum supported API version is 1\.24, please upgrade/,
  );
});

test('~> errors are {"message"} with the category status; content type exact', async () => {
  const cases: [string, number, string][] = [
    ['notfound', 404, 'No such container: x'],
    ['conflict', 409, 'name in use'],
    ['bug', 500, 'plain bug'],
  ];
  for (const [kind, status, message] of cases) {
    const r = await httpRequest(srv.tcp, 'POST', `/throw/${kind}`);
    assert.is(r.status, status);
    assert.is(r.headers['content-type'], 'application/json');
    assert.equal(JSON.parse(r.body.toString()), { message });
  }
});

test('~> 304 has no body; 413 closes the connection', async () => {
  const r = await httpRequest(srv.tcp, 'POST', '/throw/notmodified');
  assert.is(r.status, 304);
  assert.is(r.body.length, 0);
  assert.is(r.headers['content-length'], undefined);
  const t = await httpRequest(srv.tcp, 'POST', '/throw/toolarge', { headers: { Connection: 'keep-alive' } });
  assert.is(t.status, 413);
  assert.is(t.headers['connection'], 'close');
});

test('~> percent-encoded names are decoded once (moby matches the decoded path)', async () => {
  const r = await httpRequest(srv.unix, 'GET', '/things/a%2Fb%20c/json');
  assert.equal(JSON.parse(r.body.toString()), { name: 'a/b c' });
  const bad = await httpRequest(srv.unix, 'GET', '/things/%zz/json');
  assert.is(bad.status, 400);
});

test('~> an error after a stream started cuts the connection (the status cannot change)', async () => {
  const { RawClient } = await import('../helpers/raw-client.js');
  const c = await RawClient.connect(srv.unix);
  await c.write('GET /stream-then-fail HTTP/1.1\r\n\r\n');
  await c.waitEnd();
  assert.match(c.text, /^HTTP\/1\.1 200 OK/);
  assert.not.ok(c.text.endsWith('0\r\n\r\n'), 'no clean end of the chunked body');
});

test("~> a browser Origin is refused with 403 unless listed in --api-cors-header; listed ones get dockerd's CORS headers and preflights", async () => {
  let ran = 0;
  const { handler } = createDispatcher(
    [{ method: 'POST', path: '/containers/create', handler: 'create' }],
    () => (_req, res) => {
      ran++;
      res.json(201, { Id: 'x' });
    },
    {
      apiVersion: '1.51',
      minApiVersion: '1.24',
      headers: versionHeaders('1.51', '28.3.3'),
      corsOrigins: ['https://ci.example.com'],
    },
  );
  const s2 = await startHttp(handler);
  try {
    const body = '{"Image":"busybox"}';
    const evil = await httpRequest(s2.unix, 'POST', '/containers/create', {
      headers: { Origin: 'https://evil.example', 'Content-Type': 'text/plain' },
      body,
    });
    assert.is(evil.status, 403);
    assert.match(
      JSON.parse(evil.body.toString()).message,
      /^cross-origin request refused: Origin "https:\/\/evil.example" is not allowed .*--api-cors-header/,
    );
    const nul = await httpRequest(s2.unix, 'POST', '/containers/create', { headers: { Origin: 'null' }, body });
    assert.is(nul.status, 403);
    assert.is(ran, 0);
    const ok = await httpRequest(s2.unix, 'POST', '/containers/create', {
      headers: { Origin: 'https://ci.example.com', 'Content-Type': 'application/json' },
      body,
    });
    assert.is(ok.status, 201);
    assert.is(ok.headers['access-control-allow-origin'], 'https://ci.example.com');
    assert.is(ok.headers['access-control-allow-methods'], 'HEAD, GET, POST, DELETE, PUT, OPTIONS');
    const pre = await httpRequest(s2.unix, 'OPTIONS', '/containers/create', {
      headers: { Origin: 'https://ci.example.com', 'Access-Control-Request-Method': 'POST' },
    });
    assert.is(pre.status, 200);
    assert.match(pre.headers['access-control-allow-headers'] ?? '', /Content-Type/);
    assert.is(ran, 1);
    const cli = await httpRequest(s2.unix, 'POST', '/containers/create', {
      headers: { 'Content-Type': 'application/json' },
      body,
    });
    assert.is(cli.status, 201, 'no Origin (every docker client): served');
  } finally {
    await s2.close();
  }
});

test('~> no --api-cors-header: every request with an Origin is refused, even GET /_ping', async () => {
  const r = await httpRequest(srv.unix, 'GET', '/ok', { headers: { Origin: 'http://localhost:8080' } });
  assert.is(r.status, 403);
});

test.run();
