/**
 * The per-job namespace operator on kube-sim (RBAC, Pod Security, quotas enforced), issue 13:
 * a fake job Pod gets its child namespace with every object; kuber-api, started with only the job
 * Pod's token, gets its namespace and credentials from the operator and runs `docker run` and a
 * compose project there; the job token and the brokered token are worth nothing outside their
 * job (403s); a second reconcile writes nothing; deleting the job Pod deletes its namespace; an
 * orphan is swept when the operator restarts. Job isolation twice: on the policy objects (job B's
 * policy admits neither job A's Pod nor its containers), and with real traffic where kube-sim
 * enforces NetworkPolicy (root + nft; a SKIP line with kube-sim's reason otherwise): a container
 * of job A gets no TCP connection to one of job B, B's own client does, A's containers resolve
 * names. Without the operator's NetworkPolicy the traffic test fails (job A's client reads "hi").
 * A relabelled child namespace's Pod Security level reaches kuber-api through the broker.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { KUBECTL, kubectl, spawnSim, type SpawnedSim } from '../helpers/sim.js';
import { startKuber, type Kuber } from '../helpers/kuber.js';
import { docker, dockerAvailable } from '../helpers/docker-cli.js';
import { compose as runCompose, composeTools } from '../helpers/compose.js';
import { runOperator, type RunningOperator } from '../../src/operator/index.js';
import { parseOperatorArgs } from '../../src/operator/options.js';
import { LABELS } from '../../src/operator/naming.js';
import { NODE_LOCAL_DNS_ANNOTATION } from '../../src/sim/kubelet/local-addresses.js';
import { Reconciler } from '../../src/operator/reconcile.js';
import { Metrics } from '../../src/operator/metrics.js';
import { childLogger } from '../../src/log.js';
import type { KObject } from '../../src/kube/cache.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const available = dockerAvailable() && existsSync(KUBECTL('1.33'));
if (!available) console.log('SKIP operator tests: needs `docker` on PATH and kubectl 1.33');
const t = available ? test : test.skip;
const composeClients = available ? composeTools('the job-namespace compose project') : [];

let sim: SpawnedSim;
let op: RunningOperator;
let dir: string;
const kubers: Kuber[] = [];
let operatorKubeconfig: string;
/** kube-sim's node-local DNS address (where kuber-api's embedded DNS serves, as on the job Pod's IP in a cluster). */
let nodeDns: string;
const opts = () =>
  parseOperatorArgs(
    [
      '--kubeconfig',
      operatorKubeconfig,
      '--job-namespace',
      'ci',
      '--port',
      '0',
      '--listen-address',
      '127.0.0.1',
      '--retry-base-ms',
      '100',
      // The containers' nameserver is kuber-api's embedded DNS. In a cluster it serves on the job
      // Pod's IP, which the job-Pod rule admits; here kuber-api runs on the node, on kube-sim's
      // node-local DNS address: a node-served DNS, as NodeLocal DNSCache is, that no podSelector matches.
      '--dns-egress-cidr',
      `${nodeDns}/32`,
    ],
    {},
  );

const kc = async (args: string[], kubeconfig = sim.kubeconfigPath, stdin?: string) =>
  kubectl('1.33', args, { kubeconfig, cacheDir: join(dir, 'cache'), ...(stdin ? { stdin } : {}) });
