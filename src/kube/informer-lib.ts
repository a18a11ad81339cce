/**
 * @module kube/informer-lib
 * client-node's informer classes (`ListWatch`, `Watch`: kubernetes-client/javascript src/cache.ts,
 * src/watch.ts), loaded from dist/vendor/informer.js when the build made it, else from the package.
 *
 * Why a vendored copy: src/cache.ts imports its ObjectSerializer only to pass the label selector
 * through `serialize(selector, 'string')`, which returns a string as it is; but that import loads
 * the ~700 generated model modules (tens of MiB of RSS, bench/optimisations.md 4). build/bundle.mjs
 * bundles the two classes with that import narrowed to an identity (as src/kube/kubeconfig.ts's
 * KubeConfig is narrowed). Only the operator loads this module; `kuber-api serve` never does.
 */
import { existsSync } from 'node:fs';
import type { ListWatch as ClientNodeListWatch, Watch as ClientNodeWatch } from '@kubernetes/client-node';

type InformerModule = { ListWatch: typeof ClientNodeListWatch; Watch: typeof ClientNodeWatch };

/** dist/src/kube/informer-lib.js -> dist/vendor/informer.js */
const VENDORED = new URL('../../vendor/informer.js', import.meta.url);

const mod: InformerModule = existsSync(VENDORED)
  ? ((await import(VENDORED.href)) as InformerModule)
  : await import('@kubernetes/client-node');
export const ListWatch: typeof ClientNodeListWatch = mod.ListWatch;
export type ListWatch<T extends import('@kubernetes/client-node').KubernetesObject> = ClientNodeListWatch<T>;
export const Watch: typeof ClientNodeWatch = mod.Watch;
