/**
 * The Host allow-list (router/host-check.ts) against the real clients: the docker CLI, docker-compose
 * v1 (docker-py), dockerode and testcontainers each reach kuber-api over the unix socket and over
 * TCP (by 127.0.0.1 and by localhost), with the Host each really sends; a rebinding name is
 * refused with 403 by the same server, and served once listed with --allowed-hosts.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Docker from 'dockerode';
import { startServer, type TestServer } from '../helpers/server.js';
import { docker, dockerAvailable } from '../helpers/docker-cli.js';
import { parseResponses, rawExchange } from '../helpers/raw-client.js';

const REPO = fileURLToPath(new URL('../../../', import.meta.url));
let srv: TestServer;
let listed: TestServer;
let project: string;

test.before(async () => {
  srv = await startServer();
  listed = await startServer({ allowedHosts: ['kuber-api.ci.svc'] });
  project = mkdtempSync(join(tmpdir(), 'kapi-hosts-'));
  writeFileSync(join(project, 'docker-compose.yml'), 'version: "2"\nservices:\n  a:\n    image: busybox\n');
});
test.after(async () => {
  await srv?.close();
  await listed?.close();
  rmSync(project, { recursive: true, force: true });
});

function run(
  cmd: string,
  args: string[],
  env: Record<string, string>,
  cwd = REPO,
): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(
      cmd,
      args,
      { cwd, env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env }, timeout: 60_000 },
      (err, stdout, stderr) =>
        resolve({ code: err ? Number((err as { code?: unknown }).code) || 1 : 0, out: stdout + stderr }),
    );
  });
}

const onPath = async (tool: string) => (await run('sh', ['-c', `command -v ${tool}`], {})).code === 0;
const hosts = () => [srv.unixHost, srv.tcpHost, `tcp://localhost:${srv.port}`];

test('~> the docker CLI: version and ps over unix, 127.0.0.1 and localhost', async () => {
  if (!dockerAvailable()) return console.log('SKIP docker CLI: not on PATH');
  for (const h of hosts()) {
    const r = await docker(h, ['ps', '--format', '{{.ID}}']);
    assert.is(r.code, 0, `${h}: ${r.stderr}`);
    const v = await docker(h, ['version', '--format', '{{.Server.APIVersion}}']);
    assert.is(v.stdout.trim(), '1.51', `${h}: ${v.stderr}`);
  }
});

test('~> docker-compose v1 (docker-py): ps over unix, 127.0.0.1 and localhost', async () => {
  if (!(await onPath('docker-compose'))) return console.log('SKIP docker-compose: not on PATH');
  for (const h of hosts()) {
    const r = await run('docker-compose', ['ps'], { DOCKER_HOST: h }, project);
    assert.is(r.code, 0, `${h}: ${r.out}`);
  }
});

test('~> dockerode: ping, version and listContainers over unix, 127.0.0.1 and localhost', async () => {
  for (const d of [
    new Docker({ socketPath: srv.socketPath }),
    new Docker({ host: '127.0.0.1', port: srv.port }),
    new Docker({ host: 'localhost', port: srv.port }),
  ]) {
    assert.is(String(await d.ping()), 'OK');
    assert.is((await d.version()).ApiVersion, '1.51');
    assert.equal(await d.listContainers(), []);
  }
});

test('~> testcontainers: its runtime client finds the engine over unix, 127.0.0.1 and localhost', async () => {
  // A process each: testcontainers keeps one runtime client per process.
  const probe =
    "const m = await import('testcontainers'); const c = await m.getContainerRuntimeClient(); console.log('API=' + c.info.containerRuntime.serverVersion + ' OS=' + c.info.containerRuntime.operatingSystem);";
  for (const h of hosts()) {
    const r = await run(process.execPath, ['--input-type=module', '-e', probe], {
      DOCKER_HOST: h,
      TESTCONTAINERS_RYUK_DISABLED: 'true',
      TESTCONTAINERS_HOST_OVERRIDE: 'localhost',
    });
    assert.is(r.code, 0, `${h}: ${r.out}`);
    assert.match(r.out, /API=\S+ OS=/, `${h}: ${r.out}`);
  }
});

async function pingWithHost(port: number, host: string): Promise<number> {
  const c = await rawExchange(
    { port },
    `GET /_ping HTTP/1.1\r\nHost: ${host}\r\nUser-Agent: Mozilla/5.0\r\nConnection: close\r\n\r\n`,
    { end: false },
  );
  return parseResponses(c.data, { ended: true }).responses[0]!.status;
}

test('~> a rebinding name is 403 on the same server; --allowed-hosts lets a listed name in', async () => {
  assert.is(await pingWithHost(srv.port, `attacker.example:${srv.port}`), 403);
  assert.is(await pingWithHost(srv.port, `kuber-api.ci.svc:${srv.port}`), 403);
  assert.is(await pingWithHost(listed.port, `kuber-api.ci.svc:${listed.port}`), 200);
  assert.is(await pingWithHost(listed.port, `attacker.example:${listed.port}`), 403);
});

test.run();