const ok = async (args: string[], kubeconfig?: string, stdin?: string) => {
  const r = await kc(args, kubeconfig, stdin);
  assert.is(r.code, 0, `kubectl ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
};
const json = async (args: string[]) => JSON.parse(await ok([...args, '-o', 'json']));
const until = async <T>(f: () => Promise<T | undefined>, what: string, ms = 60_000): Promise<T> => {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
};
const jobPod = (name: string) => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, namespace: 'ci', labels: { 'kuber-api.io/job': 'true' } },
  spec: {
    serviceAccountName: 'job',
    containers: [
      {
        name: 'build',
        image: 'busybox',
        command: ['sleep', '3600'],
        securityContext: { allowPrivilegeEscalation: false },
      },
    ],
  },
});
const childOf = async (pod: string) =>
  until(
    async () =>
      (await json(['-n', 'ci', 'get', 'pod', pod])).metadata.labels?.[LABELS.jobNamespace] as string | undefined,
    `the child namespace of ${pod}`,
  );
/** A kubeconfig like the admin one, with another token. */
const asToken = (token: string, name: string) => {
  const p = join(dir, `${name}.kubeconfig`);
  writeFileSync(p, readFileSync(sim.kubeconfigPath, 'utf8').replace(`token: ${sim.token}`, `token: ${token}`), {
    mode: 0o600,
  });
  return p;
};
const jobToken = async (pod: string) =>
  (
    await ok([
      '-n',
      'ci',
      'create',
      'token',
      'job',
      '--bound-object-kind',
      'Pod',
      '--bound-object-name',
      pod,
      '--duration',
      '1h',
    ])
  ).trim();
/** kuber-api in sidecar mode for a job, with only that job Pod's token (one per job, started once). */
const kuberOf = new Map<string, Promise<Kuber>>();
const kuberFor = (pod: string) => {
  let k = kuberOf.get(pod);
  if (!k) {
    k = (async () => {
      const tokenFile = join(dir, `${pod}.token`);
      writeFileSync(tokenFile, await jobToken(pod));
      const started = await startKuber({
        kubeconfig: asToken('unused', `${pod}-kuber`),
        args: [
          '--operator-url',
          `http://127.0.0.1:${op.server.port}`,
          '--operator-token-file',
          tokenFile,
          '--operator-wait-ms',
          '30000',
          // Port 53 on the one node-local address is for one kuber-api: job A's (in a cluster, each
          // serves on its own job Pod's IP). Job B's resolves through headless Services.
          ...(pod === 'job-a' ? ['--dns-address', nodeDns] : []),
        ],
      });
      kubers.push(started);
      return started;
    })();
    kuberOf.set(pod, k);
  }
  return k;
};
const broker = async (token: string) => {
  const res = await fetch(`http://127.0.0.1:${op.server.port}/v1/credentials`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}` },
  });
  return { status: res.status, body: (await res.json()) as { namespace: string; token: string; message?: string } };
};

test.before(async () => {
  if (!available) return;
  dir = mkdtempSync(join(tmpdir(), 'kapi-operator-'));
  sim = await spawnSim();
  await ok(['create', 'namespace', 'ci']);
  // The operator runs with exactly the RBAC of deploy/overlays/operator (least privilege, checked by kube-sim's RBAC).
  const rendered = await ok(['kustomize', join(root, 'deploy', 'overlays', 'operator')]);
  const docs = rendered
    .split(/^---$/m)
    .filter((d) => /^kind: (Namespace|ServiceAccount|ClusterRole|ClusterRoleBinding)$/m.test(d));
  await ok(['apply', '-f', '-'], undefined, docs.join('\n---\n'));
  operatorKubeconfig = asToken(
    (await ok(['-n', 'kuber-api-system', 'create', 'token', 'kuber-api-operator', '--duration', '2h'])).trim(),
    'operator',
  );
  await ok(['-n', 'ci', 'create', 'serviceaccount', 'job']);
  nodeDns = (await json(['get', 'nodes'])).items[0].metadata.annotations[NODE_LOCAL_DNS_ANNOTATION];
  for (const p of ['job-a', 'job-b']) await ok(['apply', '-f', '-'], undefined, JSON.stringify(jobPod(p)));
  op = await runOperator(opts(), childLogger({ component: 'operator-test' }));
});
test.after(async () => {
  for (const k of kubers) await k.stop();
  await op?.close();
  await sim?.stop();
});

t(
  '~> each job Pod gets a child namespace with labels, Pod Security, NetworkPolicy, quota, LimitRange, ServiceAccount, RoleBinding',
  async () => {
    const a = await childOf('job-a');
    const pod = await json(['-n', 'ci', 'get', 'pod', 'job-a']);
    await until(async () => op.controller.readyChild(pod), 'job-a ready');
    const ns = await json(['get', 'namespace', a]);
    assert.is(ns.metadata.labels[LABELS.parentNamespace], 'ci');
    assert.is(ns.metadata.labels[LABELS.parentPod], 'job-a');
    assert.is(ns.metadata.labels[LABELS.parentUid], pod.metadata.uid);
    assert.is(ns.metadata.labels['pod-security.kubernetes.io/enforce'], 'baseline');
    assert.is(ns.metadata.labels['pod-security.kubernetes.io/warn'], 'restricted');
    const np = await json(['-n', a, 'get', 'networkpolicy', 'kapi-default-deny']);
    assert.equal(np.spec.policyTypes, ['Ingress', 'Egress']);
    assert.ok(
      np.spec.egress.some((e: any) => e.ports?.some((p: any) => p.port === 53)),
      'DNS egress',
    );
    const quota = await json(['-n', a, 'get', 'resourcequota', 'kapi-quota']);
    assert.is(quota.spec.hard.pods, '30');
    const lr = await json(['-n', a, 'get', 'limitrange', 'kapi-limits']);
    assert.ok(lr.spec.limits[0].defaultRequest.cpu);
    await json(['-n', a, 'get', 'serviceaccount', 'kuber-api']);
    const rb = await json(['-n', a, 'get', 'rolebinding', 'kuber-api']);
    assert.equal([rb.roleRef.kind, rb.roleRef.name, rb.subjects[0].namespace], ['ClusterRole', 'kuber-api-sidecar', a]);
    const b = await childOf('job-b');
    assert.is.not(a, b);
  },
);

t('~> a reconcile run twice issues no write (requests counted)', async () => {
  await op.controller.idle();
  const counts = { get: 0, write: 0 };
  const c = op.kube.client; // the operator's own least-privilege identity
  const counting = {
    get: (p: string, q?: any) => (counts.get++, c.get(p, q)),
    create: (p: string, b: unknown) => (counts.write++, c.create(p, b)),
    mergePatch: (p: string, b: unknown) => (counts.write++, c.mergePatch(p, b)),
    delete: (p: string, o?: any) => (counts.write++, c.delete(p, o)),
  };
  const r = new Reconciler(counting as any, op.reconciler.opts, new Metrics(), childLogger({ component: 'count' }));
  const pods = (await json(['-n', 'ci', 'get', 'pods', '-l', 'kuber-api.io/job=true'])).items as KObject[];
  for (let i = 0; i < 2; i++) for (const p of pods) await r.ensure(p);
  assert.is(counts.write, 0);
  assert.ok(counts.get >= 12, `reads happened (${counts.get})`);
});

t(
  '~> the job token has no rights; the brokered token is worth its own namespace only; Pod Security applies there',
  async () => {
    const a = await childOf('job-a');
    const b = await childOf('job-b');
    const jobKc = asToken(await jobToken('job-a'), 'job-a');
    for (const args of [
      ['-n', b, 'get', 'secrets'],
      ['-n', b, 'get', 'pods'],
      ['-n', a, 'get', 'pods'],
      ['-n', 'ci', 'get', 'pods'],
    ]) {
      const r = await kc(args, jobKc);
      assert.is.not(r.code, 0, args.join(' '));
      assert.match(r.stderr, /forbidden/i, args.join(' '));
    }
    const got = await broker(await jobToken('job-a'));
    assert.is(got.status, 200, JSON.stringify(got.body));
    assert.is(got.body.namespace, a);
    const brokered = asToken(got.body.token, 'brokered-a');
    await ok(['-n', a, 'get', 'pods'], brokered);
    for (const args of [
      ['-n', b, 'get', 'secrets'],
      ['-n', b, 'get', 'pods'],
      ['-n', 'ci', 'get', 'pods'],
      ['-n', 'ci', 'get', 'secrets'],
    ]) {
      const r = await kc(args, brokered);
      assert.match(r.stderr, /forbidden/i, args.join(' '));
    }
    const privileged = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'evil', namespace: a },
      spec: { containers: [{ name: 'x', image: 'busybox', securityContext: { privileged: true } }] },
    };
    const r = await kc(['apply', '-f', '-'], brokered, JSON.stringify(privileged));
    assert.match(r.stderr, /violates PodSecurity "baseline:latest": privileged/);
    // A token not bound to a Pod, and garbage, are refused.
    assert.is((await broker('not-a-token')).status, 401);
    assert.is((await broker((await ok(['-n', 'ci', 'create', 'token', 'job'])).trim())).status, 403);
  },
);

t('~> a relabelled child namespace: the broker tells its Pod Security level with the next credentials', async () => {
  const a = await childOf('job-a');
  const level = async () => (await broker(await jobToken('job-a'))).body as { podSecurityEnforce?: string };
  assert.is((await level()).podSecurityEnforce, 'baseline');
  await ok(['label', '--overwrite', 'namespace', a, 'pod-security.kubernetes.io/enforce=restricted']);
  try {
    await until(
      async () => ((await level()).podSecurityEnforce === 'restricted' ? true : undefined),
      'the broker tells restricted',
    );
  } finally {
    await ok(['label', '--overwrite', 'namespace', a, 'pod-security.kubernetes.io/enforce=baseline']);
  }
  // Back as it was before the next tests start kuber-api for job A.
  await until(async () => ((await level()).podSecurityEnforce === 'baseline' ? true : undefined), 'baseline again');
});

t(
  "~> NetworkPolicy: job B admits its own namespace and job Pod B only; job A's Pod and containers match no rule of it",
  async () => {
    const a = await childOf('job-a');
    const b = await childOf('job-b');
    const np = await json(['-n', b, 'get', 'networkpolicy', 'kapi-default-deny']);
    const podA = await json(['-n', 'ci', 'get', 'pod', 'job-a']);
    const podB = await json(['-n', 'ci', 'get', 'pod', 'job-b']);
    const nsLabels = async (ns: string) =>
      (await json(['get', 'namespace', ns])).metadata.labels as Record<string, string>;
    const matches = (sel: any, labels: Record<string, string>) =>
      Object.entries(sel?.matchLabels ?? {}).every(([k, v]) => labels[k] === v);
    // NetworkPolicy semantics (networking/v1): a peer without namespaceSelector means the policy's own namespace.
    const admits = async (rules: any[], peerKey: 'from' | 'to', podNs: string, podLabels: Record<string, string>) => {
      const nl = await nsLabels(podNs);
      return rules.some((r) =>
        (r[peerKey] ?? []).some(
          (p: any) =>
            (p.namespaceSelector ? matches(p.namespaceSelector, nl) : podNs === b) && matches(p.podSelector, podLabels),
        ),
      );
    };
    assert.ok(await admits(np.spec.ingress, 'from', 'ci', podB.metadata.labels), 'job Pod B reaches its containers');
    assert.not.ok(await admits(np.spec.ingress, 'from', 'ci', podA.metadata.labels), 'job Pod A does not');
    assert.not.ok(
      await admits(np.spec.ingress, 'from', a, { 'kuber-api.io/kind': 'container' }),
      'containers of job A do not',
    );
    assert.ok(
      await admits(np.spec.ingress, 'from', b, { 'kuber-api.io/kind': 'container' }),
      'containers of job B reach each other',
    );
  },
);

t('~> a new job Pod: its namespace is ready (every object made) soon after; the time is printed', async () => {
  const t0 = Date.now();
  await ok(['apply', '-f', '-'], undefined, JSON.stringify(jobPod('job-t')));
  const child = await childOf('job-t');
  const pod = await json(['-n', 'ci', 'get', 'pod', 'job-t']);
  await until(async () => op.controller.readyChild(pod), 'job-t ready');
  console.log(`# job Pod created -> child namespace ready: ${Date.now() - t0} ms (kubectl round trips included)`);
  await json(['-n', child, 'get', 'rolebinding', 'kuber-api']);
  await ok(['-n', 'ci', 'delete', 'pod', 'job-t', '--grace-period=0', '--force']);
});

