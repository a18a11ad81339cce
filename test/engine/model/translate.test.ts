import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  buildPod,
  validateCreate,
  parseUser,
  isNumericUser,
  tmpfsSize,
  hostAliases,
  readinessProbe,
  CONTAINER_NAME,
  type PodContext,
} from '../../../src/engine/model/translate.js';
import { EngineError, statusFromError } from '../../../src/errors.js';
import type { CreateBody } from '../../../src/engine/model/types.js';

const ctx: PodContext = {
  namespace: 'ns',
  instance: 'inst',
  owner: { name: 'kapi-abc', uid: 'u-1' },
  killGraceSeconds: 2,
  imagePullPolicy: 'IfNotPresent',
  automountServiceAccountToken: false,
};
const id = '0123456789abcdef'.repeat(4);
const pod = (config: CreateBody) => buildPod(ctx, { id, name: 'web', config, run: 1, podName: 'web-0123456789ab' });
const main = (config: CreateBody) => pod(config).spec.containers[0];

test('~> Entrypoint/Cmd follow Docker rules on Kubernetes fields', () => {
  assert.equal(main({ Image: 'busybox' }).command, undefined);
  assert.equal(main({ Image: 'busybox' }).args, undefined);
  assert.equal(main({ Image: 'busybox', Cmd: ['echo', 'hi'] }).args, ['echo', 'hi']);
  assert.equal(main({ Image: 'busybox', Cmd: ['echo', 'hi'] }).command, undefined);
  const e = main({ Image: 'busybox', Entrypoint: ['sh', '-c'], Cmd: ['echo hi'] });
  assert.equal([e.command, e.args], [['sh', '-c'], ['echo hi']]);
  const empty = main({ Image: 'busybox', Entrypoint: [''], Cmd: ['ls', '/'] });
  assert.equal([empty.command, empty.args], [['ls', '/'], undefined]);
  assert.equal(main({ Image: 'x', Cmd: 'single' }).args, ['single']);
});

test('~> env, workdir, user, tty/stdin, resources', () => {
  const c = main({
    Image: 'busybox',
    Env: ['A=1', 'B=x=y', 'NOVALUE'],
    WorkingDir: '/tmp',
    User: '1000:100',
    Tty: true,
    OpenStdin: true,
    StdinOnce: true,
    HostConfig: { Memory: 64 * 1024 * 1024, NanoCpus: 1_500_000_000, CpuShares: 2048 },
  });
  assert.equal(c.env, [
    { name: 'A', value: '1' },
    { name: 'B', value: 'x=y' },
  ]);
  assert.is(c.workingDir, '/tmp');
  assert.equal([c.securityContext?.runAsUser, c.securityContext?.runAsGroup], [1000, 100]);
  assert.equal([c.tty, c.stdin, c.stdinOnce], [true, true, true]);
  assert.equal(c.resources, { limits: { cpu: '1500m', memory: String(64 * 1024 * 1024) }, requests: { cpu: '1500m' } });
  assert.equal(main({ Image: 'x', HostConfig: { CpuShares: 512 } }).resources, { requests: { cpu: '500m' } });
  assert.equal(main({ Image: 'x', HostConfig: { CpuQuota: 50000, CpuPeriod: 100000 } }).resources, {
    limits: { cpu: '500m' },
  });
  assert.is(main({ Image: 'x', OpenStdin: false, StdinOnce: true }).stdinOnce, undefined);
});

test('~> user: uid[:gid] and root map; names are left to engine/users; garbage is a 400', () => {
  assert.equal(parseUser('0'), { uid: 0 });
  assert.equal(parseUser('root'), { uid: 0 });
  assert.equal(parseUser('1000:root'), { uid: 1000, gid: 0 });
  assert.equal(parseUser(''), {});
  assert.equal(parseUser('nobody'), {});
  assert.equal(parseUser('nobody:42'), { gid: 42 });
  assert.ok(isNumericUser('1000:0') && isNumericUser('root') && isNumericUser(undefined));
  assert.not.ok(isNumericUser('nobody') || isNumericUser('0:staff'));
  try {
    parseUser('a b');
    assert.unreachable();
  } catch (e) {
    assert.instance(e, EngineError);
    assert.is(statusFromError(e), 400);
  }
});

