/**
 * `--tlsverify` as dockerd has it, with the real docker CLI (DOCKER_TLS_VERIFY=1 +
 * DOCKER_CERT_PATH) and certificates made here with openssl: a CA, a server certificate for
 * 127.0.0.1, a client certificate signed by the CA and one signed by another CA. With the right
 * client certificate the CLI works (version, run with stdin over the TLS half-close); without
 * one, or with a foreign one, the TLS handshake refuses the connection.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, mkdirSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { fileURLToPath } from 'node:url';
import { spawnSim, type SpawnedSim } from '../helpers/sim.js';
import { docker, dockerAvailable } from '../helpers/docker-cli.js';

const cli = fileURLToPath(new URL('../../src/cli.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'kapi-tls-'));

function openssl(args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
}

/** ca.pem + ca-key.pem named `name`, and a leaf certificate `leaf` signed by it. */
function makeCa(name: string): void {
  openssl([
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    `${name}-key.pem`,
    '-out',
    `${name}.pem`,
    '-days',
    '2',
    '-subj',
    `/CN=${name}`,
  ]);
}
function makeLeaf(ca: string, leaf: string, ext: string): void {
  openssl([
    'req',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    `${leaf}-key.pem`,
    '-out',
    `${leaf}.csr`,
    '-subj',
    `/CN=${leaf}`,
  ]);
  openssl([
    'x509',
    '-req',
    '-in',
    `${leaf}.csr`,
    '-CA',
    `${ca}.pem`,
    '-CAkey',
    `${ca}-key.pem`,
    '-CAcreateserial',
    '-out',
    `${leaf}.pem`,
    '-days',
    '2',
    '-extfile',
    writeExt(leaf, ext),
  ]);
}
function writeExt(leaf: string, ext: string): string {
  const file = join(dir, `${leaf}.ext`);
  execFileSync('sh', ['-c', `printf '%s\\n' "$1" > "$2"`, 'sh', ext, file]);
  return file;
}
/** A DOCKER_CERT_PATH directory: ca.pem, cert.pem, key.pem. */
function certPath(name: string, leaf: string): string {
  const d = join(dir, name);
  mkdirSync(d);
  copyFileSync(join(dir, 'ca.pem'), join(d, 'ca.pem'));
  copyFileSync(join(dir, `${leaf}.pem`), join(d, 'cert.pem'));
  copyFileSync(join(dir, `${leaf}-key.pem`), join(d, 'key.pem'));
  return d;
}

let sim: SpawnedSim;
let server: ChildProcess;
let out = '';
let port = 0;

