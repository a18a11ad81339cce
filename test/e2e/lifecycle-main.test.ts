/**
 * kuber-api's lifecycle as a process (`node dist/src/cli.js`), against a spawned kube-sim or a
 * small fake apiserver: SIGTERM when idle exits at once; events, wait and followed logs end
 * cleanly on SIGTERM; a SIGTERM during a failing startup completes; the startup deadline and
 * 401/403 are fatal with a clear line; inside a cluster there is no simulator fallback; a wrong
 * flag and an exposed plaintext listener are refused with one line naming the flag.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnSim, type SpawnedSim } from '../helpers/sim.js';
import { RawClient } from '../helpers/raw-client.js';
import { docker, dockerAvailable } from '../helpers/docker-cli.js';

const cli = fileURLToPath(new URL('../../src/cli.js', import.meta.url));

interface Proc {
  child: ChildProcess;
  out: string;
  exited: Promise<number | null>;
  dir: string;
}

function start(args: string[], env: NodeJS.ProcessEnv = {}): Proc {
  const dir = mkdtempSync(join(tmpdir(), 'kapi-life-'));
  const e: NodeJS.ProcessEnv = { ...process.env, HOME: dir, ...env };
  delete e.KUBECONFIG;
  delete e.KUBERNETES_SERVICE_HOST;
  delete e.KUBERNETES_SERVICE_PORT;
  Object.assign(e, env);
  const child = spawn(
    process.execPath,
    [cli, '--state-dir', join(dir, 'state'), ...args.map((a) => a.replace('$DIR', dir))],
    { env: e, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const p: Proc = { child, out: '', dir, exited: new Promise((r) => child.once('exit', (code) => r(code))) };
  child.stdout!.on('data', (d) => (p.out += d));
  child.stderr!.on('data', (d) => (p.out += d));
  return p;
}

async function until(p: Proc, re: RegExp, ms = 60_000): Promise<void> {
  const end = Date.now() + ms;
  while (!re.test(p.out)) {
    if (Date.now() > end || p.child.exitCode !== null) throw new Error(`never saw ${re}: ${p.out}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function cleanup(p: Proc): void {
  p.child.kill('SIGKILL');
  rmSync(p.dir, { recursive: true, force: true });
}

let sim: SpawnedSim;
test.before(async () => {
  sim = await spawnSim();
});
test.after(async () => {
  await sim?.stop();
});

test('~> a wrong flag: one line and a hint, exit 2 (as cobra)', async () => {
  const p = start(['--no-such-flag']);
  try {
    assert.is(await p.exited, 2);
    assert.is(p.out, "unknown flag: --no-such-flag\nSee 'kuber-api --help'.\n");
  } finally {
    cleanup(p);
  }
});

test('~> a plaintext TCP listener on a non-loopback address is refused, naming --insecure-tcp; with it, it listens', async () => {
  let p = start(['--kubeconfig', sim.kubeconfigPath, '-H', 'tcp://0.0.0.0:0']);
  try {
    assert.is(await p.exited, 1);
    assert.match(p.out, /refusing to listen on tcp:\/\/0\.0\.0\.0:0 without TLS/);
    assert.match(p.out, /--insecure-tcp/);
  } finally {
    cleanup(p);
  }
  p = start(['--kubeconfig', sim.kubeconfigPath, '-H', 'tcp://0.0.0.0:0', '--insecure-tcp']);
  try {
    await until(p, /listening on tcp:\/\/0\.0\.0\.0:\d+/);
  } finally {
    cleanup(p);
  }
});

test('~> idle: SIGTERM exits at once (measured; bound 1 s plus slack for a loaded machine)', async () => {
  const p = start(['--kubeconfig', sim.kubeconfigPath, '-H', 'unix://$DIR/d.sock']);
  try {
    await until(p, /Kubernetes backend ready/);
    const t0 = Date.now();
    p.child.kill('SIGTERM');
    assert.is(await p.exited, 0);
    const took = Date.now() - t0;
    const own = Number(/"ms":(\d+),"msg":"stopped"/.exec(p.out)?.[1]);
    console.log(`  idle shutdown: ${took} ms to exit (kuber-api's own count: ${own} ms)`);
    assert.ok(own < 1000, `kuber-api stopped in ${own} ms`);
    assert.ok(took < 3000, `exited ${took} ms after SIGTERM`);
  } finally {
    cleanup(p);
  }
});

test('~> SIGTERM ends events, wait and a followed log at once with a clean end of stream; the process then exits', async () => {
  const p = start([
    '--kubeconfig',
    sim.kubeconfigPath,
    '-H',
    'unix://$DIR/d.sock',
    '--shutdown-grace-ms',
    '20000',
    '--log-level',
    'debug',
  ]);
  try {
    await until(p, /Kubernetes backend ready/);
    const sock = { path: `${p.dir}/d.sock` };
    const host = `unix://${p.dir}/d.sock`;
    const streams: { name: string; c: RawClient }[] = [];
    const open = async (name: string, head: string) => {
      const c = await RawClient.connect(sock);
      await c.write(head);
      await c.waitForText('\r\n\r\n');
      streams.push({ name, c });
    };
    await open('events', 'GET /v1.51/events HTTP/1.1\r\nHost: docker\r\n\r\n');
    if (dockerAvailable()) {
      const run = await docker(host, ['run', '-d', '--name', 'sleeper', 'busybox', 'sh', '-c', 'echo up; sleep 600']);
      assert.is(run.code, 0, run.stderr);
      await open('wait', 'POST /v1.51/containers/sleeper/wait HTTP/1.1\r\nHost: docker\r\nContent-Length: 0\r\n\r\n');
      await open(
        'logs',
        'GET /v1.51/containers/sleeper/logs?follow=1&stdout=1&stderr=1 HTTP/1.1\r\nHost: docker\r\n\r\n',
      );
    }
    // The real CLI on the same streams: each must return on its own, with its usual status.
    const clis = dockerAvailable()
      ? [
          { name: 'docker events', expect: 0, run: dockerProc(host, ['events']) },
          { name: 'docker logs -f', expect: 0, run: dockerProc(host, ['logs', '-f', 'sleeper']) },
          // (docker wait prints the StatusCode and ignores the Error: -1, status 0; docker run
          // prints the Error and exits 125)
          { name: 'docker wait', expect: 0, run: dockerProc(host, ['wait', 'sleeper']) },
        ]
      : [];
    await new Promise((r) => setTimeout(r, 1000)); // (the CLIs connect)
    const t0 = Date.now();
    p.child.kill('SIGTERM');
    for (const { name, expect, run } of clis) {
      const r = await run;
      assert.is(r.code, expect, `${name}: ${r.stderr}`);
      assert.ok(Date.now() - t0 < 5000, `${name} returned ${Date.now() - t0} ms after SIGTERM`);
      if (name === 'docker wait') assert.is(r.stdout, '-1\n');
      if (name === 'docker logs -f') assert.match(r.stdout, /^up\n/);
    }
    for (const { name, c } of streams) {
      await c.waitEnd(10_000);
      const took = Date.now() - t0;
      assert.ok(
        c.text.endsWith('0\r\n\r\n'),
        `${name}: the chunked body ends with its last chunk: ${JSON.stringify(c.text.slice(-80))}`,
      );
      assert.ok(took < 5000, `${name} ended ${took} ms after SIGTERM (grace is 20 s)`);
      if (name === 'wait') assert.match(c.text, /"Error":\{"Message":"kuber-api is shutting down/);
    }
    assert.is(await p.exited, 0);
    assert.ok(Date.now() - t0 < 10_000, `exited without waiting for the grace period: ${p.out.slice(-3000)}`);
  } finally {
    cleanup(p);
  }
});

test('~> a SIGTERM during a startup that keeps failing completes; the startup deadline is fatal with the last error', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'kapi-life-kc-'));
  const kc = join(dir, 'kubeconfig');
  writeFileSync(kc, kubeconfig('http://127.0.0.1:1'));
  let p = start(['--kubeconfig', kc, '-H', 'unix://$DIR/d.sock']);
  try {
    await until(p, /listening on unix/);
    await until(p, /not reachable yet; retrying/);
    const t0 = Date.now();
    p.child.kill('SIGTERM');
    assert.is(await p.exited, 0);
    assert.ok(Date.now() - t0 < 3000, `exited ${Date.now() - t0} ms after SIGTERM`);
  } finally {
    cleanup(p);
  }
  // The deadline must leave the boot time to import the Kubernetes client and try once: under a
  // loaded CI machine that import alone took over 1.5 s, and the deadline then fired before any
  // attempt had an error to report (the fatal line named only the deadline).
  p = start(['--kubeconfig', kc, '-H', 'unix://$DIR/d.sock', '--startup-timeout-ms', '8000']);
  try {
    assert.is(await p.exited, 1);
    assert.match(p.out, /cannot reach the Kubernetes API at http:\/\/127\.0\.0\.1:1: .*ECONNREFUSED/);
  } finally {
    cleanup(p);
    rmSync(dir, { recursive: true, force: true });
  }
});

test('~> 403 and 401 at startup are fatal at once; the 403 names the missing RBAC rule', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'kapi-life-kc-'));
  let mode = 403;
  const api: Server = createServer((req, res) => {
    const forbidden = req.url!.startsWith('/api/v1/namespaces/default/configmaps');
    if (mode === 401 || forbidden) {
      const code = mode === 401 ? 401 : 403;
      const message =
        code === 401
          ? 'Unauthorized'
          : 'configmaps is forbidden: User "system:serviceaccount:default:kuber-api" cannot list resource "configmaps" in API group "" in the namespace "default"';
      res.writeHead(code, { 'Content-Type': 'application/json' }).end(
        JSON.stringify({
          kind: 'Status',
          apiVersion: 'v1',
          status: 'Failure',
          message,
          reason: code === 401 ? 'Unauthorized' : 'Forbidden',
          code,
        }),
      );
      return;
    }
    res
      .writeHead(200, { 'Content-Type': 'application/json' })
      .end(JSON.stringify({ kind: 'List', apiVersion: 'v1', metadata: { resourceVersion: '1' }, items: [] }));
  });
  await new Promise<void>((r) => api.listen(0, '127.0.0.1', r));
  const kc = join(dir, 'kubeconfig');
  writeFileSync(kc, kubeconfig(`http://127.0.0.1:${(api.address() as { port: number }).port}`));
  try {
    for (const code of [403, 401]) {
      mode = code;
      const p = start(['--kubeconfig', kc, '-H', 'unix://$DIR/d.sock']);
      try {
        const t0 = Date.now();
        assert.is(await p.exited, 1);
        assert.ok(Date.now() - t0 < 20_000);
        if (code === 403) {
          assert.match(p.out, /forbids kuber-api to list configmaps in namespace \\"default\\"/);
          assert.match(
            p.out,
            /needs the rule \{apiGroups: \[\\"\\"\], resources: \[\\"configmaps\\"\], verbs: \[\\"get\\", \\"list\\", \\"watch\\"/,
          );
        } else assert.match(p.out, /refused kuber-api's credentials \(401 Unauthorized/);
      } finally {
        cleanup(p);
      }
    }
  } finally {
    api.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('~> inside a cluster (KUBERNETES_SERVICE_HOST) without a token: fatal, and no simulator is started', async () => {
  const p = start(['-H', 'unix://$DIR/d.sock'], {
    KUBERNETES_SERVICE_HOST: '10.96.0.1',
    KUBERNETES_SERVICE_PORT: '443',
  });
  try {
    assert.is(await p.exited, 1);
    assert.match(
      p.out,
      /runs inside a Kubernetes cluster \(KUBERNETES_SERVICE_HOST is set\) but has no service account token/,
    );
    assert.not.match(p.out, /kube-sim/);
    assert.not.match(p.out, /embedded/);
  } finally {
    cleanup(p);
  }
});

test('~> log lines: JSON when stdout is not a terminal, readable with --log-format pretty', async () => {
  for (const [format, re] of [
    ['auto', /^\{"level":30,"time":\d+,"name":"kuber-api","host":"unix:[^"]+","msg":"listening on unix:/m],
    ['pretty', /^\d\d:\d\d:\d\d\.\d{3} INFO  listening on unix:\/\/\S+ host=unix:/m],
  ] as const) {
    const p = start(['--kubeconfig', sim.kubeconfigPath, '-H', 'unix://$DIR/d.sock', '--log-format', format]);
    try {
      await until(p, /listening on unix/);
      assert.match(p.out, re);
    } finally {
      cleanup(p);
    }
  }
});

/** A docker CLI process (its own DOCKER_CONFIG): resolves with its status and output when it exits. */
function dockerProc(host: string, args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const cfg = mkdtempSync(join(tmpdir(), 'kapi-life-docker-'));
  return new Promise((resolve) => {
    const c = spawn('docker', args, {
      env: { PATH: process.env.PATH, HOME: cfg, DOCKER_CONFIG: cfg, DOCKER_HOST: host },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    c.stdout.on('data', (d) => (stdout += d));
    c.stderr.on('data', (d) => (stderr += d));
    const kill = setTimeout(() => c.kill('SIGKILL'), 30_000);
    c.on('close', (code) => {
      clearTimeout(kill);
      rmSync(cfg, { recursive: true, force: true });
      resolve({ code, stdout, stderr });
    });
  });
}

function kubeconfig(server: string): string {
  return `apiVersion: v1
kind: Config
clusters:
- name: c
  cluster:
    server: ${server}
users:
- name: u
  user:
    token: t0ken
contexts:
- name: x
  context:
    cluster: c
    user: u
    namespace: default
current-context: x
`;
}

test.run();
