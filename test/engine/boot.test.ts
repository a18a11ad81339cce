/**
 * src/engine/boot.ts in sidecar mode (in-cluster config: a service account rooted in a temp dir,
 * KUBERNETES_SERVICE_HOST/PORT pointing at a spawned kube-sim): kuber-api must own what it creates
 * through its own Pod, so a Pod it cannot read, or whose uid is not POD_UID, is fatal.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bootKubeBackend } from '../../src/engine/boot.js';
import { KubeClient, loadKubeTarget } from '../../src/kube/index.js';
import { spawnSim, type SpawnedSim } from '../helpers/sim.js';
import { testLogger } from '../helpers/server.js';

let sim: SpawnedSim;
let dir: string;
let sa: string;
let env: NodeJS.ProcessEnv;

test.before(async () => {
  sim = await spawnSim();
  dir = mkdtempSync(join(tmpdir(), 'kapi-boot-'));
  sa = join(dir, 'var', 'run', 'secrets', 'kubernetes.io', 'serviceaccount');
  mkdirSync(sa, { recursive: true });
  writeFileSync(join(sa, 'token'), sim.token!);
  writeFileSync(join(sa, 'ca.crt'), sim.caPem!);
  writeFileSync(join(sa, 'namespace'), 'default');
  const u = new URL(sim.url);
  env = { HOME: dir, KUBERNETES_SERVICE_HOST: u.hostname, KUBERNETES_SERVICE_PORT: u.port, POD_NAME: 'job-pod-1' };
  // client-node's loadFromCluster reads these from process.env itself.
  process.env.KUBERNETES_SERVICE_HOST = u.hostname;
  process.env.KUBERNETES_SERVICE_PORT = u.port;
});
test.after(async () => {
  await sim?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const boot = (extra: NodeJS.ProcessEnv = {}) =>
  bootKubeBackend({ env: { ...env, ...extra }, serviceAccountDir: sa, stateDir: join(dir, 'state') }, testLogger());

test('~> sidecar mode: its own Pod missing is fatal, with the reason and what to fix', async () => {
  const err = await boot().then(
    () => undefined,
    (e: Error) => e,
  );
  assert.ok(err, 'boot must fail');
  assert.match(err!.message, /runs in the cluster as Pod "job-pod-1" but cannot read that Pod in namespace "default"/);
  assert.match(err!.message, /nothing it creates would be garbage-collected/);
});

test('~> sidecar mode: its own Pod found -> it boots; a POD_UID that does not match is fatal', async () => {
  const client = new KubeClient(loadKubeTarget({ kubeconfig: sim.kubeconfigPath }));
  const pod = await client.create<{ metadata: { uid: string } }>('/api/v1/namespaces/default/pods', {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'job-pod-1' },
    spec: { schedulerName: 'not-scheduled', containers: [{ name: 'kuber-api', image: 'busybox' }] },
  });
  client.close();
  const ok = await boot({ POD_UID: pod.metadata.uid });
  await ok.close();
  const err = await boot({ POD_UID: '00000000-0000-0000-0000-000000000000' }).then(
    () => undefined,
    (e: Error) => e,
  );
  assert.match(err!.message, /that Pod's uid is .*, not POD_UID 00000000/);
});

test.run();
