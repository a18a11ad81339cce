#!/usr/bin/env node
/**
 * Build step after `tsc` (npm run build): bundle @kubernetes/client-node's `KubeConfig` alone,
 * tree-shaken, into dist/vendor/kubeconfig.js, which src/kube/kubeconfig.ts loads.
 *
 * Why: kuber-api uses only `KubeConfig` from client-node (kubeconfig loading, merging, in-cluster
 * config and auth: client certificates, tokens, token files, exec plugins, OIDC). The package's
 * ESM entry, and even dist/config.js, import dist/gen/index.js: the ~700 generated API and model
 * modules, about 64 MiB of RSS and most of a second of startup that the sidecar never uses
 * (bench/optimisations.md, "startup"). `KubeConfig` needs two of them, for `makeApiClient`
 * (kubernetes-client/javascript src/config.ts imports `createConfiguration` and
 * `ServerConfiguration` from './gen/index.js'): the plugin below points that one import at those
 * two modules, so the bundle is the same code minus what it cannot reach.
 *
 * Without esbuild (a devDependency: `npm ci --omit=dev` trees) the step says so and exits 0;
 * src/kube/kubeconfig.ts then imports the package itself: same behaviour, the old footprint.
 */
import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'dist', 'vendor', 'kubeconfig.js');
const require = createRequire(join(root, 'package.json'));

let esbuild;
try {
  esbuild = await import(require.resolve('esbuild'));
} catch {
  console.log('vendor-kubeconfig: esbuild is not installed; kuber-api will import @kubernetes/client-node whole');
  process.exit(0);
}

const clientNodeDist = dirname(require.resolve('@kubernetes/client-node/dist/config.js'));

/** config.js's `import { createConfiguration, ServerConfiguration } from './gen/index.js'`, narrowed to their modules. */
const genIndexNarrowed = {
  name: 'client-node-gen-index-narrowed',
  setup(b) {
    b.onResolve({ filter: /^\.\/gen\/index\.js$/ }, (a) =>
      a.importer === join(clientNodeDist, 'config.js')
        ? { path: 'gen-index-narrowed', namespace: 'kuber-api' }
        : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'kuber-api' }, () => ({
      contents:
        "export { createConfiguration } from './gen/configuration.js';\nexport { ServerConfiguration } from './gen/servers.js';\n",
      resolveDir: clientNodeDist,
      loader: 'js',
    }));
  },
};

mkdirSync(dirname(out), { recursive: true });
await esbuild.build({
  stdin: {
    contents: "export { KubeConfig } from '@kubernetes/client-node/dist/config.js';\n",
    resolveDir: root,
    loader: 'js',
  },
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  outfile: out,
  plugins: [genIndexNarrowed],
  // Some of client-node's dependencies are CommonJS and require() node built-ins.
  banner: {
    js: "import { createRequire as __kuberApiCreateRequire } from 'node:module';\nconst require = __kuberApiCreateRequire(import.meta.url);",
  },
  legalComments: 'eof',
  logLevel: 'warning',
});
