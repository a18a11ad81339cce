/**
 * dockerd keeps its containers across its own restart; so does kuber-api in the embedded mode
 * (`node dist/src/cli.js` with no kubeconfig: it runs kube-sim with a persisted store). With the
 * real docker CLI: a created, an exited and a running container and a network, then kuber-api is
 * stopped by SIGTERM, by SIGINT (a Ctrl-C) and by SIGKILL, and started again each time on the
 * same state directory: every container, the network and the exited one's logs are back, the
 * running one shows as exited (its process ended with the simulator, as containers end with a
 * dockerd without live-restore) and one with `--restart always` runs again, the stop is quick, and
 * the simulator's normal exit is not logged as an error.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { docker, dockerAvailable } from '../helpers/docker-cli.js';
import { ok } from './containers-cases.js';

const cli = fileURLToPath(new URL('../../src/cli.js', import.meta.url));
const available = dockerAvailable();
if (!available) console.log('SKIP embedded restart tests: no `docker` on PATH');
const t = available ? test : test.skip;

const dir = mkdtempSync(join(tmpdir(), 'kapi-restart-'));
const sock = join(dir, 'docker.sock');
const host = `unix://${sock}`;
let child: ChildProcess | undefined;
let out = '';

/** kuber-api on the same state directory and HOME each time (no kubeconfig: the embedded kube-sim). */
async function launch(): Promise<void> {
  out = '';
  const env: NodeJS.ProcessEnv = { ...process.env, HOME: dir, KUBECONFIG: '' };
  delete env.KUBERNETES_SERVICE_HOST;
  const c = spawn(process.execPath, [cli, '-H', host, '--state-dir', join(dir, 'state'), '--log-format', 'json'], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child = c;
  c.stdout!.on('data', (d) => (out += d));
  c.stderr!.on('data', (d) => (out += d));
  const end = Date.now() + 120_000;
  while (!/listening on unix:/.test(out)) {
    if (c.exitCode !== null || Date.now() > end) throw new Error(`kuber-api did not start:\n${out}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Send the signal and wait for the exit; the time it took. */
async function stop(signal: NodeJS.Signals): Promise<number> {
  const c = child!;
  const t0 = Date.now();
  const exited = new Promise((r) => c.once('exit', r));
  c.kill(signal);
  await exited;
  return Date.now() - t0;
}

const d = (...a: string[]) => docker(host, a, { timeoutMs: 60_000 });
const states = async () =>
  ok(await d('ps', '-a', '--filter', 'label=kept', '--format', '{{.Names}} {{.State}}'))
    .split('\n')
    .sort()
    .join(', ');

test.after(async () => {
  if (child && child.exitCode === null) await stop('SIGTERM');
  rmSync(dir, { recursive: true, force: true });
});

t('~> created, exited and running containers, a network and logs survive SIGTERM, SIGINT and SIGKILL', async () => {
  await launch();
  ok(await d('create', '--label', 'kept', '--name', 'created', 'busybox', 'echo', 'later'));
  ok(
    await d('run', '--label', 'kept', '--name', 'exited', 'busybox', 'sh', '-c', 'echo out; echo err >&2; exit 3').then(
      (r) => ({ ...r, code: r.code === 3 ? 0 : r.code }),
    ),
  );
  ok(await d('run', '-d', '--label', 'kept', '--name', 'running', 'busybox', 'sleep', '1000'));
  ok(await d('run', '-d', '--restart', 'always', '--name', 'always', 'busybox', 'sleep', '1000'));
  ok(await d('network', 'create', 'kept-net'));
  assert.is(await states(), 'created created, exited exited, running running');
  for (const signal of ['SIGTERM', 'SIGINT', 'SIGKILL'] as const) {
    const ms = await stop(signal);
    // Generous sanity bound (the grace period is 10 s): nothing is left open that would hold the stop.
    assert.ok(ms < 8000, `${signal}: the stop took ${ms} ms`);
    if (signal !== 'SIGKILL') {
      assert.not.match(out, /"level":50[^\n]*kube-sim/, `${signal}: the simulator's exit logged as an error:\n${out}`);
      assert.match(out, /the embedded kube-sim stopped/);
    }
    await launch();
    assert.is(await states(), 'created created, exited exited, running exited', `after ${signal}`);
    const logs = await d('logs', 'exited');
    assert.is(logs.code, 0, logs.stderr);
    assert.is(logs.stdout, 'out\n', signal);
    assert.is(logs.stderr, 'err\n', signal);
    assert.is(ok(await d('inspect', '--format', '{{.State.ExitCode}}', 'exited')), '3');
    assert.match(ok(await d('network', 'ls', '--format', '{{.Name}}')), /^kept-net$/m);
  }
  // A restart policy brings its container back, as dockerd restarts them when it starts.
  const end = Date.now() + 60_000;
  while (ok(await d('inspect', '--format', '{{.State.Status}}', 'always')) !== 'running') {
    assert.ok(Date.now() < end, 'the --restart always container never ran again');
    await new Promise((r) => setTimeout(r, 250));
  }
  // What came back still works: the created one starts and runs, the network takes a container.
  assert.is(ok(await d('start', '-a', 'created')), 'later');
  assert.is(ok(await d('run', '--rm', '--network', 'kept-net', 'busybox', 'echo', 'on the network')), 'on the network');
});

test.run();
