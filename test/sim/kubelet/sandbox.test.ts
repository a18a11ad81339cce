/**
 * The sandbox: a container cannot write outside its own directories (host /, /etc, /usr, the
 * host's /tmp, another pod's emptyDir), while its /tmp, its emptyDirs and its own busybox root are
 * writable; capabilities are dropped (no remount, no mknod); runAsUser is a real uid; volumes
 * (emptyDir shared in a pod, configMap/secret read-only), env (valueFrom, service links).
 * The state dir lives under /var/tmp so that other pods' volumes are visible (read-only) to
 * host-root containers — the harder case.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { hostname } from 'node:os';
import { CONFIGMAPS, PODS, SECRETS, SERVICES } from '../../../src/sim/types.js';
import { busyboxPod, execIn, phase, runToCompletion, startKubelet, waitFor, type KubeletHarness } from './helpers.js';

const test = suite<{ h: KubeletHarness }>('sandbox');

test.before(async (ctx) => {
  ctx.h = await startKubelet({}, {}, '/var/tmp');
  ctx.h.store.create(PODS, {
    metadata: { name: 'victim', namespace: 'default' },
    spec: {
      restartPolicy: 'Never',
      terminationGracePeriodSeconds: 0,
      volumes: [{ name: 'data', emptyDir: {} }],
      containers: [
        {
          name: 'c',
          image: 'busybox',
          command: ['sleep', '3600'],
          volumeMounts: [{ name: 'data', mountPath: '/data' }],
        },
      ],
    },
  });
  await waitFor(() => phase(ctx.h.store, 'victim') === 'Running', 15000, 'victim running');
});

test.after(async (ctx) => {
  await ctx.h.stop();
});

function victimEmptyDir(h: KubeletHarness): string {
  const uid = h.store.pod('victim')!.metadata.uid;
  return join(h.stateDir, 'pods', uid, 'volumes', 'kubernetes.io~empty-dir', 'data');
}

test('~> host-root image: /, /etc, /usr, the host /tmp and another pod emptyDir are not writable; /tmp is', async ({
  h,
}) => {
  const marker = `kubesim-sandbox-${randomUUID()}`;
  const other = victimEmptyDir(h);
  const script = [
    `for p in /x /etc/${marker} /usr/${marker} /var/${marker} ${other}/${marker}; do if echo x > $p 2>/dev/null; then echo "WROTE $p"; else echo "denied $p"; fi; done`,
    `echo ok > /tmp/${marker} && echo "tmp ok"`,
    `ls ${other} >/dev/null 2>&1 && echo "other visible" || echo "other hidden"`,
  ].join('; ');
  const r = await runToCompletion(h, {
    metadata: { name: 'hostroot' },
    spec: { containers: [{ name: 'c', image: 'debian:12', command: ['sh', '-c', script] }] },
  });
  assert.not.match(r.log, 'WROTE');
  assert.is(r.log.match(/denied/g)?.length, 5);
  assert.match(r.log, 'tmp ok');
  assert.not.ok(existsSync(`/tmp/${marker}`), 'the container /tmp is private');
  assert.not.ok(existsSync(join(other, marker)));
  assert.not.ok(existsSync(`/etc/${marker}`));
});

test('~> host-root image: what the host keeps from other users is masked (shadow, /root, /home, keys, the state dir)', async ({
  h,
}) => {
  const hostShadow = existsSync('/etc/shadow') ? readFileSync('/etc/shadow', 'utf8') : '';
  const script = [
    'echo "shadow[$(cat /etc/shadow 2>/dev/null | wc -c)]"',
    'echo "root[$(ls -A /root 2>/dev/null | wc -l)]"',
    'echo "home[$(ls -A /home 2>/dev/null | wc -l)]"',
    `echo "state[$(ls -A ${h.stateDir} 2>/dev/null | wc -l)]"`,
    'echo "passwd[$(grep -c ^root: /etc/passwd)]"',
  ].join('; ');
  const r = await runToCompletion(h, {
    metadata: { name: 'masked' },
    spec: { containers: [{ name: 'c', image: 'debian:12', command: ['sh', '-c', script] }] },
  });
  assert.match(r.log, 'shadow[0]');
  assert.match(r.log, 'root[0]');
  assert.match(r.log, 'home[0]');
  assert.match(r.log, 'state[0]', 'the kubelet state dir (other pods, keys) is not visible');
  assert.match(r.log, 'passwd[1]', 'the rest of /etc is still the host one');
  if (hostShadow.length) assert.not.match(r.log, hostShadow.split('\n')[0]!);
});

test('~> busybox: its own root copy is writable (an image layer), the host is not touched', async ({ h }) => {
  const marker = `kubesim-bb-${randomUUID()}`;
  const r = await runToCompletion(
    h,
    busyboxPod('bbwrite', [
      'sh',
      '-c',
      `echo x > /etc/${marker} && echo etc-ok; echo x > /${marker} && echo root-ok; echo x > /tmp/${marker} && echo tmp-ok; ls /bin | wc -l`,
    ]),
  );
  assert.match(r.log, 'etc-ok\nroot-ok\ntmp-ok\n');
  assert.ok(Number(r.log.trim().split('\n').at(-1)) > 200, 'busybox applets installed');
  assert.not.ok(existsSync(`/etc/${marker}`));
  assert.not.ok(existsSync(`/${marker}`));
  assert.not.ok(existsSync(`/tmp/${marker}`));
});

test('~> capabilities are dropped: no remount, no mknod, no mount', async ({ h }) => {
  const r = await runToCompletion(h, {
    metadata: { name: 'caps' },
    spec: {
      containers: [
        {
          name: 'c',
          image: 'debian',
          command: [
            'sh',
            '-c',
            'mount -o remount,rw / 2>/dev/null && echo REMOUNTED; mknod /tmp/sda b 8 0 2>/dev/null && echo MKNOD; mount -t tmpfs t /tmp 2>/dev/null && echo MOUNTED; echo end',
          ],
        },
      ],
    },
  });
  assert.is(r.log, 'end\n');
});

test('~> emptyDir is shared by the containers of a pod; writes from another pod fail', async ({ h }) => {
  h.store.create(PODS, {
    metadata: { name: 'shared', namespace: 'default' },
    spec: {
      restartPolicy: 'Never',
      terminationGracePeriodSeconds: 0,
      volumes: [
        { name: 'v', emptyDir: {} },
        { name: 'm', emptyDir: { medium: 'Memory', sizeLimit: '1Mi' } },
      ],
      containers: [
        {
          name: 'a',
          image: 'busybox',
          command: ['sh', '-c', 'echo from-a > /v/f; echo mem > /m/f; sleep 3600'],
          volumeMounts: [
            { name: 'v', mountPath: '/v' },
            { name: 'm', mountPath: '/m' },
          ],
        },
        {
          name: 'b',
          image: 'busybox',
          command: ['sleep', '3600'],
          volumeMounts: [
            { name: 'v', mountPath: '/shared' },
            { name: 'm', mountPath: '/m' },
          ],
        },
      ],
    },
  });
  await waitFor(() => phase(h.store, 'shared') === 'Running', 15000, 'Running');
  await waitFor(async () => true, 100);
  let r = { stdout: '' } as { stdout: string };
  await waitFor(
    () =>
      existsSync(
        join(h.stateDir, 'pods', h.store.pod('shared')!.metadata.uid, 'volumes', 'kubernetes.io~empty-dir', 'v', 'f'),
      ),
    5000,
    'file',
  );
  r = await execIn(h, 'shared', ['sh', '-c', 'cat /shared/f /m/f; df -k /m | tail -1'], 'b');
  assert.match(r.stdout, /^from-a\nmem\ntmpfs\s+1024 /);
  const other = victimEmptyDir(h);
  const w = await execIn(h, 'shared', ['sh', '-c', `echo x > ${other}/intruder`], 'b');
  assert.is.not(w.code, 0);
  assert.not.ok(existsSync(join(other, 'intruder')));
  h.store.delete(PODS, 'default', 'shared', 0);
});

test('~> runAsUser/runAsGroup: a real uid; root-owned dirs are read-only to it; files it creates are its own', async ({
  h,
}) => {
  const r = await runToCompletion(h, {
    metadata: { name: 'user' },
    spec: {
      securityContext: { runAsUser: 1000, runAsGroup: 3000 },
      volumes: [{ name: 'v', emptyDir: {} }],
      containers: [
        {
          name: 'c',
          image: 'busybox',
          command: [
            'sh',
            '-c',
            'id -u; id -g; echo x 2>/dev/null > /etc/f || echo etc-denied; echo x > /v/owned && echo v-ok',
          ],
          volumeMounts: [{ name: 'v', mountPath: '/v' }],
        },
      ],
    },
  });
  assert.is(r.log, '1000\n3000\netc-denied\nv-ok\n');
});

test('~> runAsNonRoot with a root image is CreateContainerConfigError', async ({ h }) => {
  h.store.create(
    PODS,
    busyboxPod('nonroot', ['true'], { restartPolicy: 'Never', securityContext: { runAsNonRoot: true } }),
  );
  await waitFor(
    () =>
      h.store.pod('nonroot')?.status?.containerStatuses?.[0]?.state?.waiting?.reason === 'CreateContainerConfigError',
    15000,
    'config error',
  );
  assert.match(
    h.store.pod('nonroot')!.status.containerStatuses[0].state.waiting.message,
    'container has runAsNonRoot and image will run as root',
  );
  h.store.delete(PODS, 'default', 'nonroot', 0);
});

test('~> configMap and secret volumes: files, items, read-only; env from fieldRef/configMapKeyRef/secretKeyRef/envFrom', async ({
  h,
}) => {
  h.store.create(CONFIGMAPS, {
    metadata: { name: 'cfg', namespace: 'default' },
    data: { 'app.conf': 'port=80\n', other: 'o' },
  });
  h.store.create(SECRETS, {
    metadata: { name: 'sec', namespace: 'default' },
    data: { password: Buffer.from('s3cret').toString('base64') },
  });
  const r = await runToCompletion(h, {
    metadata: { name: 'vols', labels: { app: 'v' } },
    spec: {
      volumes: [
        { name: 'cfg', configMap: { name: 'cfg', items: [{ key: 'app.conf', path: 'conf/app.conf' }] } },
        { name: 'sec', secret: { secretName: 'sec', defaultMode: 0o400 } },
      ],
      containers: [
        {
          name: 'c',
          image: 'busybox',
          command: [
            'sh',
            '-c',
            'cat /cfg/conf/app.conf; cat /sec/password; echo; echo x 2>/dev/null > /cfg/new || echo ro; echo "$POD $NS $PASS $CONF $FROM_other $EXPANDED $HOSTNAME"',
          ],
          env: [
            { name: 'POD', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
            { name: 'NS', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
            { name: 'PASS', valueFrom: { secretKeyRef: { name: 'sec', key: 'password' } } },
            { name: 'CONF', valueFrom: { configMapKeyRef: { name: 'cfg', key: 'other' } } },
            { name: 'EXPANDED', value: '$(POD)-x-$$(NOPE)' },
          ],
          envFrom: [{ configMapRef: { name: 'cfg' }, prefix: 'FROM_' }],
          volumeMounts: [
            { name: 'cfg', mountPath: '/cfg' },
            { name: 'sec', mountPath: '/sec' },
          ],
        },
      ],
    },
  });
  assert.is(r.log, 'port=80\ns3cret\nro\nvols default s3cret o o vols-x-$(NOPE) vols\n');
});

test('~> a missing secretKeyRef is CreateContainerConfigError with the kubelet message', async ({ h }) => {
  h.store.create(PODS, {
    metadata: { name: 'badenv', namespace: 'default' },
    spec: {
      restartPolicy: 'Never',
      containers: [
        {
          name: 'c',
          image: 'busybox',
          command: ['true'],
          env: [{ name: 'X', valueFrom: { secretKeyRef: { name: 'nope', key: 'k' } } }],
        },
      ],
    },
  });
  await waitFor(
    () =>
      h.store.pod('badenv')?.status?.containerStatuses?.[0]?.state?.waiting?.reason === 'CreateContainerConfigError',
    15000,
    'config error',
  );
  assert.is(h.store.pod('badenv')!.status.containerStatuses[0].state.waiting.message, 'secret "nope" not found');
  h.store.delete(PODS, 'default', 'badenv', 0);
});

test('~> pod network: busybox httpd reachable at podIP:port from the host; localhost shared in the pod', async ({
  h,
}) => {
  h.store.create(PODS, {
    metadata: { name: 'web', namespace: 'default', labels: { app: 'web' } },
    spec: {
      restartPolicy: 'Never',
      terminationGracePeriodSeconds: 0,
      containers: [
        {
          name: 'httpd',
          image: 'busybox',
          command: [
            'sh',
            '-c',
            'mkdir -p /www && echo hello-from-pod > /www/index.html && exec httpd -f -p 8080 -h /www',
          ],
        },
        { name: 'side', image: 'busybox', command: ['sleep', '3600'] },
      ],
    },
  });
  await waitFor(() => phase(h.store, 'web') === 'Running', 15000, 'Running');
  const ip = h.store.pod('web')!.status.podIP;
  assert.match(ip, /^10\.244\./);
  let body = '';
  await waitFor(
    () => {
      fetch(`http://${ip}:8080/index.html`)
        .then(async (r) => (body = await r.text()))
        .catch(() => {});
      return body;
    },
    10000,
    'httpd',
  );
  assert.is(body, 'hello-from-pod\n');
  const local = await execIn(h, 'web', ['wget', '-q', '-O-', 'http://127.0.0.1:8080/index.html'], 'side');
  assert.is(local.stdout, 'hello-from-pod\n');
});

test('~> /etc/hosts: pod hostname, hostAliases, and Services of the namespace, updated in place', async ({ h }) => {
  h.store.create(
    PODS,
    busyboxPod('client', ['sleep', '3600'], {
      restartPolicy: 'Never',
      terminationGracePeriodSeconds: 0,
      hostAliases: [{ ip: '127.0.0.1', hostnames: ['docker', 'alias.local'] }],
    }),
  );
  await waitFor(() => phase(h.store, 'client') === 'Running' && phase(h.store, 'web') === 'Running', 15000, 'Running');
  let hosts = (await execIn(h, 'client', ['cat', '/etc/hosts'])).stdout;
  const ip = h.store.pod('client')!.status.podIP;
  assert.match(hosts, /^# Kubernetes-managed hosts file\.\n127\.0\.0\.1\tlocalhost\n/);
  assert.match(hosts, `${ip}\tclient\n`);
  assert.match(hosts, '\n# Entries added by HostAliases.\n127.0.0.1\tdocker\talias.local\n');
  h.store.create(SERVICES, {
    metadata: { name: 'websvc', namespace: 'default' },
    spec: { selector: { app: 'web' }, clusterIP: '10.96.7.7', ports: [{ port: 8080, targetPort: 8080 }] },
  });
  const webIP = h.store.pod('web')!.status.podIP;
  await waitFor(async () => true, 10);
  for (let i = 0; i < 100 && !hosts.includes('websvc'); i++) {
    await new Promise((r) => setTimeout(r, 50));
    hosts = (await execIn(h, 'client', ['cat', '/etc/hosts'])).stdout;
  }
  assert.match(hosts, `${webIP}\twebsvc\twebsvc.default\twebsvc.default.svc\twebsvc.default.svc.cluster.local\n`);
  const r = await execIn(h, 'client', ['wget', '-q', '-O-', 'http://websvc:8080/index.html']);
  assert.is(r.stdout, 'hello-from-pod\n');
  const fq = await execIn(h, 'client', [
    'wget',
    '-q',
    '-O-',
    'http://websvc.default.svc.cluster.local:8080/index.html',
  ]);
  assert.is(fq.stdout, 'hello-from-pod\n');
  const resolv = (await execIn(h, 'client', ['cat', '/etc/resolv.conf'])).stdout;
  assert.match(resolv, 'search default.svc.cluster.local svc.cluster.local cluster.local\n');
  h.store.remove(SERVICES, 'default', 'websvc');
  for (let i = 0; i < 100 && hosts.includes('websvc'); i++) {
    await new Promise((r) => setTimeout(r, 50));
    hosts = (await execIn(h, 'client', ['cat', '/etc/hosts'])).stdout;
  }
  assert.not.match(hosts, 'websvc');
});

test('~> emptyDir files written by a runAsUser container are owned by that uid on the node', async ({ h }) => {
  h.store.create(PODS, {
    metadata: { name: 'owner', namespace: 'default' },
    spec: {
      restartPolicy: 'Never',
      securityContext: { runAsUser: 4242 },
      volumes: [{ name: 'v', emptyDir: {} }],
      containers: [
        {
          name: 'c',
          image: 'busybox',
          command: ['sh', '-c', 'echo x > /v/f; sleep 3600'],
          volumeMounts: [{ name: 'v', mountPath: '/v' }],
        },
      ],
      terminationGracePeriodSeconds: 0,
    },
  });
  await waitFor(() => phase(h.store, 'owner') === 'Running', 15000, 'Running');
  const f = join(
    h.stateDir,
    'pods',
    h.store.pod('owner')!.metadata.uid,
    'volumes',
    'kubernetes.io~empty-dir',
    'v',
    'f',
  );
  await waitFor(() => existsSync(f), 5000, 'file');
  assert.is(statSync(f).uid, 4242);
  assert.is(readFileSync(f, 'utf8'), 'x\n');
  h.store.delete(PODS, 'default', 'owner', 0);
});

test('~> a program that does not exist: StartError 128 with the runtime message', async ({ h }) => {
  const r = await runToCompletion(h, busyboxPod('nocmd', ['no-such-program']));
  assert.is(r.phase, 'Failed');
  const t = r.pod.status.containerStatuses[0].state.terminated;
  assert.is(t.reason, 'StartError');
  assert.is(t.exitCode, 128);
  assert.match(t.message, 'exec: "no-such-program": executable file not found in $PATH');
});

test('~> readOnlyRootFilesystem: the root is read-only, volumes are not', async ({ h }) => {
  const r = await runToCompletion(h, {
    metadata: { name: 'rofs' },
    spec: {
      volumes: [{ name: 'v', emptyDir: {} }],
      containers: [
        {
          name: 'c',
          image: 'busybox',
          securityContext: { readOnlyRootFilesystem: true },
          command: [
            'sh',
            '-c',
            'touch /x 2>/dev/null || echo root-ro; touch /tmp/x 2>/dev/null || echo tmp-ro; touch /v/x && echo vol-ok',
          ],
          volumeMounts: [{ name: 'v', mountPath: '/v' }],
        },
      ],
    },
  });
  assert.is(r.log, 'root-ro\ntmp-ro\nvol-ok\n');
});

test('~> host-root image: a volume at a path the host lacks below a host directory (an image VOLUME such as /var/lib/postgresql/data) is mounted; the masks hold', async ({
  h,
}) => {
  const dir = `/var/lib/kubesim-vol-${randomUUID()}`;
  const script = [
    `echo data > ${dir}/data/f && cat ${dir}/data/f`,
    `{ echo x > /var/lib/kubesim-new; } 2>/dev/null && echo WROTE-VAR-LIB || echo var-lib-ro`,
    `{ echo x > ${dir}/g; } 2>/dev/null && echo WROTE-PARENT || echo parent-ro`,
    'ls /var/lib | grep -qx dpkg && echo siblings-visible || echo siblings-missing',
    'echo "shadow[$(cat /etc/shadow 2>/dev/null | wc -c)]"',
    `echo "state[$(ls -A ${h.stateDir} 2>/dev/null | wc -l)]"`,
  ].join('; ');
  const r = await runToCompletion(h, {
    metadata: { name: 'newpoint' },
    spec: {
      volumes: [{ name: 'v', emptyDir: {} }],
      containers: [
        {
          name: 'c',
          image: 'debian:12',
          command: ['sh', '-c', script],
          volumeMounts: [{ name: 'v', mountPath: `${dir}/data` }],
        },
      ],
    },
  });
  assert.match(r.log, 'data\nvar-lib-ro\nparent-ro\n');
  if (existsSync('/var/lib/dpkg')) assert.match(r.log, 'siblings-visible');
  assert.match(r.log, 'shadow[0]');
  assert.match(r.log, 'state[0]');
  assert.not.ok(existsSync(dir), 'nothing is made on the host');
  assert.not.ok(existsSync('/var/lib/kubesim-new'));
});

test('~> hostNetwork pods see the node hostname and podIP = hostIP', async ({ h }) => {
  const r = await runToCompletion(h, {
    metadata: { name: 'hostnetpod' },
    spec: { hostNetwork: true, containers: [{ name: 'c', image: 'busybox', command: ['hostname'] }] },
  });
  assert.is(r.log.trim(), hostname());
  assert.is(r.pod.status.podIP, r.pod.status.hostIP);
});

test.run();
