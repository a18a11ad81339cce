/**
 * Differential checks against a real dockerd (the dockerd-oracle: `../shared/tools/dockerd-oracle up`,
 * relative to the repository; `.ci/run` starts it): the same raw requests to both, and the parts of
 * the answers clients depend on must agree (status, content type, header names, error wording,
 * field sets). Skipped with a SKIP line when no oracle runs; failed when ORACLE_SOCKET promised one
 * (test/helpers/tools.ts).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startServer, type TestServer } from '../helpers/server.js';
import { httpRequest, rawExchange, parseResponses, type ParsedResponse } from '../helpers/raw-client.js';
import { findOracle } from '../helpers/tools.js';

const found = await findOracle('dockerd differential tests');
const up = !!found;
const ORACLE = found ?? '';
const t = up ? test : test.skip;

let srv: TestServer;
let oracleApi = '';
test.before(async () => {
  srv = await startServer();
  if (up) oracleApi = (await httpRequest({ path: ORACLE }, 'GET', '/_ping')).headers['api-version']!;
});
test.after(() => srv.close());

const both = async (
  method: string,
  path: (api: string) => string,
  opts: { headers?: Record<string, string>; body?: string } = {},
): Promise<[ParsedResponse, ParsedResponse]> => [
  await httpRequest({ path: srv.socketPath }, method, path('1.51'), opts),
  await httpRequest({ path: ORACLE }, method, path(oracleApi), opts),
];
const IGNORED = new Set(['date', 'content-length', 'server', 'api-version', 'connection']);
const names = (r: ParsedResponse) =>
  Object.keys(r.headers)
    .filter((k) => !IGNORED.has(k))
    .sort();
const json = (r: ParsedResponse) => JSON.parse(r.body.toString());

t('~> GET and HEAD /_ping: same status, body, content type and header set (Builder-Version aside)', async () => {
  for (const m of ['GET', 'HEAD']) {
    const [ours, theirs] = await both(m, () => '/_ping');
    assert.is(ours.status, theirs.status);
    assert.is(ours.body.toString(), theirs.body.toString());
    assert.is(ours.headers['content-type'], theirs.headers['content-type']);
    assert.is(ours.headers['content-length'], theirs.headers['content-length'], m);
    assert.equal(names(ours), names(theirs), m);
    for (const h of ['ostype', 'docker-experimental', 'swarm', 'cache-control', 'pragma'])
      assert.is(ours.headers[h], theirs.headers[h], h);
  }
});

t('~> unknown routes: the same 404 bytes, no middleware headers', async () => {
  for (const [m, p] of [
    ['GET', '/nosuch'],
    ['POST', '/_ping'],
    ['GET', '/v1.40/nosuch'],
  ] as const) {
    const [ours, theirs] = await both(m, () => p);
    assert.is(ours.status, 404);
    assert.is(theirs.status, 404);
    assert.is(ours.body.toString(), theirs.body.toString());
    assert.equal(names(ours), names(theirs));
  }
});

t('~> versions out of range: same status, wording and headers', async () => {
  for (const v of ['1.99', '1.12']) {
    const [ours, theirs] = await both('GET', () => `/v${v}/version`);
    assert.is(ours.status, theirs.status);
    assert.is(json(ours).message.replace('1.51', 'MAX'), json(theirs).message.replace(oracleApi, 'MAX'));
    assert.equal(names(ours), names(theirs));
  }
});

t('~> a missing container: same 404 JSON error', async () => {
  const [ours, theirs] = await both('GET', (api) => `/v${api}/containers/nosuch/json`);
  assert.is(ours.status, theirs.status);
  assert.equal(json(ours), json(theirs));
  assert.is(ours.headers['content-type'], theirs.headers['content-type']);
  assert.equal(names(ours), names(theirs));
});

t("~> GET /version: our fields are a superset of dockerd's", async () => {
  const [ours, theirs] = await both('GET', () => '/version');
  const o = json(ours);
  const d = json(theirs);
  for (const k of Object.keys(d)) assert.ok(k in o, `/version ${k}`);
  for (const k of Object.keys(d.Components[0].Details)) assert.ok(k in o.Components[0].Details, `Engine.Details.${k}`);
  assert.is(typeof o.ApiVersion, typeof d.ApiVersion);
});

t("~> GET /info at dockerd's API version: our fields are a superset of dockerd's", async () => {
  const [ours, theirs] = await both('GET', () => `/v${oracleApi}/info`);
  const o = json(ours);
  const d = json(theirs);
  // KernelMemoryTCP: dropped by moby after 1.45 (cgroup v2 has no kmem.tcp); Containerd: engines > 26
  const missing = Object.keys(d).filter((k) => !(k in o) && k !== 'KernelMemoryTCP');
  assert.equal(missing, []);
  for (const k of Object.keys(d.Swarm)) assert.ok(k in o.Swarm, `Swarm.${k}`);
  for (const k of Object.keys(d.RegistryConfig)) assert.ok(k in o.RegistryConfig, `RegistryConfig.${k}`);
});

t('~> GET /events?until=<past>: both send a chunked 200 that ends at once', async () => {
  const [ours, theirs] = await both('GET', () => '/events?since=1&until=2');
  for (const r of [ours, theirs]) {
    assert.is(r.status, 200);
    assert.is(r.headers['transfer-encoding'], 'chunked');
    assert.is(r.headers['content-type'], 'application/json');
  }
});

t('~> a malformed request: 400 and close from both', async () => {
  for (const raw of [
    'GARBAGE\r\n\r\n',
    'GET / HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n',
    'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n',
  ]) {
    for (const target of [{ path: srv.socketPath }, { path: ORACLE }]) {
      const c = await rawExchange(target, raw, { end: false });
      const [r] = parseResponses(c.data, { ended: true }).responses;
      assert.is(r!.status, 400, `${target.path}: ${raw}`);
      assert.is(r!.headers['connection'], 'close');
    }
  }
});

t('~> unsupported transfer coding: 501 from both; HTTP/2.0: 505 from both', async () => {
  for (const [raw, status] of [
    ['POST /containers/create HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n', 501],
    ['GET /_ping HTTP/2.0\r\nHost: x\r\n\r\n', 505],
  ] as const) {
    for (const target of [{ path: srv.socketPath }, { path: ORACLE }]) {
      const c = await rawExchange(target, raw, { end: false });
      assert.is(parseResponses(c.data, { ended: true }).responses[0]!.status, status, `${target.path}: ${raw}`);
    }
  }
});

t('~> a bad JSON body: 400 "invalid JSON: ..." from both', async () => {
  // networks/create parses its body before any side effect, in dockerd and here
  const [ours, theirs] = await both('POST', () => '/networks/create', {
    headers: { 'Content-Type': 'application/json' },
    body: '{bad}',
  });
  assert.is(theirs.status, 400);
  assert.match(json(theirs).message, /^invalid JSON: /);
  // (while our networks family is not written, the route is a 501 JSON error instead)
  if (ours.status !== 501) {
    assert.is(ours.status, 400);
    assert.match(json(ours).message, /^invalid JSON: /);
  }
});

test.run();
