/**
 * deploy/ and the image (issue 13): every kustomize overlay renders with the real kubectl; the
 * operator's Deployment has probes on the endpoints the operator serves; the Dockerfile's base is
 * pinned, its user non-root, its entrypoint in the built output, the programs `docker cp` shells
 * out to are installed; `npm pack` holds a working `bin` (installed into a temporary folder, then
 * `kuber-api --help`). The RBAC itself is exercised by test/e2e/deploy-rbac.test.ts and
 * test/e2e/operator.test.ts on kube-sim's RBAC.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadAllYaml } from '@kubernetes/client-node';
import { KUBECTL, kubectl } from '../helpers/sim.js';
import { NEEDED } from '../../src/kube/preflight.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const hasKubectl = existsSync(KUBECTL('1.33'));
const tk = hasKubectl ? test : test.skip;
const render = async (overlay: string) => {
  const r = await kubectl('1.33', ['kustomize', join(root, 'deploy', 'overlays', overlay)], {
    kubeconfig: '/dev/null',
  });
  assert.is(r.code, 0, `kubectl kustomize ${overlay}: ${r.stderr}`);
  return loadAllYaml(r.stdout) as Array<{
    kind: string;
    metadata: { name: string; namespace?: string };
    [k: string]: any;
  }>;
};

tk('~> kubectl kustomize renders every overlay with the objects each promises', async () => {
  const overlays = readdirSync(join(root, 'deploy', 'overlays'));
  assert.equal(overlays.sort(), ['gitlab', 'operator', 'sidecar-only']);
  const kinds = async (o: string) => (await render(o)).map((x) => `${x.kind}/${x.metadata.name}`).sort();
  assert.equal(await kinds('sidecar-only'), [
    'ClusterRole/kuber-api-sidecar',
    'RoleBinding/kuber-api',
    'ServiceAccount/kuber-api',
  ]);
  const op = await kinds('operator');
  for (const k of [
    'ClusterRole/kuber-api-operator',
    'ClusterRoleBinding/kuber-api-operator',
    'Deployment/kuber-api-operator',
    'Service/kuber-api-operator',
    'ServiceAccount/kuber-api-operator',
    'ClusterRole/kuber-api-sidecar',
  ])
    assert.ok(op.includes(k), k);
  const gl = await kinds('gitlab');
  for (const k of [
    'Namespace/ci',
    'ServiceAccount/ci-job',
    'ConfigMap/gitlab-runner-kuber-api',
    'Deployment/kuber-api-operator',
  ])
    assert.ok(gl.includes(k), k);
});

tk(
  '~> the operator Deployment: non-root, probes on /healthz and /readyz, the one entrypoint with `operator`; the job ServiceAccount has no binding',
  async () => {
    const objs = await render('gitlab');
    const dep = objs.find((o) => o.kind === 'Deployment')!;
    const pod = dep['spec'].template.spec;
    const c = pod.containers[0];
    assert.is(c.args[0], 'operator');
    assert.is(c.livenessProbe.httpGet.path, '/healthz');
    assert.is(c.readinessProbe.httpGet.path, '/readyz');
    assert.is(pod.securityContext.runAsNonRoot, true);
    assert.equal(c.securityContext.capabilities.drop, ['ALL']);
    const bindings = objs.filter((o) => o.kind === 'RoleBinding' || o.kind === 'ClusterRoleBinding');
    assert.not.ok(
      bindings.some((b) => b['subjects'].some((s: { name: string }) => s.name === 'ci-job')),
      "the job Pods' account has no rights",
    );
    const cm = objs.find((o) => o.kind === 'ConfigMap')!;
    assert.match(cm['data']['config.toml'], /service_account = "ci-job"/);
    assert.match(cm['data']['config.toml'], /KUBER_API_OPERATOR_URL=/);
  },
);

test('~> the sidecar ClusterRole grants every verb the preflight says kuber-api uses, and networkpolicies (--network-policies)', () => {
  const role = loadAllYaml(readFileSync(join(root, 'deploy', 'base', 'clusterrole-sidecar.yaml'), 'utf8'))[0] as {
    rules: Array<{ apiGroups: string[]; resources: string[]; verbs: string[] }>;
  };
  const grants = (group: string, resource: string, verb: string) =>
    role.rules.some((r) => r.apiGroups.includes(group) && r.resources.includes(resource) && r.verbs.includes(verb));
  for (const n of NEEDED) for (const v of n.verbs) assert.ok(grants('', n.resource, v), `${v} ${n.resource}`);
  for (const v of ['get', 'list', 'watch', 'create', 'delete'])
    assert.ok(grants('networking.k8s.io', 'networkpolicies', v), `${v} networkpolicies`);
  for (const sub of ['pods/exec', 'pods/attach', 'pods/portforward'])
    assert.ok(grants('', sub, 'create') && grants('', sub, 'get'), sub);
  assert.ok(grants('', 'pods/log', 'get'));
});

test("~> Dockerfile: pinned base, multi-stage, prod deps only, non-root, OCI labels, entrypoint in the built output, docker cp's tools installed", () => {
  const df = readFileSync(join(root, 'Dockerfile'), 'utf8');
  const base = /^ARG NODE_IMAGE=(\S+)$/m.exec(df)?.[1] ?? '';
  assert.match(
    base,
    /^node:\d+\.\d+\.\d+-[a-z]+-slim@sha256:[0-9a-f]{64}$/,
    'the base is an exact release, pinned by digest',
  );
  assert.ok((df.match(/^FROM /gm) ?? []).length >= 3, 'multi-stage');
  assert.match(df, /npm ci --omit=dev/);
  const user = [...df.matchAll(/^USER (\S+)$/gm)].at(-1)?.[1] ?? '';
  assert.ok(user && !/^(0|root)(:|$)/.test(user), `non-root user (${user})`);
  for (const l of ['title', 'description', 'licenses', 'version', 'source'])
    assert.match(df, new RegExp(`org\\.opencontainers\\.image\\.${l}=`));
  const entry = JSON.parse(/^ENTRYPOINT (\[.*\])$/m.exec(df)![1]!) as string[];
  const script = entry.at(-1)!.replace(/^\/app\//, '');
  assert.ok(existsSync(join(root, script)), `${script} is in the built output`);
  assert.match(df, /COPY --from=build \/app\/dist\/src \.\/dist\/src/);
  // The programs src/engine/archive/tar/compress.ts spawns, by their Debian packages.
  const compress = readFileSync(join(root, 'src', 'engine', 'archive', 'tar', 'compress.ts'), 'utf8');
  const packages: Record<string, string> = { bzip2: 'bzip2', xz: 'xz-utils', zstd: 'zstd' };
  const installed = /apt-get install[^\n]*(?:\\\n[^\n]*)*/.exec(df)?.[0] ?? '';
  for (const [program, pkg] of Object.entries(packages))
    if (compress.includes(`'${program}'`))
      assert.match(installed, new RegExp(`\\b${pkg}\\b`), `${program} (${pkg}) installed`);
});

