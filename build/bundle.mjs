#!/usr/bin/env node
/**
 * Build step after `tsc` (npm run build), with esbuild:
 *
 * 1. dist/vendor/kubeconfig.js: @kubernetes/client-node's `KubeConfig` alone, tree-shaken, which
 *    src/kube/kubeconfig.ts loads in the tsc tree (dist/src).
 * 2. dist/bundle/cli.js (+ dist/bundle/chunks/): the whole server bundled from dist/src/cli.js,
 *    what the image runs. kube-sim (`kuber-api sim`) and the embedded simulator's code stay lazy
 *    chunks, loaded only when asked for, as in dist/src.
 *
 * Why: kuber-api uses only `KubeConfig` from client-node (kubeconfig loading, merging, in-cluster
 * config and auth: client certificates, tokens, token files, exec plugins, OIDC). The package's
 * ESM entry, and even dist/config.js, import dist/gen/index.js: the ~700 generated API and model
 * modules, about 64 MiB of RSS and most of a second of startup that the sidecar never uses
 * (bench/optimisations.md 4). `KubeConfig` needs two of them, for `makeApiClient`
 * (kubernetes-client/javascript src/config.ts imports `createConfiguration` and
 * `ServerConfiguration` from './gen/index.js'): the plugin below points that one import at those
 * two modules, so the bundle is the same code minus what it cannot reach. The whole-server bundle
 * also spares Node's module loader ~250 files to resolve, read and compile (bench/optimisations.md 5).
 *
 * Without esbuild (a devDependency: `npm ci --omit=dev` trees) the step says so and exits 0;
 * src/kube/kubeconfig.ts then imports the package itself: same behaviour, the old footprint.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(join(root, 'package.json'));

let esbuild;
try {
  esbuild = await import(require.resolve('esbuild'));
} catch {
  console.log(
    'build/bundle.mjs: esbuild is not installed: no dist/vendor nor dist/bundle (dist/src imports @kubernetes/client-node whole)',
  );
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

/**
 * cache.js's `import { ObjectSerializer } from './serializer.js'` (which loads every generated model),
 * narrowed to what cache.js calls: `serialize(selector, 'string')`, which returns a string as it is
 * (client-node src/gen/models/ObjectSerializer.ts: primitive types pass through). Used by the
 * operator's informer (src/kube/informer-lib.ts).
 */
const serializerNarrowed = {
  name: 'client-node-serializer-narrowed',
  setup(b) {
    b.onResolve({ filter: /^\.\/serializer\.js$/ }, (a) =>
      a.importer === join(clientNodeDist, 'cache.js')
        ? { path: 'serializer-narrowed', namespace: 'kuber-api-ser' }
        : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'kuber-api-ser' }, () => ({
      contents: 'export const ObjectSerializer = { serialize: (data) => data };\n',
      loader: 'js',
    }));
  },
};
const INFORMER_EXPORTS =
  "export { ListWatch } from '@kubernetes/client-node/dist/cache.js';\nexport { Watch } from '@kubernetes/client-node/dist/watch.js';\n";

const common = {
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  // Some of the dependencies are CommonJS and require() node built-ins.
  banner: {
    js: "import { createRequire as __kuberApiCreateRequire } from 'node:module';\nconst require = __kuberApiCreateRequire(import.meta.url);",
  },
  legalComments: 'eof',
  // No comments, indentation or line breaks: V8 keeps every loaded module's source text in the heap
  // (lazy compilation reads it again; Function.prototype.toString), and one non-Latin-1 character in
  // a comment (an em dash in ip-address's JSDoc) stores a whole chunk as two bytes per character:
  // -2 MiB of idle RSS (bench/optimisations.md 10). Identifiers are kept: stack traces name the
  // functions, at chunk columns instead of lines.
  minifyWhitespace: true,
  logLevel: 'warning',
  // Paths in the metafiles relative to the repository, wherever the build is started from.
  absWorkingDir: root,
  metafile: true,
};

/** One esbuild build; its metafile (which sources went into which output) goes to dist/meta/NAME.json for the tests. */
async function build(name, options) {
  const result = await esbuild.build({ ...common, ...options });
  mkdirSync(join(root, 'dist', 'meta'), { recursive: true });
  writeFileSync(join(root, 'dist', 'meta', `${name}.json`), JSON.stringify(result.metafile));
}

/** In the server bundle, src/kube/informer-lib.ts's runtime choice likewise (the operator's lazy chunk only). */
const informerInlined = {
  name: 'informer-inlined',
  setup(b) {
    b.onLoad({ filter: /[\\/]dist[\\/]src[\\/]kube[\\/]informer-lib\.js$/ }, () => ({
      contents: INFORMER_EXPORTS,
      resolveDir: root,
      loader: 'js',
    }));
  },
};

/** In the server bundle, src/kube/kubeconfig.ts's runtime choice is made now: the narrowed class, bundled. */
const kubeconfigInlined = {
  name: 'kubeconfig-inlined',
  setup(b) {
    b.onLoad({ filter: /[\\/]dist[\\/]src[\\/]kube[\\/]kubeconfig\.js$/ }, () => ({
      contents:
        "export { KubeConfig } from '@kubernetes/client-node/dist/config.js';\nexport { load as loadYaml } from 'js-yaml';\n",
      resolveDir: root,
      loader: 'js',
    }));
  },
};

/**
 * msgpackr's plain entry (its "default" export condition) instead of its Node entry, which loads
 * the native string extractor msgpackr-extract at import: ~3 MiB of idle RSS for a speed-up that
 * only decoding large buffers sees (kuber-api decodes one small record per container:
 * src/engine/model/record.ts). Same encoder and decoder (msgpackr node-index.js re-exports them).
 */
