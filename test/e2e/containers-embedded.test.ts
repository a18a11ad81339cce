/**
 * `kuber-api` with no kubeconfig and no service account starts the embedded kube-sim, says so,
 * and the docker CLI works against it: run -d, ps, stop, rm, split stdout/stderr. Stopping (or
 * SIGKILLing) kuber-api stops the sim. Host-root images see no host secrets (/etc/shadow, /root, /home).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import net from 'node:net';
import { startKuber, type Kuber } from '../helpers/kuber.js';
import { docker, dockerAvailable } from '../helpers/docker-cli.js';
import { ok } from './containers-cases.js';

let kuber: Kuber;
const available = dockerAvailable();
if (!available) console.log('SKIP embedded kube-sim CLI tests: no `docker` on PATH');
const t = available ? test : test.skip;

test.before(async () => {
  if (available) kuber = await startKuber({});
});
test.after(async () => {
  await kuber?.stop();
});

t('~> no kubeconfig: the embedded kube-sim is started and logged; run -d, ps, stop, rm work', async () => {
  const d = (...a: string[]) => docker(kuber.dockerHost, a, { timeoutMs: 60_000 });
  // kuber-api listens at once; calls wait for the Kubernetes side (here: the kube-sim it starts).
  const id = ok(await d('run', '-d', 'busybox', 'sleep', '100'));
  const m = /no kubeconfig found: started the embedded kube-sim at (https?:\/\/\S+?) \(kubeconfig (\S+)\)/.exec(
    kuber.logs(),
  );
  assert.ok(m, kuber.logs());
  assert.match(ok(await d('ps', '--format', '{{.ID}} {{.Status}}')), new RegExp(`^${id.slice(0, 12)} Up `));
  ok(await d('stop', '-t', '1', id));
  assert.match(ok(await d('ps', '-a', '--format', '{{.Status}}')), /^Exited \(137\)/);
  ok(await d('rm', id));
  assert.is(ok(await d('ps', '-a', '-q')), '');
  const info = JSON.parse(ok(await d('info', '--format', '{{json .DriverStatus}}')));
  assert.ok(info.some((kv: string[]) => kv[0] === 'Simulated' && kv[1] === 'true'));
  assert.ok(info.some((kv: string[]) => kv[0] === 'Kubernetes Server' && kv[1] === m![1]));
});

t('~> the embedded kube-sim has split log streams: docker run keeps stdout and stderr apart', async () => {
  const r = await docker(kuber.dockerHost, ['run', '--rm', 'busybox', 'sh', '-c', 'echo out; echo err >&2; exit 3'], {
    timeoutMs: 60_000,
  });
  assert.is(r.code, 3, r.stderr);
  assert.is(r.stdout, 'out\n');
  assert.is(r.stderr, 'err\n');
});

t(
  '~> the embedded mode does not expose the host: docker run debian:12 cat /etc/shadow prints nothing of the host',
  async () => {
    const r = await docker(
      kuber.dockerHost,
      ['run', '--rm', 'debian:12', 'sh', '-c', 'cat /etc/shadow; ls -A /root /home'],
      { timeoutMs: 60_000 },
    );
    assert.is(r.code, 0, r.stderr);
    assert.is(r.stdout, '/home:\n\n/root:\n', 'an empty /etc/shadow, /root and /home');
  },
);

function reachable(url: string): Promise<boolean> {
  const u = new URL(url);
  // A TCP connect (not fetch: the simulator's certificate is self-signed) must be refused.
  return new Promise<boolean>((resolve) => {
    const s = net.connect(Number(u.port), u.hostname);
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
  });
}

t('~> a SIGKILLed kuber-api takes its embedded kube-sim with it (the stdin pipe closes)', async () => {
  const other = await startKuber({});
  try {
    ok(await docker(other.dockerHost, ['ps'], { timeoutMs: 60_000 }));
    const url = /embedded kube-sim at (https?:\/\/\S+?) /.exec(other.logs())![1]!;
    assert.ok(await reachable(url), 'the simulator runs while kuber-api does');
    process.kill(other.pid, 'SIGKILL');
    let up = true;
    for (let i = 0; i < 100 && up; i++) {
      await new Promise((r) => setTimeout(r, 100));
      up = await reachable(url);
    }
    assert.not.ok(up, 'the simulator outlived a SIGKILLed kuber-api');
  } finally {
    await other.stop();
  }
});

t('~> stopping kuber-api stops its embedded kube-sim', async () => {
  const url = /embedded kube-sim at (https?:\/\/\S+?) /.exec(kuber.logs())![1]!;
  await kuber.stop();
  assert.not.ok(await reachable(url), 'the simulator still accepts connections');
  kuber = undefined as unknown as Kuber;
});

test.run();