t(
  '~> survives 410s, dropped watches and apiserver errors: a job Pod added meanwhile still gets its namespace',
  async () => {
    const errorsBefore = op.metrics.reconcileErrors;
    await sim.setFaults({
      expireWatchesBefore: 'now',
      dropWatches: { afterEvents: 1 },
      failRequests: { status: 500, count: 12, pathContains: '/resourcequotas', method: 'POST' },
    });
    try {
      await ok(['apply', '-f', '-'], undefined, JSON.stringify(jobPod('job-c')));
      const c = await childOf('job-c');
      const pod = await json(['-n', 'ci', 'get', 'pod', 'job-c']);
      await until(async () => op.controller.readyChild(pod), 'job-c ready', 90_000);
      await json(['-n', c, 'get', 'resourcequota', 'kapi-quota']);
      assert.ok(op.metrics.reconcileErrors > errorsBefore, 'the failed creates were reconcile errors, retried');
      const caches = [...op.controller.jobCaches, op.controller.namespaces];
      assert.ok(
        caches.some((x) => x.stats.relists > 0 || x.stats.watches > 1),
        'the watches were resumed or relisted',
      );
    } finally {
      await sim.clearFaults();
    }
    await ok(['-n', 'ci', 'delete', 'pod', 'job-c', '--grace-period=0', '--force']);
  },
);

