/**
 * Probes: exec readiness (Ready follows the probe), HTTP readiness against busybox httpd, TCP
 * liveness failure restarting the container (Killing event with the kubelet's message), startup
 * probe gating `started`, Unhealthy events.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { PODS } from '../../../src/sim/types.js';
import { execIn, phase, startKubelet, waitFor, type KubeletHarness } from './helpers.js';

const test = suite<{ h: KubeletHarness }>('probes');

test.before(async (ctx) => {
  ctx.h = await startKubelet();
});

test.after(async (ctx) => {
  await ctx.h.stop();
});

const ready = (h: KubeletHarness, name: string) =>
  h.store.pod(name)?.status?.conditions?.find((c: any) => c.type === 'Ready')?.status;

test('~> exec readiness: not Ready until the probe passes, then Ready; Unhealthy events meanwhile', async ({ h }) => {
  h.store.create(PODS, {
    metadata: { name: 'ready', namespace: 'default' },
    spec: {
      restartPolicy: 'Never',
      terminationGracePeriodSeconds: 0,
      containers: [
        {
          name: 'c',
          image: 'busybox',
          command: ['sleep', '3600'],
          readinessProbe: { exec: { command: ['test', '-f', '/tmp/ready'] }, periodSeconds: 1, failureThreshold: 1 },
        },
      ],
    },
  });
  await waitFor(() => phase(h.store, 'ready') === 'Running', 15000, 'Running');
  await waitFor(
    () =>
      h.store.events.some(
        (e) => e.name === 'ready' && e.reason === 'Unhealthy' && e.message.startsWith('Readiness probe failed'),
      ),
    5000,
    'Unhealthy',
  );
  assert.is(ready(h, 'ready'), 'False');
  assert.is(h.store.pod('ready')!.status.containerStatuses[0].ready, false);
  await execIn(h, 'ready', ['touch', '/tmp/ready']);
  await waitFor(() => ready(h, 'ready') === 'True', 5000, 'Ready');
  assert.is(h.store.pod('ready')!.status.containerStatuses[0].ready, true);
  await execIn(h, 'ready', ['rm', '/tmp/ready']);
  await waitFor(() => ready(h, 'ready') === 'False', 5000, 'unready again');
  h.store.delete(PODS, 'default', 'ready', 0);
});

test('~> HTTP readiness against busybox httpd; named port', async ({ h }) => {
  h.store.create(PODS, {
    metadata: { name: 'httpready', namespace: 'default' },
    spec: {
      restartPolicy: 'Never',
      terminationGracePeriodSeconds: 0,
      containers: [
        {
          name: 'c',
          image: 'busybox',
          command: ['sh', '-c', 'mkdir /www; echo ok > /www/healthz; sleep 1; exec httpd -f -p 8080 -h /www'],
          ports: [{ name: 'http', containerPort: 8080 }],
          readinessProbe: { httpGet: { path: '/healthz', port: 'http' }, periodSeconds: 1 },
        },
      ],
    },
  });
  await waitFor(() => ready(h, 'httpready') === 'True', 15000, 'Ready');
  h.store.delete(PODS, 'default', 'httpready', 0);
});

test('~> TCP liveness failure restarts the container with the kubelet Killing message', async ({ h }) => {
  h.store.create(PODS, {
    metadata: { name: 'live', namespace: 'default' },
    spec: {
      restartPolicy: 'Always',
      terminationGracePeriodSeconds: 0,
      containers: [
        {
          name: 'c',
          image: 'busybox',
          command: ['sleep', '3600'],
          livenessProbe: {
            tcpSocket: { port: 9 },
            periodSeconds: 1,
            failureThreshold: 2,
            terminationGracePeriodSeconds: 1,
          },
        },
      ],
    },
  });
  await waitFor(() => h.store.pod('live')?.status?.containerStatuses?.[0]?.restartCount >= 1, 20000, 'restart');
  const ev = h.store.events.filter((e) => e.name === 'live');
  assert.ok(
    ev.some((e) => e.reason === 'Killing' && e.message === 'Container c failed liveness probe, will be restarted'),
  );
  assert.ok(
    ev.some(
      (e) =>
        e.reason === 'Unhealthy' &&
        /^Liveness probe failed: dial tcp [\d.]+:9: connect: connection refused$/.test(e.message),
    ),
  );
  h.store.delete(PODS, 'default', 'live', 0);
});

test('~> startup probe gates started and readiness', async ({ h }) => {
  h.store.create(PODS, {
    metadata: { name: 'startup', namespace: 'default' },
    spec: {
      restartPolicy: 'Never',
      terminationGracePeriodSeconds: 0,
      containers: [
        {
          name: 'c',
          image: 'busybox',
          command: ['sh', '-c', 'sleep 1.5; touch /tmp/up; sleep 3600'],
          startupProbe: { exec: { command: ['test', '-f', '/tmp/up'] }, periodSeconds: 1, failureThreshold: 10 },
        },
      ],
    },
  });
  await waitFor(() => phase(h.store, 'startup') === 'Running', 15000, 'Running');
  assert.is(h.store.pod('startup')!.status.containerStatuses[0].started, false);
  await waitFor(() => h.store.pod('startup')?.status?.containerStatuses?.[0]?.started === true, 10000, 'started');
  await waitFor(() => ready(h, 'startup') === 'True', 5000, 'Ready');
  h.store.delete(PODS, 'default', 'startup', 0);
});

test.run();
