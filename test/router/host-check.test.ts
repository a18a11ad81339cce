/**
 * router/host-check: DNS rebinding. Raw requests over TCP and the unix socket: the Host values real
 * clients send (captured: docker CLI `api.moby.localhost` on unix and DOCKER_HOST's host:port on
 * TCP, docker-py/compose and dockerode `localhost`, older docker CLIs `docker`) are served; a
 * rebinding name gets 403 naming --allowed-hosts, unless listed; a Host that does not parse is 400.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createDispatcher } from '../../src/router/dispatch.js';
import { hostAllowed, hostOf, hostPolicy } from '../../src/router/host-check.js';
import { versionHeaders } from '../../src/router/version.js';
import { startHttp, type HttpTestServer } from '../helpers/http.js';
import { parseResponses, rawExchange, type Target } from '../helpers/raw-client.js';

let ran = 0;
function dispatcher(allowedHosts?: string[]) {
  return createDispatcher(
    [{ method: 'GET', path: '/_ping', handler: 'ping' }],
    () => (_req, res) => {
      ran++;
      res.json(200, 'OK');
    },
    {
      apiVersion: '1.51',
      minApiVersion: '1.24',
      headers: versionHeaders('1.51', '28.3.3'),
      hostname: 'ci-runner-7',
      ...(allowedHosts ? { allowedHosts } : {}),
    },
  ).handler;
}

/** GET /_ping with exactly these header lines (no Host added). */
async function ping(target: Target, headerLines: string[]): Promise<{ status: number; message?: string }> {
  const head = ['GET /_ping HTTP/1.1', ...headerLines, 'Connection: close', '', ''].join('\r\n');
  const c = await rawExchange(target, head, { end: false });
  const [r] = parseResponses(c.data, { ended: true }).responses;
  if (!r) throw new Error(`no response: ${JSON.stringify(c.text)}`);
  const body = r.body.toString();
  return { status: r.status, ...(r.status >= 400 ? { message: JSON.parse(body).message } : {}) };
}

let srv: HttpTestServer;
test.before(async () => {
  srv = await startHttp(dispatcher());
});
test.after(() => srv.close());

test('~> the Host values real clients send are served, over TCP and unix', async () => {
  const hosts = [
    `127.0.0.1:${srv.tcp.port}`,
    `localhost:${srv.tcp.port}`,
    `[::1]:${srv.tcp.port}`,
    `10.42.0.17:2375`, // a sidecar reached by its Pod IP
    'api.moby.localhost',
    'localhost',
    'docker',
    'docker:2375',
    'host.docker.internal:2375',
    'ci-runner-7:2375', // the machine's hostname
    'LOCALHOST.',
  ];
  for (const target of [srv.tcp, srv.unix] as Target[])
    for (const h of hosts)
      assert.is((await ping(target, [`Host: ${h}`])).status, 200, `${JSON.stringify(target)} ${h}`);
  assert.is((await ping(srv.tcp, [])).status, 200, 'no Host (HTTP/1.0 style)');
});

test('~> a rebinding name is 403 naming --allowed-hosts, over TCP and unix; nothing runs', async () => {
  ran = 0;
  for (const target of [srv.tcp, srv.unix] as Target[])
    for (const h of [
      `evil.example:${srv.tcp.port}`,
      'rebind.127.0.0.1.nip.io:2375',
      'localhost.evil.example',
      'dockerx',
    ]) {
      const r = await ping(target, [`Host: ${h}`]);
      assert.is(r.status, 403, h);
      assert.match(
        r.message ?? '',
        new RegExp(`^request refused: Host "${h.replace(/\./g, '\\.')}" is not allowed .*--allowed-hosts`),
      );
    }
  assert.is(ran, 0);
});

test('~> a Host that does not parse (or two Host lines) is 400', async () => {
  for (const lines of [
    ['Host: a b'],
    ['Host: evil.example:2375/x'],
    ['Host: localhost', 'Host: evil.example'],
    ['Host: [zz]:1'],
  ]) {
    const r = await ping(srv.tcp, lines);
    assert.is(r.status, 400, lines.join(' | '));
    assert.match(r.message ?? '', /^invalid Host header/);
  }
});

test('~> --allowed-hosts adds names; * allows any', async () => {
  const s2 = await startHttp(dispatcher(['kuber-api.ci.svc', 'Shared-Docker']));
  const s3 = await startHttp(dispatcher(['*']));
  try {
    assert.is((await ping(s2.tcp, ['Host: kuber-api.ci.svc:2375'])).status, 200);
    assert.is((await ping(s2.tcp, ['Host: shared-docker'])).status, 200);
    assert.is((await ping(s2.tcp, ['Host: ci.svc'])).status, 403);
    assert.is((await ping(s3.tcp, ['Host: evil.example'])).status, 200);
  } finally {
    await s2.close();
    await s3.close();
  }
});

test('~> hostOf / hostAllowed', () => {
  assert.is(hostOf('[::1]:2375'), '::1');
  assert.is(hostOf('example.com:80'), 'example.com');
  assert.is(hostOf('[example.com]:80'), undefined);
  assert.is(hostOf('a,b'), undefined);
  const p = hostPolicy([], 'box');
  for (const h of ['127.0.0.2', '::ffff:127.0.0.1', '192.168.1.9', 'x.localhost', 'box', 'Box'])
    assert.ok(hostAllowed(h, p), h);
  for (const h of ['localhost.example', 'boxes', 'example.com']) assert.not.ok(hostAllowed(h, p), h);
});

test.run();