t(
  "~> kuber-api with only the job Pod's token: docker run, compose and testcontainers run in the job namespace",
  async () => {
    const a = await childOf('job-a');
    const k = await kuberFor('job-a');
    const r = await docker(
      k.dockerHost,
      ['run', '--name', 'in-job', 'busybox', 'echo', 'hello from the job namespace'],
      { timeoutMs: 90_000 },
    );
    assert.is(r.stdout.trim(), 'hello from the job namespace', r.stderr);
    const pods = await json(['-n', a, 'get', 'pods']);
    assert.ok(
      pods.items.some((p: any) => p.metadata.annotations?.['kuber-api.io/name'] === 'in-job'),
      'the container ran in the child namespace',
    );
    const cdir = mkdtempSync(join(tmpdir(), 'kapi-op-compose-'));
    writeFileSync(
      join(cdir, 'docker-compose.yml'),
      [
        'version: "3"',
        'services:',
        '  web:',
        '    image: busybox',
        '    command: ["sleep", "300"]',
        '  client:',
        '    image: busybox',
        '    command: ["sh", "-c", "nslookup web >/dev/null 2>&1; echo done"]',
        '',
      ].join('\n'),
    );
    // compose v1 and v2 in turn (each SKIPped when absent): v2 labels and checks the network it makes
    for (const tool of composeClients) {
      const compose = (args: string[]) => runCompose(tool, k.dockerHost, cdir, args, 120_000);
      const up = await compose(['-p', 'jobproj', 'up', '-d']);
      assert.is(up.code, 0, `${tool.label}: ${up.stderr}`);
      const down = await compose(['-p', 'jobproj', 'down']);
      assert.is(down.code, 0, `${tool.label}: ${down.stderr}`);
    }
    // testcontainers, as a job's test suite uses it (GitLab: DOCKER_HOST + TESTCONTAINERS_RYUK_DISABLED).
    process.env.DOCKER_HOST = k.dockerHost;
    process.env.TESTCONTAINERS_RYUK_DISABLED = 'true';
    const { GenericContainer, Wait } = await import('testcontainers');
    const c = await new GenericContainer('busybox')
      .withCommand(['sh', '-c', 'echo ready; sleep 300'])
      .withWaitStrategy(Wait.forLogMessage('ready'))
      .withStartupTimeout(60_000)
      .start();
    try {
      const r = await c.exec(['sh', '-c', 'echo in-job']);
      assert.equal([r.exitCode, r.output], [0, 'in-job\n']);
      const inNs = await json(['-n', a, 'get', 'pods']);
      assert.ok(
        inNs.items.some((p: any) => p.metadata.annotations?.['kuber-api.io/id'] === c.getId()),
        'the testcontainers container is in the job namespace',
      );
    } finally {
      await c.stop({ timeout: 1 });
    }
  },
);

