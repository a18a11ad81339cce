/**
 * kube-sim admission seen through real kubectl 1.33: Pod Security labels on a namespace (the
 * 403 text kubectl prints, `Warning:` lines for warn), a quota of 2 pods refusing the third,
 * `kubectl create quota`, `describe quota`, the `get resourcequota,limitrange` tables, LimitRange
 * defaults, and a terminating namespace refusing new objects.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { KUBECTL, kubectl, startSim, type SimHandle } from '../helpers/sim.js';

let sim: SimHandle;
let cache: string;
const k = (args: string[], stdin?: string) =>
  kubectl('1.33', args, { kubeconfig: sim.kubeconfigPath, cacheDir: cache, stdin });
const ok = async (args: string[], stdin?: string) => {
  const r = await k(args, stdin);
  assert.is(r.code, 0, `kubectl ${args.join(' ')}: ${r.stderr}`);
  return r;
};

/** A pod kube-sim's kubelet leaves alone (schedulerName manual): admission is what is tested. */
const POD = (name: string, ns: string, spec = '') => `apiVersion: v1
kind: Pod
metadata: {name: ${name}, namespace: ${ns}}
spec:
  schedulerName: manual
  ${spec}
  containers:
  - name: main
    image: busybox
`;
const NAMESPACE = (name: string, labels: Record<string, string>) =>
  `apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ${name}\n  labels:\n${Object.entries(labels)
    .map(([k, v]) => `    ${k}: "${v}"`)
    .join('\n')}\n`;

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
if (!have) console.log('SKIP admission kubectl tests: kubectl 1.33 is not installed');
const t = have ? test : test.skip;

t('Pod Security: restricted refuses a root pod with the real text, admits a compliant one', async () => {
  await ok(['apply', '-f', '-'], NAMESPACE('psa-r', { 'pod-security.kubernetes.io/enforce': 'restricted' }));
  const r = await k(['apply', '-f', '-'], POD('root', 'psa-r', 'securityContext: {runAsUser: 0}'));
  assert.is(r.code, 1);
  assert.match(
    r.stderr,
    'Error from server (Forbidden): error when creating "STDIN": pods "root" is forbidden: violates PodSecurity "restricted:latest": allowPrivilegeEscalation != false (container "main" must set securityContext.allowPrivilegeEscalation=false), unrestricted capabilities (container "main" must set securityContext.capabilities.drop=["ALL"]), runAsNonRoot != true (pod or container "main" must set securityContext.runAsNonRoot=true), runAsUser=0 (pod must not set runAsUser=0), seccompProfile (pod or container "main" must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost")',
  );
  const compliant = `apiVersion: v1
kind: Pod
metadata: {name: fine, namespace: psa-r}
spec:
  schedulerName: manual
  securityContext: {runAsNonRoot: true, runAsUser: 1000, seccompProfile: {type: RuntimeDefault}}
  containers:
  - name: main
    image: busybox
    securityContext: {allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}}
`;
  const created = await ok(['apply', '-f', '-'], compliant);
  assert.match(created.stdout, 'pod/fine created');
  assert.not.match(created.stderr, 'Warning');
});

t(
  'Pod Security: baseline refuses privileged, hostPath, hostNetwork and added SYS_ADMIN; warn prints kubectl Warnings',
  async () => {
    await ok(
      ['apply', '-f', '-'],
      NAMESPACE('psa-b', {
        'pod-security.kubernetes.io/enforce': 'baseline',
        'pod-security.kubernetes.io/warn': 'restricted',
        'pod-security.kubernetes.io/warn-version': 'v1.33',
      }),
    );
    const bad: Array<[string, string, string]> = [
      ['priv', '', 'privileged (container "main" must not set securityContext.privileged=true)'],
      ['hostpath', 'volumes: [{name: root, hostPath: {path: /}}]', 'hostPath volumes (volume "root")'],
      ['hostnet', 'hostNetwork: true', 'host namespaces (hostNetwork=true)'],
      [
        'sysadmin',
        '',
        'non-default capabilities (container "main" must not include "SYS_ADMIN" in securityContext.capabilities.add)',
      ],
    ];
    for (const [name, spec, detail] of bad) {
      let pod = POD(name, 'psa-b', spec);
      if (name === 'priv') pod += '    securityContext: {privileged: true}\n';
      if (name === 'sysadmin') pod += '    securityContext: {capabilities: {add: [SYS_ADMIN]}}\n';
      const r = await k(['create', '-f', '-'], pod);
      assert.is(r.code, 1, name);
      assert.match(
        r.stderr,
        `Error from server (Forbidden): error when creating "STDIN": pods "${name}" is forbidden: violates PodSecurity "baseline:latest": ${detail}`,
      );
    }
    const warned = await ok(['create', '-f', '-'], POD('warned', 'psa-b'));
    assert.match(
      warned.stderr,
      'Warning: would violate PodSecurity "restricted:v1.33": allowPrivilegeEscalation != false (container "main" must set securityContext.allowPrivilegeEscalation=false)',
    );
    assert.match(warned.stdout, 'pod/warned created');
    // Tightening enforce on a namespace with violating pods: kubectl label prints the warnings.
    const label = await ok([
      'label',
      '--overwrite',
      'namespace',
      'psa-b',
      'pod-security.kubernetes.io/enforce=restricted',
    ]);
    assert.match(
      label.stderr,
      'Warning: existing pods in namespace "psa-b" violate the new PodSecurity enforce level "restricted:latest"',
    );
    assert.match(
      label.stderr,
      'Warning: warned: allowPrivilegeEscalation != false, unrestricted capabilities, runAsNonRoot != true, seccompProfile',
    );
    const invalid = await k([
      'label',
      '--overwrite',
      'namespace',
      'psa-b',
      'pod-security.kubernetes.io/enforce=strict',
    ]);
    assert.is(invalid.code, 1);
    assert.match(
      invalid.stderr,
      'The Namespace "psa-b" is invalid: metadata.labels[pod-security.kubernetes.io/enforce]: Invalid value: "strict": must be one of privileged, baseline, restricted',
    );
  },
);

