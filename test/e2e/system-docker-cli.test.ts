/**
 * The real docker CLI (v28, on PATH) against kuber-api with no cluster configured: version, info,
 * ps and inspect, over the unix socket and over TCP.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startServer, type TestServer } from '../helpers/server.js';
import { docker, dockerAvailable } from '../helpers/docker-cli.js';

let srv: TestServer;
const available = dockerAvailable();
if (!available) console.log('SKIP docker CLI tests: no `docker` on PATH');
const t = available ? test : test.skip;

test.before(async () => {
  srv = await startServer();
});
test.after(async () => {
  await srv.close();
});

for (const via of ['unix', 'tcp'] as const) {
  const host = () => (via === 'unix' ? srv.unixHost : srv.tcpHost);

  t(`~> docker version succeeds over ${via} and reports API 1.51`, async () => {
    const r = await docker(host(), [
      'version',
      '--format',
      '{{.Server.APIVersion}} {{.Server.MinAPIVersion}} {{.Server.Os}} {{.Client.APIVersion}}',
    ]);
    assert.is(r.code, 0, r.stderr);
    // The server advertises 1.51; the CLI (1.50 for docker 28.2) negotiates min(its own, 1.51).
    const [server, min, os, client] = r.stdout.trim().split(' ');
    assert.equal([server, min, os], ['1.51', '1.24', 'linux']);
    assert.match(client!, /^1\.(\d+)$/);
    assert.ok(Number(client!.split('.')[1]) <= 51, `client API ${client}`);
  });

  t(`~> docker info succeeds over ${via}`, async () => {
    const r = await docker(host(), ['info', '--format', '{{json .}}']);
    assert.is(r.code, 0, r.stderr);
    const info = JSON.parse(r.stdout);
    assert.is(info.OSType, 'linux');
    assert.is(info.Swarm.LocalNodeState, 'inactive');
    assert.is(info.IndexServerAddress, 'https://index.docker.io/v1/');
    assert.is(info.Containers, 0);
    assert.ok(info.NCPU > 0 && info.MemTotal > 0);
    assert.ok(info.Warnings.some((w: string) => w.includes('no Kubernetes cluster is configured')));
  });
}

t('~> docker info prints the human-readable report', async () => {
  const r = await docker(srv.unixHost, ['info']);
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stdout, /Containers: 0/);
  assert.match(r.stdout, /Swarm: inactive/);
  assert.match(r.stderr, /WARNING: no Kubernetes cluster is configured/);
});

t('~> docker ps against an empty engine prints the header', async () => {
  const r = await docker(srv.unixHost, ['ps']);
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stdout, /^CONTAINER ID\s+IMAGE\s+COMMAND\s+CREATED\s+STATUS\s+PORTS\s+NAMES\n$/);
  const a = await docker(srv.tcpHost, ['ps', '-a', '--filter', 'label=x=y', '-n', '3']);
  assert.is(a.code, 0, a.stderr);
  assert.match(a.stdout, /^CONTAINER ID/);
});

t('~> docker inspect nosuch exits 1 with "No such object"', async () => {
  const r = await docker(srv.unixHost, ['inspect', 'nosuch']);
  assert.is(r.code, 1);
  assert.match(r.stderr, /No such object: nosuch/);
  assert.is(r.stdout.trim(), '[]');
});

t('~> docker container inspect nosuch shows the 404 message', async () => {
  const r = await docker(srv.unixHost, ['container', 'inspect', 'nosuch']);
  assert.is(r.code, 1);
  assert.match(r.stderr, /No such container: nosuch/);
});

t('~> an unsupported feature is a 501 naming it', async () => {
  const r = await docker(srv.unixHost, ['node', 'ls']);
  assert.is(r.code, 1);
  assert.match(r.stderr, /Swarm mode is not supported by kuber-api/);
});

test.run();