t(
  "~> real traffic (kube-sim enforcing NetworkPolicy): a container of job A cannot open TCP to one of job B; B's own containers can; DNS egress works",
  async () => {
    if (sim.networkPolicyNotEnforced) {
      console.log(`SKIP cross-job traffic test: NetworkPolicy is NOT enforced: ${sim.networkPolicyNotEnforced}`);
      return;
    }
    const [ka, kb] = await Promise.all([kuberFor('job-a'), kuberFor('job-b')]);
    const d = (k: Kuber, ...args: string[]) => docker(k.dockerHost, args, { timeoutMs: 90_000 });
    const out = (r: { code: number | null; stdout: string; stderr: string }, what: string) => {
      assert.is(r.code, 0, `${what}: ${r.stdout} ${r.stderr}`);
      return r.stdout.trim();
    };
    out(await d(kb, 'run', '-d', '--name', 'b-web', 'busybox', 'sh', '-c', 'exec nc -ll -p 8080 -e echo hi'), 'b-web');
    const ip = await until(
      async () =>
        out(
          await d(kb, 'inspect', '-f', '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}', 'b-web'),
          'inspect',
        ) || undefined,
      'b-web has a pod IP',
    );
    // nc's exit status is printed so the report can tell a refusal (rc=1 at once) from a drop (rc=1 after -w).
    const connect = (k: Kuber, tries: number) =>
      d(
        k,
        'run',
        '--rm',
        'busybox',
        'sh',
        '-c',
        `for i in $(seq ${tries}); do nc -w 3 ${ip} 8080 2>&1 && exit 0; echo rc=$?; sleep 0.2; done`,
      );
    // Job B's own client first (retried until the listener listens): the network and the listener work.
    const own = out(await connect(kb, 20), 'client in job B');
    assert.is(own.split('\n').pop(), 'hi', `job B's client reaches b-web: ${own}`);
    const t0 = Date.now();
    const cross = out(await connect(ka, 1), 'client in job A');
    console.log(
      `# job A -> job B ${ip}:8080: ${JSON.stringify(cross)} after ${Date.now() - t0} ms (container start included)`,
    );
    assert.not.match(cross, /hi/, 'job A reached job B');
    assert.match(cross, /rc=1/);
    // DNS egress (the policy's port-53 rule): job A's containers ask kuber-api's embedded DNS for a Docker name.
    out(await d(ka, 'network', 'create', 'a-net'), 'network create');
    out(await d(ka, 'run', '-d', '--network', 'a-net', '--name', 'a-peer', 'busybox', 'sleep', '300'), 'a-peer');
    const dns = out(
      await d(
        ka,
        'run',
        '--rm',
        '--network',
        'a-net',
        'busybox',
        'sh',
        '-c',
        'for i in 1 2 3 4 5; do ping -c1 -W1 a-peer 2>&1 | head -1 | grep PING && exit 0; sleep 0.5; done; echo unresolved',
      ),
      'DNS from job A',
    );
    assert.match(dns, /^PING a-peer \(\d+\.\d+\.\d+\.\d+\)/, dns);
    out(await d(ka, 'rm', '-f', 'a-peer'), 'rm a-peer');
    out(await d(ka, 'network', 'rm', 'a-net'), 'network rm');
    out(await d(kb, 'rm', '-f', 'b-web'), 'rm b-web');
  },
);

