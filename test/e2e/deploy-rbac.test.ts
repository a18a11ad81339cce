/**
 * deploy/overlays/sidecar-only is enough (issues 12, 13): kuber-api runs on kube-sim with a
 * service-account kubeconfig made by `kubectl create token` for the `kuber-api` ServiceAccount, bound
 * only to the kuber-api-sidecar ClusterRole (deploy/base) in namespace ci, and the shared container
 * and docker cp cases pass: a rule the code needs and deploy/ lacks fails them. Then kube-sim's
 * authorization record (GET /_sim/authz) must hold no denial for that account, and the test prints
 * which of the Role's rules (per resource and verb) the run never used.
 */
import { readFileSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { KUBECTL, kubectl, spawnSim, type SpawnedSim } from '../helpers/sim.js';
import { startKuber, type Kuber } from '../helpers/kuber.js';
import { dockerAvailable } from '../helpers/docker-cli.js';
import { call } from '../sim/client.js';
import { registerContainerCases } from './containers-cases.js';
import { registerCpCases } from './cp-cases.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const SA_USER = 'system:serviceaccount:ci:kuber-api';
let sim: SpawnedSim;
let kuber: Kuber;
let dir: string;
const { existsSync } = await import('node:fs');
const available = dockerAvailable() && existsSync(KUBECTL('1.33'));
if (!available) console.log('SKIP deploy RBAC tests: needs `docker` on PATH and kubectl 1.33');
const t = available ? test : test.skip;

test.before(async () => {
  if (!available) return;
  sim = await spawnSim();
  dir = mkdtempSync(join(tmpdir(), 'deploy-rbac-'));
  const k = async (args: string[]) => {
    const r = await kubectl('1.33', args, { kubeconfig: sim.kubeconfigPath, cacheDir: join(dir, 'cache') });
    assert.is(r.code, 0, `kubectl ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
  await k(['create', 'namespace', 'ci']);
  const rendered = await k(['kustomize', join(root, 'deploy', 'overlays', 'sidecar-only')]);
  const r = await kubectl('1.33', ['apply', '-f', '-'], {
    kubeconfig: sim.kubeconfigPath,
    cacheDir: join(dir, 'cache'),
    stdin: rendered,
  });
  assert.is(r.code, 0, r.stderr);
  const token = (await k(['-n', 'ci', 'create', 'token', 'kuber-api', '--duration=24h'])).trim();
  const saKubeconfig = join(dir, 'kuber-api.kubeconfig');
  writeFileSync(
    saKubeconfig,
    readFileSync(sim.kubeconfigPath, 'utf8').replace(`token: ${sim.token}`, `token: ${token}`),
    { mode: 0o600 },
  );
  await call(sim, 'DELETE', '/_sim/authz');
  kuber = await startKuber({ kubeconfig: saKubeconfig, namespace: 'ci' });
});
test.after(async () => {
  await kuber?.stop();
  await sim?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

registerContainerCases((name, fn) => t(name, fn), { dockerHost: () => kuber.dockerHost, prefix: 'rbac' });
registerCpCases((name, fn) => t(name, fn), { dockerHost: () => kuber.dockerHost, prefix: 'rbac' });

type Rule = { apiGroups: string[]; resources: string[]; verbs: string[] };

t('~> no request of kuber-api was denied; the Role rules it never used are listed', async () => {
  const usage = (await call(sim, 'GET', '/_sim/authz')).json as {
    allowed: Record<string, Record<string, number>>;
    denied: Array<Record<string, string>>;
  };
  const denied = usage.denied.filter((d) => d.user === SA_USER);
  // kuber-api reads Nodes only to recognise kube-sim (engine/kube-engine.ts kubeVersion,
  // engine/networks.ts discoverGateway) and carries on when RBAC forbids it; the namespaced Role
  // cannot grant that cluster-scoped read, so it is the one refusal expected.
  // Likewise the namespace's Pod Security labels (engine/security/gate.ts): unreadable means
  // --pod-security-default applies, never a weaker check.
  const optional = (d: Record<string, string>) =>
    (d.verb === 'list' && d.resource === 'nodes' && !d.namespace) || (d.verb === 'get' && d.resource === 'namespaces');
  assert.equal(
    denied.filter((d) => !optional(d)),
    [],
    `kuber-api was refused: ${JSON.stringify(denied, null, 1)}`,
  );
  if (denied.length)
    console.log(
      `deploy/ sidecar RBAC: refused and tolerated by kuber-api: ${[...new Set(denied.map((d) => `${d.verb} ${d.resource}`))].join(', ')}`,
    );
  const role = (await call(sim, 'GET', '/apis/rbac.authorization.k8s.io/v1/clusterroles/kuber-api-sidecar')).json as {
    rules: Rule[];
  };
  const unused: string[] = [];
  role.rules.forEach((r, i) => {
    const used = usage.allowed[`ClusterRole/kuber-api-sidecar#${i}`] ?? {};
    for (const res of r.resources) for (const v of r.verbs) if (!used[`${v} ${res}`]) unused.push(`${v} ${res}`);
  });
  const usedKeys = Object.entries(usage.allowed)
    .filter(([k]) => k.startsWith('ClusterRole/kuber-api-sidecar#'))
    .flatMap(([, m]) => Object.keys(m));
  assert.ok(
    usedKeys.includes('create pods') && usedKeys.includes('create configmaps'),
    `containers are pods with configmap records: ${usedKeys.join(', ')}`,
  );
  console.log(`deploy/ sidecar RBAC: used ${[...new Set(usedKeys)].sort().join(', ')}`);
  console.log(`deploy/ sidecar RBAC: granted but unused in this run: ${unused.join(', ') || 'none'}`);
});

test.run();
