/**
 * Real kubectl (1.33, 1.30, 1.27) against kube-sim over TLS with a bearer token, from the
 * kubeconfig kube-sim writes: discovery, tables, CRUD, apply (client- and server-side), patch
 * types, watch, deletion, and the protobuf bodies of kubectl 1.33's create generators.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { KUBECTL, kubectl, startSim, type SimHandle } from '../helpers/sim.js';
import { call, until } from './client.js';

let sim: SimHandle;
let cache: string;
const k = (args: string[], version = '1.33', stdin?: string) =>
  kubectl(version, args, { kubeconfig: sim.kubeconfigPath, cacheDir: join(cache, version), stdin });
const ok = async (args: string[], version = '1.33', stdin?: string) => {
  const r = await k(args, version, stdin);
  assert.is(r.code, 0, `kubectl ${version} ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
};

const POD = (labels = 'app: web') => `apiVersion: v1
kind: Pod
metadata:
  name: web
  labels: {${labels}}
spec:
  schedulerName: manual
  containers:
  - name: c
    image: busybox
    command: ["sh", "-c", "sleep 1000"]
`;

const have = existsSync(KUBECTL('1.33'));
test.before(async () => {
  if (!have) return;
  sim = await startSim();
  cache = mkdtempSync(join(tmpdir(), 'kubectl-cache-'));
});
test.after(async () => {
  if (!have) return;
  await sim.stop();
  rmSync(cache, { recursive: true, force: true });
});
if (!have) console.log(`SKIP kubectl tests: ${KUBECTL('1.33')} is missing (kubectl.1.NN beside the kubectl on PATH)`);
const t = have ? test : test.skip;

t(
  '~> unknown fields: kubectl apply (Strict) is refused as a real apiserver does; --validate=false drops them',
  async () => {
    const typo = POD().replace('name: web', 'name: typo').replace('command:', 'comand:');
    const r = await k(['apply', '-f', '-'], '1.33', typo);
    assert.is(r.code, 1);
    assert.match(
      r.stderr,
      /Pod in version "v1" cannot be handled as a Pod: strict decoding error: unknown field "spec.containers\[0\].comand"/,
    );
    await ok(['apply', '--validate=false', '-f', '-'], '1.33', typo);
    const p = JSON.parse(await ok(['get', 'pod', 'typo', '-o', 'json']));
    assert.is(p.spec.containers[0].comand, undefined);
    await ok(['delete', 'pod', 'typo']);
  },
);

t('~> the kubeconfig is TLS + bearer token; kubectl version and api-resources', async () => {
  assert.match(sim.url, /^https:\/\/127\.0\.0\.1:\d+$/);
  assert.ok(sim.token);
  const v = await ok(['version']);
  assert.match(v, /Server Version: v1\.33\.0/);
  const ar = await ok(['api-resources']);
  assert.match(ar, /^pods\s+po\s+v1\s+true\s+Pod$/m);
  assert.match(ar, /^roles\s+rbac\.authorization\.k8s\.io\/v1\s+true\s+Role$/m);
  assert.match(ar, /^networkpolicies\s+netpol\s+networking\.k8s\.io\/v1\s+true\s+NetworkPolicy$/m);
});

t('~> auth can-i and auth whoami (SelfSubjectAccessReview/SelfSubjectReview)', async () => {
  assert.is((await ok(['auth', 'can-i', 'create', 'pods'])).trim(), 'yes');
  assert.match(await ok(['auth', 'whoami']), /Username\s+kube-sim-admin/);
  const jwt = (await ok(['create', 'token', 'default'])).trim();
  const claims = JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString('utf8'));
  assert.is(claims.sub, 'system:serviceaccount:default:default', 'TokenRequest signs a service-account JWT');
});

t('~> get ns prints a table; create ns; create generators (protobuf bodies) work', async () => {
  const ns = await ok(['get', 'ns']);
  assert.match(ns, /^NAME\s+STATUS\s+AGE$/m);
  assert.match(ns, /^default\s+Active\s+\d+s$/m);
  assert.match(ns, /^kube-system\s+Active/m);
  assert.match(await ok(['create', 'ns', 'team-a']), /namespace\/team-a created/);
  assert.match(await ok(['-n', 'team-a', 'create', 'configmap', 'c1', '--from-literal=a=b']), /configmap\/c1 created/);
  assert.match(
    await ok(['-n', 'team-a', 'create', 'secret', 'generic', 's1', '--from-literal=a=b']),
    /secret\/s1 created/,
  );
  assert.match(
    await ok(['-n', 'team-a', 'create', 'service', 'clusterip', 'svc1', '--tcp=80:8080']),
    /service\/svc1 created/,
  );
  const cm = JSON.parse(await ok(['-n', 'team-a', 'get', 'cm', 'c1', '-o', 'json']));
  assert.equal(cm.data, { a: 'b' });
  const svc = await ok(['-n', 'team-a', 'get', 'svc']);
  assert.match(svc, /^svc1\s+ClusterIP\s+10\.96\.\d+\.\d+\s+<none>\s+80\/TCP\s+\d+s$/m);
  const cms = await ok(['-n', 'team-a', 'get', 'cm']);
  assert.match(cms, /^NAME\s+DATA\s+AGE$/m);
  assert.match(cms, /^kube-root-ca\.crt\s+1\s+/m);
});

t('~> apply -f twice (create, then a strategic merge patch), get pods table, -o wide, -o yaml', async () => {
  assert.match(await ok(['apply', '-f', '-'], '1.33', POD()), /pod\/web created/);
  assert.match(await ok(['apply', '-f', '-'], '1.33', POD('app: web, tier: fe')), /pod\/web configured/);
  const pods = await ok(['get', 'pods']);
  assert.match(pods, /^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE$/m);
  assert.match(pods, /^web\s+0\/1\s+Pending\s+0\s+\d+s$/m);
  const wide = await ok(['get', 'pods', '-o', 'wide']);
  assert.match(wide, /^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE\s+IP\s+NODE\s+NOMINATED NODE\s+READINESS GATES$/m);
  const y = await ok(['get', 'pod', 'web', '-o', 'yaml']);
  assert.match(y, /kubectl\.kubernetes\.io\/last-applied-configuration/);
  assert.match(y, /tier: fe/);
  const again = await ok(['apply', '-f', '-'], '1.33', POD('app: web, tier: fe'));
  assert.match(again, /pod\/web unchanged/);
  const dry = await ok(['apply', '-f', '-', '--dry-run=server'], '1.33', POD('app: dry'));
  assert.match(dry, /server dry run/);
  assert.match(await ok(['get', 'pod', 'web', '--show-labels']), /app=web,tier=fe/);
});

t('~> apply --server-side', async () => {
  const out = await ok(['apply', '--server-side', '-f', '-'], '1.33', POD('app: web, tier: be'));
  assert.match(out, /pod\/web serverside-applied/);
  const p = JSON.parse(await ok(['get', 'pod', 'web', '-o', 'json']));
  assert.is(p.metadata.labels.tier, 'be');
});

t('~> label, annotate, patch --type=merge|json|strategic, get -o json', async () => {
  await ok(['label', 'pod', 'web', 'x=y']);
  await ok(['annotate', 'pod', 'web', 'note=hello']);
  await ok(['patch', 'pod', 'web', '--type=merge', '-p', '{"metadata":{"labels":{"m":"1"}}}']);
  await ok(['patch', 'pod', 'web', '--type=json', '-p', '[{"op":"add","path":"/metadata/labels/j","value":"2"}]']);
  await ok([
    'patch',
    'pod',
    'web',
    '--type=strategic',
    '-p',
    '{"spec":{"containers":[{"name":"c","image":"busybox:1.36"}]}}',
  ]);
  const p = JSON.parse(await ok(['get', 'pod', 'web', '-o', 'json']));
  assert.equal([p.metadata.labels.x, p.metadata.labels.m, p.metadata.labels.j], ['y', '1', '2']);
  assert.is(p.metadata.annotations.note, 'hello');
  assert.is(p.spec.containers[0].image, 'busybox:1.36');
  assert.equal(p.spec.containers[0].command, ['sh', '-c', 'sleep 1000']);
  const bad = await k(['patch', 'pod', 'web', '--type=merge', '-p', '{"spec":{"restartPolicy":"Never"}}']);
  assert.is(bad.code, 1);
  assert.match(bad.stderr, /The Pod "web" is invalid: spec: Forbidden: pod updates may not change fields/);
});

t('~> get pods -w prints the ADDED row of a new pod', async () => {
  const child = spawn(
    KUBECTL('1.33'),
    ['--kubeconfig', sim.kubeconfigPath, '--cache-dir', join(cache, '1.33'), 'get', 'pods', '-w'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  try {
    await until(() => /^web\s+0\/1\s+Pending/m.test(out), 10_000, 'initial row');
    await ok([
      'run',
      'watched',
      '--image=busybox',
      '--restart=Never',
      '--overrides={"apiVersion":"v1","spec":{"schedulerName":"manual"}}',
      '--',
      'sleep',
      '1',
    ]);
    await until(() => /^watched\s+0\/1\s+Pending/m.test(out), 10_000, 'the new pod in the watch');
    assert.is(out.match(/^NAME\s+READY/gm)?.length, 1, 'one header');
  } finally {
    child.kill();
  }
});

t('~> delete pod waits for the deletion; a scheduled pod shows Terminating until forced', async () => {
  assert.match(await ok(['delete', 'pod', 'watched', '--wait']), /pod "watched" deleted/);
  assert.is((await k(['get', 'pod', 'watched'])).code, 1);
  // Bind `web` to a node no kubelet serves (through the binding subresource, as a scheduler does):
  // its graceful deletion then waits forever, as on a real cluster with a dead node.
  const b = await call(sim, 'POST', '/api/v1/namespaces/default/pods/web/binding', {
    apiVersion: 'v1',
    kind: 'Binding',
    metadata: { name: 'web' },
    target: { apiVersion: 'v1', kind: 'Node', name: 'node-b' },
  });
  assert.is(b.status, 201);
  await ok(['delete', 'pod', 'web', '--wait=false']);
  const st = await ok(['get', 'pod', 'web']);
  assert.match(st, /^web\s+0\/1\s+Terminating\s+0/m);
  const j = JSON.parse(await ok(['get', 'pod', 'web', '-o', 'json']));
  assert.is(j.metadata.deletionGracePeriodSeconds, 30);
  const forced = await k(['delete', 'pod', 'web', '--grace-period=0', '--force']);
  assert.is(forced.code, 0, forced.stderr);
  assert.is((await k(['get', 'pod', 'web'])).code, 1);
});

t('~> delete ns waits until the namespace is gone', async () => {
  assert.match(await ok(['delete', 'ns', 'team-a']), /namespace "team-a" deleted/);
  const r = await k(['get', 'ns', 'team-a']);
  assert.is(r.code, 1);
  assert.match(r.stderr, /namespaces "team-a" not found/);
});

for (const v of ['1.30', '1.27']) {
  const tv = have && existsSync(KUBECTL(v)) ? test : test.skip;
  if (have && !existsSync(KUBECTL(v))) console.log(`SKIP kubectl ${v} test: ${KUBECTL(v)} is missing`);
  tv(`~> kubectl ${v}: get, apply twice, get pods, delete`, async () => {
    assert.match(await ok(['get', 'ns'], v), /^default\s+Active/m);
    assert.match(await ok(['apply', '-f', '-'], v, POD()), /pod\/web created/);
    assert.match(await ok(['apply', '-f', '-'], v, POD('app: web2')), /pod\/web configured/);
    assert.match(await ok(['get', 'pods'], v), /^web\s+0\/1\s+Pending\s+0/m);
    assert.match(await ok(['get', 'pod', 'web', '--show-labels'], v), /app=web2/);
    assert.match(await ok(['delete', 'pod', 'web'], v), /pod "web" deleted/);
  });
}

test.run();
