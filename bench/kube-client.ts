/**
 * bench/kube-client: our keep-alive REST client (src/kube/client.ts) against client-node 1.x's
 * generated CoreV1Api (a new https agent, so a new TLS handshake, per call), on kube-sim over TLS.
 *
 *   node dist/bench/kube-client.js [n=200]
 */
import { CoreV1Api } from '@kubernetes/client-node';
import { spawnSim } from '../test/helpers/sim.js';
import { Kube } from '../src/kube/index.js';

const n = Number(process.argv[2] ?? 200);
const sim = await spawnSim();
const kube = Kube.load({ kubeconfig: sim.kubeconfigPath });
const core = kube.target.kc.makeApiClient(CoreV1Api);
const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length * p) / 100)]!;
async function time(label: string, fn: (i: number) => Promise<unknown>) {
  const xs: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await fn(i);
    xs.push(performance.now() - t0);
  }
  console.log(`${label.padEnd(40)} median ${pct(xs, 50).toFixed(2)} ms  p90 ${pct(xs, 90).toFixed(2)} ms`);
}
try {
  const cm = (name: string) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data: { a: '1' } });
  await time('create ConfigMap: src/kube client', (i) => kube.client.create(kube.path('configmaps'), cm(`ours-${i}`)));
  await time('create ConfigMap: client-node CoreV1Api', (i) =>
    core.createNamespacedConfigMap({ namespace: 'default', body: cm(`theirs-${i}`) }),
  );
  await time('get ConfigMap: src/kube client', (i) => kube.client.get(kube.path('configmaps', `ours-${i}`)));
  await time('get ConfigMap: client-node CoreV1Api', (i) =>
    core.readNamespacedConfigMap({ namespace: 'default', name: `theirs-${i}` }),
  );
} finally {
  kube.close();
  await sim.stop();
}