t(
  'ResourceQuota: kubectl create quota pods=2 refuses the third pod; describe and get tables show the usage',
  async () => {
    await ok(['create', 'namespace', 'quota']);
    await ok(['create', 'quota', 'two-pods', '-n', 'quota', '--hard=pods=2,requests.cpu=1,limits.memory=1Gi']);
    const pod = (name: string) =>
      `${POD(name, 'quota')}    resources: {requests: {cpu: 200m}, limits: {memory: 256Mi}}\n`;
    await ok(['create', '-f', '-'], pod('p1'));
    await ok(['create', '-f', '-'], pod('p2'));
    const third = await k(['create', '-f', '-'], pod('p3'));
    assert.is(third.code, 1);
    assert.match(
      third.stderr,
      'Error from server (Forbidden): error when creating "STDIN": pods "p3" is forbidden: exceeded quota: two-pods, requested: pods=1, used: pods=2, limited: pods=2',
    );
    const bare = await k(['create', '-f', '-'], POD('bare', 'quota'));
    assert.match(
      bare.stderr,
      'pods "bare" is forbidden: failed quota: two-pods: must specify limits.memory for: main; requests.cpu for: main',
    );
    const described = (await ok(['describe', 'quota', 'two-pods', '-n', 'quota'])).stdout;
    assert.match(
      described,
      /Name:\s+two-pods\nNamespace:\s+quota\nResource\s+Used\s+Hard\n-+\s+-+\s+-+\nlimits\.memory\s+512Mi\s+1Gi\npods\s+2\s+2\nrequests\.cpu\s+400m\s+1\n/,
    );
    await ok(
      ['create', '-f', '-'],
      'apiVersion: v1\nkind: LimitRange\nmetadata: {name: defaults, namespace: quota}\nspec:\n  limits:\n  - type: Container\n    default: {cpu: 300m, memory: 128Mi}\n',
    );
    const table = (await ok(['get', 'resourcequota,limitrange', '-n', 'quota'])).stdout;
    assert.match(
      table,
      /NAME\s+AGE\s+REQUEST\s+LIMIT\nresourcequota\/two-pods\s+\S+\s+pods: 2\/2, requests\.cpu: 400m\/1\s+limits\.memory: 512Mi\/1Gi\n/,
    );
    assert.match(table, /NAME\s+CREATED AT\nlimitrange\/defaults\s+\d{4}-\d\d-\d\dT/);
    await ok(['delete', 'pod', 'p1', '-n', 'quota', '--grace-period=0', '--force']);
    const after = (await ok(['get', 'quota', 'two-pods', '-n', 'quota', '-o', 'jsonpath={.status.used}'])).stdout;
    assert.equal(JSON.parse(after), { 'limits.memory': '256Mi', pods: '1', 'requests.cpu': '200m' });
  },
);

t('LimitRange fills in defaults (kubectl get shows them); min/max refuse', async () => {
  await ok(['create', 'namespace', 'limits']);
  await ok(
    ['create', '-f', '-'],
    'apiVersion: v1\nkind: LimitRange\nmetadata: {name: lr, namespace: limits}\nspec:\n  limits:\n  - type: Container\n    default: {cpu: 500m, memory: 256Mi}\n    defaultRequest: {cpu: 100m}\n    max: {memory: 1Gi}\n',
  );
  await ok(['create', '-f', '-'], POD('d', 'limits'));
  const res = JSON.parse(
    (await ok(['get', 'pod', 'd', '-n', 'limits', '-o', 'jsonpath={.spec.containers[0].resources}'])).stdout,
  );
  assert.equal(res, { limits: { cpu: '500m', memory: '256Mi' }, requests: { cpu: '100m', memory: '256Mi' } });
  const big = await k(['create', '-f', '-'], `${POD('big', 'limits')}    resources: {limits: {memory: 2Gi}}\n`);
  assert.match(big.stderr, 'pods "big" is forbidden: maximum memory usage per Container is 1Gi, but limit is 2Gi');
});

t('NamespaceLifecycle: a terminating namespace refuses new objects', async () => {
  await ok(['create', 'namespace', 'ending']);
  await ok(
    ['create', '-f', '-'],
    'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: held, namespace: ending, finalizers: [example.com/hold]}\n',
  );
  await ok(['delete', 'namespace', 'ending', '--wait=false']);
  const r = await k(['create', 'configmap', 'late', '-n', 'ending']);
  assert.is(r.code, 1);
  assert.match(
    r.stderr,
    'error: failed to create configmap: configmaps "late" is forbidden: unable to create new content in namespace ending because it is being terminated',
  );
  await ok(['patch', 'configmap', 'held', '-n', 'ending', '--type=merge', '-p', '{"metadata":{"finalizers":null}}']);
});

test.run();