test('~> labels: never Pod labels (no selector hijack), all kept verbatim in the annotation', () => {
  const p = pod({
    Image: 'x',
    Labels: { app: 'db', 'com.docker.compose.project': 'demo', 'kuber-api.io/instance': 'evil' },
  });
  assert.is(p.metadata.labels['app'], undefined);
  assert.is(p.metadata.labels['com.docker.compose.project'], undefined);
  assert.is(p.metadata.labels['kuber-api.io/instance'], 'inst');
  assert.equal(JSON.parse(p.metadata.annotations['kuber-api.io/docker-labels']), {
    app: 'db',
    'com.docker.compose.project': 'demo',
    'kuber-api.io/instance': 'evil',
  });
});

test('~> pod metadata: owner, instance labels, id/name/run annotations; spec defaults', () => {
  const p = pod({ Image: 'busybox' });
  assert.equal(p.metadata.ownerReferences, [
    { apiVersion: 'v1', kind: 'ConfigMap', name: 'kapi-abc', uid: 'u-1', controller: true, blockOwnerDeletion: false },
  ]);
  assert.is(p.metadata.labels['kuber-api.io/container'], id.slice(0, 12));
  assert.is(p.metadata.annotations['kuber-api.io/id'], id);
  assert.is(p.metadata.annotations['kuber-api.io/run'], '1');
  assert.is(p.spec.restartPolicy, 'Never');
  assert.is(p.spec.terminationGracePeriodSeconds, 2);
  assert.is(p.spec.hostname, id.slice(0, 12));
  assert.is(p.spec.enableServiceLinks, false);
  assert.is(p.spec.automountServiceAccountToken, false);
  assert.is(p.spec.containers[0].name, CONTAINER_NAME);
  assert.is(p.spec.containers[0].imagePullPolicy, 'IfNotPresent');
  assert.is(pod({ Image: 'x', Hostname: 'db' }).spec.hostname, 'db');
});

test('~> embedded DNS: dnsPolicy None, kuber-api the one nameserver, --dns-search/--dns-option added to the cluster list', () => {
  assert.is(pod({ Image: 'busybox' }).spec.dnsPolicy, undefined); // not serving: the cluster's default
  const dns = {
    nameservers: ['10.244.0.9'],
    searches: ['ns.svc.cluster.local', 'svc.cluster.local', 'cluster.local'],
    options: [{ name: 'ndots', value: '5' }],
  };
  const p = buildPod(
    { ...ctx, dns },
    {
      id,
      name: 'web',
      config: {
        Image: 'x',
        HostConfig: { DnsSearch: ['corp.example'], DnsOptions: ['ndots:2', 'edns0'] },
      } as CreateBody,
      run: 1,
      podName: 'web-1',
    },
  );
  assert.is(p.spec.dnsPolicy, 'None');
  assert.equal(p.spec.dnsConfig, {
    nameservers: ['10.244.0.9'],
    searches: ['corp.example', 'ns.svc.cluster.local', 'svc.cluster.local', 'cluster.local'],
    options: [{ name: 'ndots', value: '2' }, { name: 'edns0' }],
  });
  assert.equal(dns.options, [{ name: 'ndots', value: '5' }]); // the context is not changed
});

