/**
 * @module kube/kubeconfig
 * client-node's `KubeConfig` class, loaded from dist/vendor/kubeconfig.js when the build made it
 * (build/bundle.mjs: the same class bundled without client-node's ~700 generated API
 * modules, which kuber-api never uses: ~11 MiB of RSS instead of ~80, a tenth of the import time),
 * else from the package itself (a tree built with `tsc` alone: same behaviour, the old footprint).
 */
import { existsSync } from 'node:fs';
import type { KubeConfig as ClientNodeKubeConfig } from '@kubernetes/client-node';

type KubeConfigModule = { KubeConfig: typeof ClientNodeKubeConfig };

/** dist/src/kube/kubeconfig.js -> dist/vendor/kubeconfig.js */
const VENDORED = new URL('../../vendor/kubeconfig.js', import.meta.url);

async function load(): Promise<KubeConfigModule> {
  if (existsSync(VENDORED)) return (await import(VENDORED.href)) as KubeConfigModule;
  return import('@kubernetes/client-node');
}

export const KubeConfig: typeof ClientNodeKubeConfig = (await load()).KubeConfig;
export type KubeConfig = ClientNodeKubeConfig;