test.before(async () => {
  makeCa('ca');
  makeCa('other-ca');
  makeLeaf('ca', 'server', 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth');
  makeLeaf('ca', 'client', 'extendedKeyUsage=clientAuth');
  makeLeaf('other-ca', 'stranger', 'extendedKeyUsage=clientAuth');
  sim = await spawnSim();
  server = spawn(
    process.execPath,
    [
      cli,
      '--kubeconfig',
      sim.kubeconfigPath,
      '--state-dir',
      join(dir, 'state'),
      '-H',
      'tcp://127.0.0.1:0',
      '--tlsverify',
      '--tlscacert',
      join(dir, 'ca.pem'),
      '--tlscert',
      join(dir, 'server.pem'),
      '--tlskey',
      join(dir, 'server-key.pem'),
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  server.stdout!.on('data', (d) => (out += d));
  server.stderr!.on('data', (d) => (out += d));
  const until = Date.now() + 60_000;
  while (!/Kubernetes backend ready/.test(out)) {
    if (Date.now() > until || server.exitCode !== null) throw new Error(`kuber-api did not start: ${out}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  port = Number(/listening on tcp:\/\/127\.0\.0\.1:(\d+) \(TLS, client certificates required\)/.exec(out)![1]);
});

test.after(async () => {
  server?.kill('SIGTERM');
  await sim?.stop();
  rmSync(dir, { recursive: true, force: true });
});

function handshake(opts: { cert?: string; key?: string }): Promise<string> {
  return new Promise((resolve) => {
    const s = tls.connect({
      host: '127.0.0.1',
      port,
      ca: readFileSync(join(dir, 'ca.pem')),
      ...(opts.cert ? { cert: readFileSync(opts.cert), key: readFileSync(opts.key!) } : {}),
    });
    let text = '';
    s.on('secureConnect', () => s.write('GET /_ping HTTP/1.1\r\nHost: docker\r\nConnection: close\r\n\r\n'));
    s.on('data', (d) => (text += d));
    s.on('error', (err) => resolve(`error: ${err.message}`));
    s.on('close', () => resolve(text));
  });
}

test("~> TLS handshake: the CA's client certificate is served; none, or one from another CA, is refused", async () => {
  assert.match(
    await handshake({ cert: join(dir, 'client.pem'), key: join(dir, 'client-key.pem') }),
    /^HTTP\/1\.1 200 OK\r\n[\s\S]*\r\n\r\nOK$/,
  );
  // (TLS 1.3: the server checks the client's certificate after the client's side of the
  // handshake is done, so the refusal is an alert or a close before any HTTP byte.)
  for (const r of [
    await handshake({}),
    await handshake({ cert: join(dir, 'stranger.pem'), key: join(dir, 'stranger-key.pem') }),
  ]) {
    assert.match(r, /^error: |^$/, r);
    assert.not.match(r, /HTTP\/1\.1/);
  }
  assert.match(await handshake({}), /certificate required|alert|^$/i);
});

test('~> the docker CLI with DOCKER_TLS_VERIFY=1 and DOCKER_CERT_PATH: version, and run -i whose stdin ends with a TLS half-close', async () => {
  if (!dockerAvailable()) return console.log('  (docker CLI not on PATH: skipped)');
  const host = `tcp://127.0.0.1:${port}`;
  const env = { DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: certPath('good', 'client') };
  const v = await docker(host, ['version', '--format', '{{.Server.APIVersion}}'], { env });
  assert.is(v.code, 0, v.stderr);
  assert.is(v.stdout.trim(), '1.51');
  const run = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const c = spawn('docker', ['run', '-i', '--rm', 'busybox', 'sh', '-c', 'cat; echo done'], {
      env: { PATH: process.env.PATH, HOME: dir, DOCKER_CONFIG: join(dir, 'docker-config'), DOCKER_HOST: host, ...env },
    });
    let stdout = '';
    let stderr = '';
    c.stdout.on('data', (d) => (stdout += d));
    c.stderr.on('data', (d) => (stderr += d));
    c.on('close', (code) => resolve({ code, stdout, stderr }));
    c.stdin.end('through tls\n');
  });
  assert.is(run.code, 0, run.stderr);
  assert.is(run.stdout, 'through tls\ndone\n');
});

test('~> the docker CLI without a client certificate (DOCKER_TLS=1) or with a foreign one cannot connect', async () => {
  if (!dockerAvailable()) return;
  const host = `tcp://127.0.0.1:${port}`;
  const noCert = join(dir, 'no-cert');
  mkdirSync(noCert);
  copyFileSync(join(dir, 'ca.pem'), join(noCert, 'ca.pem'));
  const r1 = await docker(host, ['version', '--format', '{{.Server.APIVersion}}'], {
    env: { DOCKER_TLS: '1', DOCKER_CERT_PATH: noCert },
  });
  assert.is.not(r1.code, 0);
  assert.not.match(r1.stdout, /1\.51/);
  assert.match(r1.stderr, /tls|certificate/i);
  const r2 = await docker(host, ['version', '--format', '{{.Server.APIVersion}}'], {
    env: { DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: certPath('stranger', 'stranger') },
  });
  assert.is.not(r2.code, 0);
  assert.not.match(r2.stdout, /1\.51/);
  const plain = await docker(host, ['version', '--format', '{{.Server.APIVersion}}']);
  assert.is.not(plain.code, 0, 'plain HTTP to the TLS port');
});

test.run();