const msgpackrPlain = {
  name: 'msgpackr-plain',
  setup(b) {
    b.onResolve({ filter: /^msgpackr$/ }, async (a) => {
      if (a.pluginData === 'msgpackr-plain') return undefined;
      const node = await b.resolve('msgpackr', {
        kind: a.kind,
        importer: a.importer,
        resolveDir: a.resolveDir,
        pluginData: 'msgpackr-plain',
      });
      return node.errors.length ? node : { path: join(dirname(node.path), 'index.js') };
    });
  },
};

/**
 * What `KubeConfig` imports only for a feature most kubeconfigs never use, loaded when used instead
 * of at import (bench/optimisations.md 10: ~3.5 MiB of the sidecar's idle RSS). esbuild keeps a
 * `require()`d CommonJS module in a wrapper that runs on the first call, and turns `import()` into a
 * chunk loaded on demand; the stubs below call the same functions and constructors, so behaviour is
 * the same (client-node src/config.ts, oidc_auth.ts, azure_auth.ts, gcp_auth.ts):
 * - node-fetch: `new Headers()` in `applyToFetchOptions` and `fetch()` in the generated API
 *   clients' HTTP library (client-node's own API clients, which kuber-api does not use); importing it also ran whatwg-url and tr46's IDNA mapping table (~2 MiB
 *   of heap), which node-fetch 2 never calls on Node (lib/index.js: `Url.URL || whatwgUrl.URL`);
 * - socks-proxy-agent, hpagent: `new ...ProxyAgent()` for a cluster's `proxy-url` only;
 * - openid-client (with oauth4webapi): the `oidc` auth provider, whose two calls are awaited;
 * - jsonpath-plus: the `azure` and `gcp` auth providers' token paths.
 */
/** A class whose constructor returns an instance of `module`'s export `name`, required on first use. */
const lazyClass = (module, name) =>
  `class Lazy${name} { constructor(...a) { return new (require('${module}').${name})(...a); } }\nexport { Lazy${name} as ${name} };\n`;
// (The stubs name their bindings Lazy*: a second top-level `Headers` in the bundle would make esbuild
// rename node-fetch's class, and its constructor.name with it.)
const LAZY_STUBS = {
  'config.js': {
    'node-fetch': lazyClass('node-fetch', 'Headers'),
    'socks-proxy-agent': lazyClass('socks-proxy-agent', 'SocksProxyAgent'),
    hpagent: lazyClass('hpagent', 'HttpProxyAgent') + lazyClass('hpagent', 'HttpsProxyAgent'),
  },
  'gen/http/isomorphic-fetch.js': {
    'node-fetch': "export default function lazyFetch(...a) { return require('node-fetch')(...a); }\n",
  },
  'oidc_auth.js': {
    'openid-client':
      "export const discovery = async (...a) => (await import('openid-client')).discovery(...a);\n" +
      "export const refreshTokenGrant = async (...a) => (await import('openid-client')).refreshTokenGrant(...a);\n",
  },
  'azure_auth.js': { 'jsonpath-plus': "export const JSONPath = (o) => require('jsonpath-plus').JSONPath(o);\n" },
  'gcp_auth.js': { 'jsonpath-plus': "export const JSONPath = (o) => require('jsonpath-plus').JSONPath(o);\n" },
};
const clientNodeLazy = {
  name: 'client-node-lazy',
  setup(b) {
    b.onResolve({ filter: /^(node-fetch|socks-proxy-agent|hpagent|openid-client|jsonpath-plus)$/ }, (a) => {
      const rel = a.importer.startsWith(clientNodeDist) ? a.importer.slice(clientNodeDist.length + 1) : '';
      const stub = LAZY_STUBS[rel]?.[a.path];
      return stub === undefined
        ? undefined
        : { path: `${rel}:${a.path}`, namespace: 'kuber-api-lazy', pluginData: stub };
    });
    b.onLoad({ filter: /.*/, namespace: 'kuber-api-lazy' }, (a) => ({
      contents: a.pluginData,
      resolveDir: clientNodeDist,
      loader: 'js',
    }));
  },
};

const out = join(root, 'dist', 'vendor', 'kubeconfig.js');
mkdirSync(dirname(out), { recursive: true });
await build('kubeconfig', {
  stdin: {
    contents:
      "export { KubeConfig } from '@kubernetes/client-node/dist/config.js';\nexport { load as yamlLoad } from 'js-yaml';\n",
    resolveDir: root,
    loader: 'js',
  },
  outfile: out,
  plugins: [genIndexNarrowed, clientNodeLazy],
});

await build('informer', {
  stdin: { contents: INFORMER_EXPORTS, resolveDir: root, loader: 'js' },
  outfile: join(root, 'dist', 'vendor', 'informer.js'),
  plugins: [serializerNarrowed],
});

const bundleDir = join(root, 'dist', 'bundle');
rmSync(bundleDir, { recursive: true, force: true });
await build('bundle', {
  entryPoints: [join(root, 'dist', 'src', 'cli.js')],
  outdir: bundleDir,
  // Chunks one folder below cli.js, as dist/src/kube/*.js are: src/kube/embedded-sim.ts spawns
  // '../cli.js' relative to itself.
  chunkNames: 'chunks/[name]-[hash]',
  splitting: true,
  // ws's optional native helpers stay in node_modules, loaded from there when installed
  // (bufferutil masks stdin; JavaScript fallbacks without them).
  external: ['bufferutil', 'utf-8-validate'],
  plugins: [kubeconfigInlined, informerInlined, genIndexNarrowed, serializerNarrowed, msgpackrPlain, clientNodeLazy],
});
