/**
 * @module test/helpers/cluster
 * Real-cluster gating. Tests that need a real Kubernetes cluster run only when KUBECONFIG points
 * at one; otherwise they are registered as uvu skips and the file prints one `SKIP` line saying why
 * (the test runner shows SKIP lines even for passing files).
 */
import { existsSync } from 'node:fs';
import type { Test } from 'uvu';

export function realClusterKubeconfig(): string | undefined {
  const k = process.env.KUBECONFIG;
  return k && existsSync(k.split(':')[0]!) ? k : undefined;
}

let announced = false;
/** Register `fn` as a test on `suite` if a real cluster is configured, else as a skip with a reason. */
export function clusterTest(suite: Test, name: string, fn: () => Promise<void> | void): void {
  if (realClusterKubeconfig()) {
    suite(name, fn);
    return;
  }
  if (!announced) {
    announced = true;
    console.log(
      'SKIP real-cluster tests: KUBECONFIG is not set (or its file is missing); set it to run them against a real cluster.',
    );
  }
  suite.skip(name, fn);
}
