/**
 * `kuber-api sim` as a child process (spawnSim): the kubeconfig it writes (TLS + token, or plain
 * HTTP), the admin endpoint driving faults over HTTP, SIGTERM, and flag errors.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseArgs } from '../../src/sim/cli.js';
import { spawnSim } from '../helpers/sim.js';
import { call } from './client.js';

const cli = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'src', 'cli.js');

test('~> spawned with TLS: kubeconfig names kube-sim, holds the CA and token; faults over /_sim; SIGTERM exits 0', async () => {
  const sim = await spawnSim({ featureGates: { PodLogsQuerySplitStreams: true } });
  try {
    const kc = readFileSync(sim.kubeconfigPath, 'utf8');
    assert.match(kc, /current-context: kube-sim/);
    assert.match(kc, /namespace: default/);
    assert.match(kc, new RegExp(`server: ${sim.url.replace(/[.]/g, '\\.')}`));
    assert.ok(sim.caPem?.includes('BEGIN CERTIFICATE'));
    assert.ok(sim.token);
    const ns = await call(sim, 'GET', '/api/v1/namespaces');
    assert.is(ns.status, 200);
    await sim.setFaults({ failRequests: { status: 503, count: 1 } });
    assert.is((await call(sim, 'GET', '/api/v1/namespaces')).status, 503);
    assert.is((await call(sim, 'GET', '/api/v1/namespaces')).status, 200);
    await sim.clearFaults();
  } finally {
    await sim.stop();
  }
  assert.is(sim.child.exitCode, 0);
});

test('~> spawned with --no-tls: plain http, no token; --nodes 2 --no-default-storage-class', async () => {
  const sim = await spawnSim({ tls: false, nodes: 2, args: ['--no-default-storage-class'] });
  try {
    assert.match(sim.url, /^http:\/\//);
    assert.is(sim.token, undefined);
    assert.is((await call(sim, 'GET', '/api/v1/namespaces/default')).json.status.phase, 'Active');
    assert.equal(
      (await call(sim, 'GET', '/api/v1/nodes')).json.items.map((n: any) => n.metadata.name),
      ['kube-sim', 'kube-sim-worker'],
    );
    assert.equal((await call(sim, 'GET', '/apis/storage.k8s.io/v1/storageclasses')).json.items, []);
  } finally {
    await sim.stop();
  }
});

test('~> flags: parsed, and errors exit 2 with the usage', () => {
  const o = parseArgs([
    '--kubeconfig',
    '/tmp/x',
    '--no-tls',
    '--port=8443',
    '--feature-gates',
    'PodLogsQuerySplitStreams=true,Foo=false',
    '--bookmark-interval-ms',
    '50',
  ]);
  assert.equal(o.featureGates, { PodLogsQuerySplitStreams: true, Foo: false });
  assert.equal([o.tls, o.port, o.bookmarkIntervalMs, o.kubeconfigPath], [false, 8443, 50, '/tmp/x']);
  const n = parseArgs(['--kubeconfig', '/tmp/x', '--nodes', '3', '--no-default-storage-class', '--no-network-policy']);
  assert.equal([n.nodes, n.defaultStorageClass, n.networkPolicy], [3, false, false]);
  assert.throws(() => parseArgs(['--nodes', '0']), /--nodes needs at least 1/);
  const bad = spawnSync(process.execPath, [cli, 'sim', '--bogus'], { encoding: 'utf8' });
  assert.is(bad.status, 2);
  assert.match(bad.stderr, /unknown flag --bogus/);
  const none = spawnSync(process.execPath, [cli, 'sim'], { encoding: 'utf8' });
  assert.is(none.status, 2);
  assert.match(none.stderr, /--kubeconfig PATH is required/);
});

test.run();
