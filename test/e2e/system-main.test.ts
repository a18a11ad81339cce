/**
 * The real entry point as a process (`node dist/src/cli.js`): flags, listening on several -H
 * addresses, the docker CLI against both, and graceful shutdown on SIGTERM/SIGINT with a stream
 * open (cut after --shutdown-grace-ms). Runs with a private --state-dir (the process starts its
 * embedded kube-sim when no kubeconfig is given).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { docker, dockerAvailable } from '../helpers/docker-cli.js';
import { RawClient } from '../helpers/raw-client.js';

const cli = fileURLToPath(new URL('../../src/cli.js', import.meta.url));

interface Proc {
  child: ChildProcess;
  out: string;
  exited: Promise<number | null>;
  hosts: string[];
  dir: string;
}

async function start(args: string[]): Promise<Proc> {
  const dir = mkdtempSync(join(tmpdir(), 'kapi-main-'));
  const env = { ...process.env };
  delete env.KUBECONFIG;
  const child = spawn(
    process.execPath,
    [cli, '--state-dir', join(dir, 'state'), ...args.map((a) => a.replace('$DIR', dir))],
    { env, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const p: Proc = { child, out: '', hosts: [], dir, exited: new Promise((r) => child.once('exit', (code) => r(code))) };
  child.stdout!.on('data', (d) => (p.out += d));
  child.stderr!.on('data', (d) => (p.out += d));
  return p;
}

async function listening(p: Proc, n: number): Promise<string[]> {
  const until = Date.now() + 30_000;
  for (;;) {
    const hosts = [...p.out.matchAll(/"msg":"listening on ([^"]+)"/g)].map((m) => m[1]!);
    if (hosts.length >= n) return (p.hosts = hosts);
    if (Date.now() > until || p.child.exitCode !== null) throw new Error(`not listening: ${p.out}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

test('~> --help prints the flags; a bad flag value exits 2 with the reason', async () => {
  let p = await start(['--help']);
  assert.is(await p.exited, 0);
  for (const f of [
    '--host',
    '--max-header-bytes',
    '--header-timeout-ms',
    '--max-connections',
    '--shutdown-grace-ms',
    '--log-level',
    '--kubeconfig',
  ])
    assert.ok(p.out.includes(f), f);
  p = await start(['--max-connections', 'many']);
  assert.is(await p.exited, 2);
  assert.match(p.out, /--max-connections: "many" is not a non-negative integer/);
  p = await start(['-H', 'ftp://x']);
  assert.is(await p.exited, 2);
  assert.match(p.out, /invalid listen address "ftp:\/\/x"/);
});

test('~> listens on every -H, serves the docker CLI on both, and stops cleanly on SIGTERM', async () => {
  const p = await start(['-H', 'unix://$DIR/d.sock', '-H', 'tcp://127.0.0.1:0', '--log-level', 'info']);
  try {
    const [unix, tcp] = await listening(p, 2);
    assert.is(unix, `unix://${p.dir}/d.sock`);
    assert.match(tcp!, /^tcp:\/\/127\.0\.0\.1:\d+$/);
    if (dockerAvailable()) {
      for (const h of [unix!, tcp!]) {
        const r = await docker(h, ['version', '--format', '{{.Server.APIVersion}}']);
        assert.is(r.code, 0, r.stderr);
        assert.is(r.stdout.trim(), '1.51');
      }
    }
    p.child.kill('SIGTERM');
    assert.is(await p.exited, 0);
    assert.match(p.out, /"msg":"shutting down"/);
    assert.match(p.out, /"msg":"stopped"/);
    assert.not.ok(existsSync(`${p.dir}/d.sock`), 'the unix socket is removed');
  } finally {
    p.child.kill('SIGKILL');
    rmSync(p.dir, { recursive: true, force: true });
  }
});

test('~> SIGINT: an events stream ends at once with its last chunk; an upload still arriving gets --shutdown-grace-ms, then is cut', async () => {
  const p = await start(['-H', 'unix://$DIR/d.sock', '--shutdown-grace-ms', '300']);
  try {
    await listening(p, 1);
    const events = await RawClient.connect({ path: `${p.dir}/d.sock` });
    await events.write('GET /v1.51/events HTTP/1.1\r\nHost: docker\r\n\r\n');
    await events.waitForText('\r\n\r\n');
    const upload = await RawClient.connect({ path: `${p.dir}/d.sock` });
    await upload.write(
      'POST /v1.51/containers/create HTTP/1.1\r\nHost: docker\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n{"Ima\r\n',
    );
    await new Promise((r) => setTimeout(r, 200));
    const started = Date.now();
    p.child.kill('SIGINT');
    await events.waitEnd();
    assert.ok(events.text.endsWith('\r\n0\r\n\r\n'), 'the events stream ended cleanly');
    assert.ok(Date.now() - started < 250 || !upload.ended, 'events ended before the upload was cut');
    assert.is(await p.exited, 0);
    const took = Date.now() - started;
    assert.ok(took >= 250, `the upload was given the grace period (${took} ms)`);
    await upload.waitEnd();
  } finally {
    p.child.kill('SIGKILL');
    rmSync(p.dir, { recursive: true, force: true });
  }
});

test.run();
