/**
 * @module kube/kubeconfig
 * client-node's `KubeConfig` class, loaded from dist/vendor/kubeconfig.js when the build made it
 * (build/bundle.mjs: the same class bundled without client-node's ~700 generated API
 * modules, which kuber-api never uses: ~11 MiB of RSS instead of ~80, a tenth of the import time),
 * with its YAML loader, else from the package itself (a tree built with `tsc` alone: same behaviour, the old footprint).
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import type { KubeConfig as ClientNodeKubeConfig } from '@kubernetes/client-node';

type KubeConfigModule = { KubeConfig: typeof ClientNodeKubeConfig; yamlLoad?: (text: string) => unknown };

/** dist/src/kube/kubeconfig.js -> dist/vendor/kubeconfig.js */
const VENDORED = new URL('../../vendor/kubeconfig.js', import.meta.url);

async function load(): Promise<KubeConfigModule> {
  if (existsSync(VENDORED)) return (await import(VENDORED.href)) as KubeConfigModule;
  return import('@kubernetes/client-node');
}

/** js-yaml, as client-node resolves it (its dependency: the parser kubeconfigs are read with). */
async function jsYaml(): Promise<(text: string) => unknown> {
  const fromClientNode = createRequire(createRequire(import.meta.url).resolve('@kubernetes/client-node'));
  const m = (await import(pathToFileURL(fromClientNode.resolve('js-yaml')).href)) as {
    load: (text: string) => unknown;
  };
  return m.load;
}

const mod = await load();
export const KubeConfig: typeof ClientNodeKubeConfig = mod.KubeConfig;
export type KubeConfig = ClientNodeKubeConfig;
/**
 * js-yaml's `load` (plain objects, as kubeconfigs are read), for --pod-template; not client-node's
 * loadYaml, whose ObjectSerializer pulls in the generated models.
 */
export const loadYaml: (text: string) => unknown = mod.yamlLoad ?? (await jsYaml());