const hasNpm = (() => {
  try {
    execFileSync('npm', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();
(hasNpm ? test : test.skip)(
  '~> npm pack: the tarball installs into an empty folder and `kuber-api --help` works',
  async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kapi-pack-'));
    const run = (cmd: string, args: string[], cwd: string) =>
      new Promise<string>((resolve, reject) =>
        execFile(cmd, args, { cwd, timeout: 300_000, maxBuffer: 16 << 20 }, (err, out, errOut) =>
          err ? reject(new Error(`${cmd} ${args.join(' ')}: ${errOut || err.message}`)) : resolve(out),
        ),
      );
    const packed = JSON.parse(
      await run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', dir], root),
    )[0];
    const files = (packed.files as Array<{ path: string }>).map((f) => f.path);
    assert.ok(files.includes('dist/src/cli.js'), 'the bin is packed');
    assert.not.ok(
      files.some((f) => f.startsWith('dist/test/') || f.startsWith('src/')),
      'no tests or sources',
    );
    const inst = join(dir, 'inst');
    execFileSync('mkdir', ['-p', inst]);
    writeFileSync(join(inst, 'package.json'), '{"name":"pack-check","version":"1.0.0","private":true}');
    await run(
      'npm',
      ['install', '--prefer-offline', '--no-audit', '--no-fund', '--ignore-scripts', join(dir, packed.filename)],
      inst,
    );
    const help = await run(join(inst, 'node_modules', '.bin', 'kuber-api'), ['--help'], inst);
    assert.match(help, /Usage: kuber-api \[serve\] \[flags\]/);
    assert.match(
      await run(join(inst, 'node_modules', '.bin', 'kuber-api'), ['operator', '--help'], inst),
      /usage: kuber-api operator/,
    );
  },
);

test.run();
