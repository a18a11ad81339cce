import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { childNamespaceName, desiredHash, LABELS, MANAGED_BY } from '../../src/operator/naming.js';
import { desiredObjects } from '../../src/operator/desired.js';
import { parseOperatorArgs } from '../../src/operator/options.js';
import { profileFor, PROFILES } from '../../src/operator/profiles.js';
import { CredentialBroker } from '../../src/operator/broker.js';
import { Metrics } from '../../src/operator/metrics.js';
import { Reconciler } from '../../src/operator/reconcile.js';
import { childLogger } from '../../src/log.js';
import type { KObject } from '../../src/kube/cache.js';

const log = childLogger({ component: 'test' });
const ref = { namespace: 'ci', name: 'runner-abc-project-1-concurrent-0', uid: '11111111-2222-3333-4444-555555555555' };
const o = parseOperatorArgs([], {});

test('~> child names: deterministic, RFC 1123, at most 63, new uid -> new name', () => {
  const a = childNamespaceName('kapi-job', ref);
  assert.is(a, childNamespaceName('kapi-job', { ...ref }));
  assert.match(a, /^kapi-job-runner-abc-project-1-concurrent-0-[0-9a-f]{10}$/);
  assert.is.not(a, childNamespaceName('kapi-job', { ...ref, uid: 'other' }));
  const long = childNamespaceName('kapi-job', { ...ref, name: 'X'.repeat(200) + '.dots' });
  assert.ok(long.length <= 63 && /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(long), long);
  assert.is(desiredHash({ a: 1, b: [1, 2] }), desiredHash({ b: [1, 2], a: 1 }));
});

test('~> desired objects: labels, PSA, policy peers, quota/limits of the profile, binding to the sidecar role', () => {
  const child = childNamespaceName(o.prefix, ref);
  const { namespace, inside } = desiredObjects(child, ref, 'small', PROFILES['small']!, o);
  const l = namespace.body['metadata'].labels;
  assert.equal(
    [
      l[LABELS.managedBy],
      l[LABELS.parentNamespace],
      l[LABELS.parentUid],
      l['pod-security.kubernetes.io/enforce'],
      l['pod-security.kubernetes.io/warn'],
    ],
    [MANAGED_BY, 'ci', ref.uid, 'baseline', 'restricted'],
  );
  assert.equal(
    inside.map((x) => x.kind),
    ['NetworkPolicy', 'ResourceQuota', 'LimitRange', 'ServiceAccount', 'RoleBinding'],
  );
  const np = inside[0]!.body['spec'];
  assert.equal(np.ingress[1].from[0].podSelector.matchLabels, { [LABELS.jobNamespace]: child });
  assert.equal(inside[1]!.body['spec'].hard, PROFILES['small']!.quota);
  assert.equal(inside[4]!.body['roleRef'].name, 'kuber-api-sidecar');
  assert.equal(profileFor('nope', 'default').name, 'default');
  assert.equal(profileFor('large', 'default').name, 'large');
  assert.equal(profileFor('__proto__', 'default').name, 'default');
});

test('~> DNS egress: Pods of the DNS namespace by label, plus each --dns-egress-cidr as an ipBlock, on port 53 only', () => {
  const child = childNamespaceName(o.prefix, ref);
  const dnsRule = (opts: typeof o) =>
    desiredObjects(child, ref, 'small', PROFILES['small']!, opts).inside[0]!.body['spec'].egress[2];
  const plain = dnsRule(o);
  assert.equal(plain.to, [
    {
      namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } },
      podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } },
    },
  ]);
  const withCidr = dnsRule(parseOperatorArgs(['--dns-egress-cidr', '169.254.20.10/32'], {}));
  assert.equal(withCidr.to.slice(1), [{ ipBlock: { cidr: '169.254.20.10/32' } }]);
  assert.equal(
    withCidr.ports.map((p: { protocol: string; port: number }) => `${p.protocol}/${p.port}`),
    ['UDP/53', 'TCP/53'],
  );
});

test('~> options: flags, env, defaults; unknown flag is a clear error', () => {
  const p = parseOperatorArgs(
    ['--job-namespace', 'a', '--job-namespace=b', '--port', '0', '--dns-pod-label', 'app=dns'],
    { KUBER_API_OPERATOR_PROFILE: 'small' },
  );
  assert.equal([p.jobNamespaces, p.port, p.defaultProfile, p.dnsPodLabels], [['a', 'b'], 0, 'small', { app: 'dns' }]);
  assert.throws(() => parseOperatorArgs(['--nope', '1'], {}), /unknown flag: --nope/);
  assert.throws(() => parseOperatorArgs(['--port', 'x'], {}), /non-negative integer/);
});