t('~> deleting the job Pod deletes its namespace; an orphan is swept when the operator restarts', async () => {
  const b = await childOf('job-b');
  await ok(['-n', 'ci', 'delete', 'pod', 'job-b', '--grace-period=0', '--force']);
  await until(async () => {
    const r = await kc(['get', 'namespace', b, '-o', 'json']);
    return r.code !== 0 || JSON.parse(r.stdout).metadata.deletionTimestamp ? true : undefined;
  }, `namespace ${b} deleted`);
  await op.close();
  const orphan = {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: {
      name: 'kapi-job-orphan-0000000000',
      labels: {
        [LABELS.managedBy]: 'kuber-api-operator',
        [LABELS.parentNamespace]: 'ci',
        [LABELS.parentPod]: 'gone',
        [LABELS.parentUid]: '00000000-0000-0000-0000-000000000000',
      },
    },
  };
  await ok(['apply', '-f', '-'], undefined, JSON.stringify(orphan));
  op = await runOperator(opts(), childLogger({ component: 'operator-test' }));
  const r = await kc(['get', 'namespace', orphan.metadata.name, '-o', 'json']);
  assert.ok(r.code !== 0 || JSON.parse(r.stdout).metadata.deletionTimestamp, 'the orphan is deleted at startup');
  // The live job keeps its namespace.
  const a = await childOf('job-a');
  const ns = await json(['get', 'namespace', a]);
  assert.not.ok(ns.metadata.deletionTimestamp);
  assert.match(op.metrics.text(), /kuber_api_operator_namespaces_deleted_total 1/);
});

test.run();
