/**
 * testcontainers-node against kuber-api on kube-sim: `withBindMounts` of a file (read-only) and of a
 * directory (read-write: what the container writes is copied back when it stops), and content
 * copied in with `withCopyContentToContainer` shared with a second container through a named volume
 * (testcontainers passes a bind whose source is not a path as a named volume, as Docker does).
 * Ryuk is disabled (TESTCONTAINERS_RYUK_DISABLED: a Pod cannot reach kuber-api's socket).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSim, type SpawnedSim } from '../helpers/sim.js';
import { startKuber, type Kuber } from '../helpers/kuber.js';
import { docker } from '../helpers/docker-cli.js';

let sim: SpawnedSim;
let kuber: Kuber;

test.before(async () => {
  sim = await spawnSim();
  kuber = await startKuber({ kubeconfig: sim.kubeconfigPath });
  process.env.DOCKER_HOST = kuber.dockerHost;
  process.env.TESTCONTAINERS_RYUK_DISABLED = 'true';
  // This machine is itself a container (/.dockerenv), which makes testcontainers look for the bridge gateway; the host is known here.
  process.env.TESTCONTAINERS_HOST_OVERRIDE ??= 'localhost';
});
test.after(async () => {
  await kuber?.stop();
  await sim?.stop();
});

test('~> withBindMounts: a read-only file and a read-write directory (written files come back at stop)', async () => {
  const { GenericContainer } = await import('testcontainers');
  const w = mkdtempSync(join(tmpdir(), 'kapi-tc-bind-'));
  writeFileSync(join(w, 'app.conf'), 'port=8080\n');
  mkdirSync(join(w, 'out'));
  writeFileSync(join(w, 'out', 'seed.txt'), 'seed\n');
  const c = await new GenericContainer('busybox')
    .withCommand(['sleep', '600'])
    .withBindMounts([
      { source: join(w, 'app.conf'), target: '/etc/app.conf', mode: 'ro' },
      { source: join(w, 'out'), target: '/out' },
    ])
    .start();
  try {
    const r = await c.exec(['sh', '-c', 'cat /etc/app.conf /out/seed.txt; echo report > /out/report.txt']);
    assert.is(r.exitCode, 0, r.output);
    assert.is(r.output, 'port=8080\nseed\n');
    const ro = await c.exec(['sh', '-c', 'echo x > /etc/app.conf']);
    assert.is.not(ro.exitCode, 0);
  } finally {
    await c.stop({ timeout: 1 });
  }
  assert.is(readFileSync(join(w, 'out', 'report.txt'), 'utf8'), 'report\n');
  assert.is(readFileSync(join(w, 'app.conf'), 'utf8'), 'port=8080\n');
});

test('~> content copied in before start reaches a second container through a named volume', async () => {
  const { GenericContainer } = await import('testcontainers');
  const volume = `tc-shared-${process.pid}`;
  const writer = await new GenericContainer('busybox')
    .withCopyContentToContainer([{ content: 'copied-by-testcontainers', target: '/seed/data.txt' }])
    .withBindMounts([{ source: volume, target: '/v' }])
    .withCommand(['sh', '-c', 'cp /seed/data.txt /v/data.txt && sleep 600'])
    .start();
  const reader = await new GenericContainer('busybox')
    .withBindMounts([{ source: volume, target: '/v', mode: 'ro' }])
    .withCommand(['sleep', '600'])
    .start();
  try {
    let out = '';
    for (let i = 0; i < 100 && out !== 'copied-by-testcontainers'; i++) {
      out = (await reader.exec(['cat', '/v/data.txt'])).output;
      if (out !== 'copied-by-testcontainers') await new Promise((r) => setTimeout(r, 100));
    }
    assert.is(out, 'copied-by-testcontainers');
  } finally {
    await writer.stop({ timeout: 1 });
    await reader.stop({ timeout: 1 });
  }
  const rm = await docker(kuber.dockerHost, ['volume', 'rm', volume]);
  assert.is(rm.code, 0, rm.stderr);
});

test.run();