const pod = (uid: string): KObject => ({ metadata: { name: 'job', namespace: 'ci', uid } });
const review = (
  extra: Record<string, string[]>,
  username = 'system:serviceaccount:ci:ci-job',
  authenticated = true,
) => ({ status: { authenticated, user: { username, extra } } });

test('~> broker: 401 bad token, 403 not bound / not a job, 503 not ready, 200 with the child token', async () => {
  let answer: any = review({});
  const calls: string[] = [];
  const client = {
    create: async (path: string) => (
      calls.push(path),
      path.includes('tokenreviews')
        ? answer
        : { status: { token: 'child-token', expirationTimestamp: '2030-01-01T00:00:00Z' } }
    ),
  };
  let ready: string | undefined;
  const jobs = {
    job: (ns: string, name: string) => (ns === 'ci' && name === 'job' ? pod('u1') : undefined),
    readyChild: () => ready,
    childLabels: (): Record<string, string> | undefined => childLabels,
  };
  let childLabels: Record<string, string> | undefined;
  const b = new CredentialBroker(
    client as any,
    { audiences: [], tokenTtlSeconds: 600, serviceAccount: 'kuber-api', enforce: 'baseline' },
    jobs,
    new Metrics(),
    log,
  );
  assert.is((await b.issue(undefined)).status, 401);
  answer = review({}, '', false);
  assert.is((await b.issue('t')).status, 401);
  answer = review({});
  assert.is((await b.issue('t')).status, 403, 'not bound to a Pod');
  answer = review({
    'authentication.kubernetes.io/pod-name': ['job'],
    'authentication.kubernetes.io/pod-uid': ['other-uid'],
  });
  assert.is((await b.issue('t')).status, 403, 'same name, another Pod');
  answer = review({ 'authentication.kubernetes.io/pod-name': ['job'], 'authentication.kubernetes.io/pod-uid': ['u1'] });
  const wait = await b.issue('t');
  assert.equal([wait.status, wait.retryAfterSeconds], [503, 1]);
  ready = 'kapi-job-x';
  const okAnswer = await b.issue('t');
  assert.equal(
    [okAnswer.status, okAnswer.body['namespace'], okAnswer.body['token']],
    [200, 'kapi-job-x', 'child-token'],
  );
  assert.is(calls.at(-1), '/api/v1/namespaces/kapi-job-x/serviceaccounts/kuber-api/token');
  assert.is(okAnswer.body['podSecurityEnforce'], 'baseline', 'no label seen: the configured level');
  // A platform team relabelled the namespace: the next answer (kuber-api's refresh) tells it.
  childLabels = {
    'pod-security.kubernetes.io/enforce': 'restricted',
    'pod-security.kubernetes.io/enforce-version': 'v1.29',
  };
  const relabelled = await b.issue('t');
  assert.equal(
    [relabelled.body['podSecurityEnforce'], relabelled.body['podSecurityEnforceVersion']],
    ['restricted', 'v1.29'],
  );
});

test('~> orphans: managed namespaces whose job (namespace + uid) is not live; terminating ones skipped', () => {
  const r = new Reconciler({} as any, { ...o }, new Metrics(), log);
  const ns = (name: string, uid: string, extra: Partial<KObject['metadata']> = {}): KObject => ({
    metadata: {
      name,
      labels: { [LABELS.managedBy]: MANAGED_BY, [LABELS.parentNamespace]: 'ci', [LABELS.parentUid]: uid },
      ...extra,
    },
  });
  const live = (n: string, uid: string) => n === 'ci' && uid === 'live';
  assert.equal(
    r.orphans(
      [ns('a', 'live'), ns('b', 'dead'), ns('c', 'dead', { deletionTimestamp: 'x' }), { metadata: { name: 'd' } }],
      live,
    ),
    ['b'],
  );
});

test('~> metrics: Prometheus text with counters and the latency histogram', () => {
  const m = new Metrics();
  m.namespacesCreated = 2;
  m.observeReconcile(0.03);
  const t = m.text();
  assert.match(t, /kuber_api_operator_namespaces_created_total 2/);
  assert.match(t, /kuber_api_operator_reconcile_seconds_bucket\{le="0.05"\} 1/);
  assert.match(t, /kuber_api_operator_reconcile_seconds_count 1/);
});

test.run();
