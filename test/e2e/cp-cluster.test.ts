/**
 * The `docker cp` cases (cp-cases.ts) against a real cluster: runs when KUBECONFIG points at one
 * (namespace: KUBER_API_TEST_NAMESPACE, else the context's), and is skipped with a SKIP line
 * otherwise. Needs busybox from the cluster's registry access (container and helper image).
 */
import { test } from 'uvu';
import { randomBytes } from 'node:crypto';
import { clusterTest, realClusterKubeconfig } from '../helpers/cluster.js';
import { startKuber, type Kuber } from '../helpers/kuber.js';
import { dockerAvailable } from '../helpers/docker-cli.js';
import { registerCpCases } from './cp-cases.js';

const kubeconfig = realClusterKubeconfig();
let kuber: Kuber | undefined;

test.before(async () => {
  if (!kubeconfig || !dockerAvailable()) return;
  kuber = await startKuber({ kubeconfig: kubeconfig.split(':')[0]!, namespace: process.env.KUBER_API_TEST_NAMESPACE });
});
test.after(async () => {
  await kuber?.stop();
});

registerCpCases((name, fn) => clusterTest(test, name, fn), {
  dockerHost: () => kuber!.dockerHost,
  prefix: `kcp${randomBytes(3).toString('hex')}`,
});

test.run();