test('~> ExtraHosts, Tmpfs, ShmSize, StopSignal, ExposedPorts', () => {
  const p = pod({
    Image: 'x',
    StopSignal: 'SIGQUIT',
    ExposedPorts: { '80/tcp': {}, '53/udp': {}, '8080': {} },
    HostConfig: {
      ExtraHosts: ['a:10.0.0.1', 'b:10.0.0.1', 'c=::1'],
      Tmpfs: { '/run': 'rw,size=64m', '/x': '' },
      ShmSize: 1 << 27,
    },
  });
  assert.equal(p.spec.hostAliases, [
    { ip: '10.0.0.1', hostnames: ['a', 'b'] },
    { ip: '::1', hostnames: ['c'] },
  ]);
  assert.equal(p.spec.volumes, [
    { name: 'kapi-tmpfs-0', emptyDir: { medium: 'Memory', sizeLimit: String(64 * 1024 * 1024) } },
    { name: 'kapi-tmpfs-1', emptyDir: { medium: 'Memory' } },
    { name: 'kapi-shm', emptyDir: { medium: 'Memory', sizeLimit: String(1 << 27) } },
  ]);
  const c = p.spec.containers[0];
  assert.equal(
    c.volumeMounts?.map((m) => m.mountPath),
    ['/run', '/x', '/dev/shm'],
  );
  assert.equal(c.lifecycle, { preStop: { exec: { command: ['/bin/sh', '-c', 'kill -3 1'] } } });
  assert.is(p.metadata.annotations['kuber-api.io/stop-signal'], 'SIGQUIT');
  const byPort = (a: any, b: any) => a.containerPort - b.containerPort;
  assert.equal([...(c.ports ?? [])].sort(byPort), [
    { containerPort: 53, protocol: 'UDP' },
    { containerPort: 80, protocol: 'TCP' },
    { containerPort: 8080, protocol: 'TCP' },
  ]);
  assert.is(pod({ Image: 'x', StopSignal: 'TERM' }).spec.containers[0].lifecycle, undefined);
  assert.is(tmpfsSize('size=1g'), 1024 ** 3);
  assert.is(tmpfsSize('mode=1777'), undefined);
  assert.throws(() => hostAliases(['bad']), /expected hostname:IP/);
  assert.throws(() => hostAliases(['h:host-gateway']), /host-gateway/);
  assert.equal(hostAliases(['h:host-gateway'], '10.1.1.1'), [{ ip: '10.1.1.1', hostnames: ['h'] }]);
});

test('~> Healthcheck becomes a readiness probe with Docker defaults', () => {
  assert.equal(readinessProbe({ Test: ['CMD-SHELL', 'curl -f localhost'], Interval: 5e9, Timeout: 2e9, Retries: 4 }), {
    exec: { command: ['/bin/sh', '-c', 'curl -f localhost'] },
    periodSeconds: 5,
    timeoutSeconds: 2,
    failureThreshold: 4,
    successThreshold: 1,
    initialDelaySeconds: 0,
  });
  assert.equal(readinessProbe({ Test: ['CMD', 'true'] }), {
    exec: { command: ['true'] },
    periodSeconds: 30,
    timeoutSeconds: 30,
    failureThreshold: 3,
    successThreshold: 1,
    initialDelaySeconds: 0,
  });
  assert.is(readinessProbe({ Test: ['NONE'] }), undefined);
  assert.is(readinessProbe(undefined), undefined);
  assert.throws(() => readinessProbe({ Test: ['BOGUS'] }), /unknown healthcheck type/);
});

test('~> create-time validation: restart policies, AutoRemove, signals, warnings', () => {
  assert.equal(validateCreate({ Image: 'x' }), []);
  assert.throws(() => validateCreate({}), /Image must be specified/);
  assert.throws(
    () => validateCreate({ Image: 'x', HostConfig: { RestartPolicy: { Name: 'sometimes' as any } } }),
    /unknown policy 'sometimes'/,
  );
  assert.throws(
    () => validateCreate({ Image: 'x', HostConfig: { RestartPolicy: { Name: 'always', MaximumRetryCount: 3 } } }),
    /only be used with 'on-failure'/,
  );
  assert.throws(
    () => validateCreate({ Image: 'x', HostConfig: { AutoRemove: true, RestartPolicy: { Name: 'always' } } }),
    /AutoRemove/,
  );
  assert.equal(validateCreate({ Image: 'x', HostConfig: { AutoRemove: true, RestartPolicy: { Name: 'no' } } }), []);
  assert.throws(() => validateCreate({ Image: 'x', StopSignal: 'SIGNOPE' }), /Invalid signal: SIGNOPE/);
  assert.not.throws(() => validateCreate({ Image: 'x', User: 'www-data' })); // resolved at start (engine/users)
  assert.throws(() => validateCreate({ Image: 'x', User: 'www data' }), /invalid user name/);
  assert.equal(
    validateCreate({ Image: 'x', HostConfig: { Binds: ['/a:/b'] } }),
    [],
    "mounts are engine/volumes' (no warning here)",
  );
});

test.run();
