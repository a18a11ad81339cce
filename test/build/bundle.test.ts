/**
 * build/bundle.mjs (npm run build): dist/bundle/cli.js is the whole server in a few files, without
 * client-node's generated API modules (what went where: esbuild's metafiles, dist/meta), and it
 * serves: the version, a container run through the embedded kube-sim (its chunk spawns dist/bundle/cli.js sim), docker ps, logs, exec.
 * Skipped when the tree was built with tsc alone (no esbuild: no dist/bundle).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startKuber, type Kuber } from '../helpers/kuber.js';
import { docker, dockerAvailable } from '../helpers/docker-cli.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const bundle = join(root, 'dist', 'bundle');
const cli = join(bundle, 'cli.js');
const built = existsSync(cli);
if (!built)
  console.log('SKIP bundle tests: no dist/bundle (built with tsc alone, or esbuild is not installed: npm run build)');
const t = built ? test : test.skip;
const tDocker = built && dockerAvailable() ? test : test.skip;

type Metafile = {
  outputs: Record<string, { inputs: Record<string, unknown>; imports: { path: string; kind: string }[] }>;
};
/** What went into each output of one of the build's bundles (build/bundle.mjs writes esbuild's metafile). */
const meta = (name: string) => JSON.parse(readFileSync(join(root, 'dist', 'meta', `${name}.json`), 'utf8')) as Metafile;

/** The node_modules files one of the build's bundles was made from, optionally of the outputs `which` picks. */
function bundledSources(name: string, which: (output: string) => boolean = () => true): Set<string> {
  const out = new Set<string>();
  for (const [output, o] of Object.entries(meta(name).outputs))
    if (which(output)) for (const input of Object.keys(o.inputs)) if (input.startsWith('node_modules/')) out.add(input);
  return out;
}

t('--version from the bundle is the package version', () => {
  const version = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version;
  assert.match(
    execFileSync(process.execPath, [cli, '--version'], { encoding: 'utf8' }),
    new RegExp(`^kuber-api ${version.replace(/\./g, '\\.')} `),
  );
});

t("client-node's KubeConfig is in the bundles, its ~700 generated API modules are not", () => {
  for (const name of ['bundle', 'kubeconfig']) {
    const sources = [...bundledSources(name)];
    assert.ok(sources.includes('node_modules/@kubernetes/client-node/dist/config.js'), 'KubeConfig is bundled');
    const generated = sources.filter((s) => s.startsWith('node_modules/@kubernetes/client-node/dist/gen/'));
    assert.ok(
      generated.length > 0 && generated.length < 20,
      `${generated.length} generated modules: ${generated.join(', ')}`,
    );
  }
});

t('openid-client (the oidc auth provider) is a chunk of its own, imported only when a token is refreshed', () => {
  const { outputs } = meta('bundle');
  const own = Object.keys(outputs).filter((o) =>
    Object.keys(outputs[o]!.inputs).some((i) => i.includes('/openid-client/')),
  );
  assert.is(own.length, 1);
  const importers = Object.entries(outputs).flatMap(([o, x]) =>
    x.imports.filter((i) => i.path === own[0]).map((i) => `${o} ${i.kind}`),
  );
  assert.ok(importers.length > 0 && importers.every((i) => i.endsWith(' dynamic-import')), importers.join(', '));
});

t(
  "client-node's informer (ListWatch, Watch) is vendored and in the operator's chunk without the generated models",
  () => {
    const vendored = [...bundledSources('informer')];
    for (const f of ['cache.js', 'watch.js'])
      assert.ok(vendored.includes(`node_modules/@kubernetes/client-node/dist/${f}`), `${f} is vendored`);
    assert.equal(
      vendored.filter((s) => s.startsWith('node_modules/@kubernetes/client-node/dist/gen/')),
      [],
    );
    const withInformer = Object.keys(meta('bundle').outputs).filter((o) =>
      bundledSources('bundle', (x) => x === o).has('node_modules/@kubernetes/client-node/dist/cache.js'),
    );
    assert.is(withInformer.length, 1);
    // That chunk is the operator's, which cli.js imports only for `kuber-api operator`.
    assert.match(readFileSync(join(root, withInformer[0]!), 'utf8'), /operator ready/);
  },
);

let kuber: Kuber | undefined;
test.after(async () => {
  await kuber?.stop();
});

tDocker('the bundle serves: embedded kube-sim, run, ps, logs, exec', async () => {
  kuber = await startKuber({ cli });
  const d = async (...a: string[]) => {
    const r = await docker(kuber!.dockerHost, a, { timeoutMs: 60_000 });
    assert.is(r.code, 0, r.stderr);
    return r.stdout;
  };
  const id = (await d('run', '-d', 'busybox', 'sh', '-c', 'echo out; echo err >&2; sleep 100')).trim();
  assert.match(kuber.logs(), /started the embedded kube-sim/);
  assert.match(await d('ps', '--format', '{{.ID}}'), id.slice(0, 12));
  for (let i = 0; i < 50 && !(await d('logs', id)).includes('out'); i++) await new Promise((r) => setTimeout(r, 100));
  assert.is(await d('logs', id), 'out\n');
  assert.is(await d('exec', id, 'sh', '-c', 'head -c 1048576 /dev/zero | wc -c'), '1048576\n');
  await d('rm', '-f', id);
});

test.run();
