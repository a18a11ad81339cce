/**
 * pods/log on the kubelet: every PodLogOptions field (follow, timestamps, tailLines, sinceTime,
 * sinceSeconds, limitBytes, previous, stream with the PodLogsQuerySplitStreams gate on and off),
 * the apiserver's validation errors and the kubelet's "waiting to start" errors.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { PODS } from '../../../src/sim/types.js';
import { busyboxPod, phase, startKubelet, waitFor, type KubeletHarness } from './helpers.js';

const test = suite<{ h: KubeletHarness; off: KubeletHarness }>('logs');

const TS = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z /;

test.before(async (ctx) => {
  ctx.h = await startKubelet({}, { PodLogsQuerySplitStreams: true });
  ctx.off = await startKubelet();
  const script = 'echo o1; echo e1 >&2; sleep 0.3; echo o2; printf partial; echo e2 >&2; sleep 0.3; echo; echo o3';
  for (const h of [ctx.h, ctx.off]) {
    h.store.create(PODS, busyboxPod('mixed', ['sh', '-c', script], { restartPolicy: 'Never' }));
  }
  await waitFor(
    () => phase(ctx.h.store, 'mixed') === 'Succeeded' && phase(ctx.off.store, 'mixed') === 'Succeeded',
    15000,
    'mixed done',
  );
});

test.after(async (ctx) => {
  await Promise.all([ctx.h.stop(), ctx.off.stop()]);
});

async function get(h: KubeletHarness, pod: string, q = '') {
  const r = await fetch(`${h.base}/api/v1/namespaces/default/pods/${pod}/log${q}`);
  const text = await r.text();
  return {
    status: r.status,
    text,
    type: r.headers.get('content-type'),
    json: r.status >= 400 ? JSON.parse(text) : undefined,
  };
}

test('~> plain: both streams merged in write order, text/plain', async ({ h }) => {
  const r = await get(h, 'mixed');
  assert.is(r.status, 200);
  assert.is(r.type, 'text/plain');
  assert.is(r.text, 'o1\ne1\no2\npartiale2\n\no3\n');
});

test('~> timestamps: RFC 3339 with 9 fractional digits at each line start only', async ({ h }) => {
  const r = await get(h, 'mixed', '?timestamps=true');
  const TSG = /\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z /g;
  assert.is(r.text.replace(TSG, ''), 'o1\ne1\no2\npartiale2\n\no3\n');
  // A stamp at each line start of each stream: o1 e1 o2 partial e2 o3 (the newline ending
  // stdout's partial line continues that line: not stamped again).
  assert.is(r.text.match(TSG)!.length, 6);
  for (const l of r.text.split('\n').filter(Boolean)) assert.match(l, TS);
  const stamps = r.text.match(TSG)!.map((t) => t.trim());
  for (let i = 1; i < stamps.length; i++) assert.ok(stamps[i]! >= stamps[i - 1]!, 'time order');
});

test('~> tailLines counts from the end (a final newline does not start a line); 0 gives nothing', async ({ h }) => {
  assert.is((await get(h, 'mixed', '?tailLines=2')).text, '\no3\n');
  assert.is((await get(h, 'mixed', '?tailLines=1')).text, 'o3\n');
  assert.is((await get(h, 'mixed', '?tailLines=0')).text, '');
  assert.is((await get(h, 'mixed', '?tailLines=100')).text, 'o1\ne1\no2\npartiale2\n\no3\n');
});

test('~> limitBytes cuts mid-line', async ({ h }) => {
  assert.is((await get(h, 'mixed', '?limitBytes=5')).text, 'o1\ne1'.slice(0, 5));
});

test('~> sinceTime / sinceSeconds filter by record time; both at once is 422', async ({ h }) => {
  const all = (await get(h, 'mixed', '?timestamps=true')).text.split('\n').filter(Boolean);
  const third = all.find((l) => l.endsWith('o2'))!.split(' ')[0]!;
  const since = (await get(h, 'mixed', `?sinceTime=${encodeURIComponent(third)}`)).text;
  assert.ok(!since.includes('o1'), since);
  assert.ok(since.includes('o3'));
  assert.is((await get(h, 'mixed', '?sinceSeconds=3600')).text, 'o1\ne1\no2\npartiale2\n\no3\n');
  const both = await get(h, 'mixed', '?sinceSeconds=1&sinceTime=2020-01-01T00:00:00Z');
  assert.is(both.status, 422);
  assert.is(both.json.reason, 'Invalid');
  assert.is(
    both.json.message,
    'PodLogOptions "mixed" is invalid: : Forbidden: at most one of `sinceTime` or `sinceSeconds` may be specified',
  );
  const neg = await get(h, 'mixed', '?tailLines=-1');
  assert.is(neg.status, 422);
  assert.is(
    neg.json.message,
    'PodLogOptions "mixed" is invalid: tailLines: Invalid value: -1: must be greater than or equal to 0',
  );
});

test('~> stream=Stdout|Stderr with the gate on; tailLines with a specific stream is 422', async ({ h }) => {
  assert.is((await get(h, 'mixed', '?stream=Stdout')).text, 'o1\no2\npartial\no3\n');
  assert.is((await get(h, 'mixed', '?stream=Stderr')).text, 'e1\ne2\n');
  assert.is((await get(h, 'mixed', '?stream=All')).text, 'o1\ne1\no2\npartiale2\n\no3\n');
  const bad = await get(h, 'mixed', '?stream=Stdout&tailLines=1');
  assert.is(bad.status, 422);
  assert.match(bad.json.message, '`tailLines` and specific `stream` are mutually exclusive for now');
  const nostream = await get(h, 'mixed', '?stream=nostream');
  assert.is(nostream.status, 422);
  assert.match(nostream.json.message, 'stream: Unsupported value: "nostream"');
});

test('~> stream is refused with the gate off, as the real apiserver refuses it', async ({ off }) => {
  const r = await get(off, 'mixed', '?stream=Stdout');
  assert.is(r.status, 422);
  assert.is(r.json.message, 'PodLogOptions "mixed" is invalid: stream: Forbidden: may not be specified');
  assert.equal(r.json.details.causes, [
    { reason: 'FieldValueForbidden', message: 'Forbidden: may not be specified', field: 'stream' },
  ]);
  assert.is((await get(off, 'mixed')).text, 'o1\ne1\no2\npartiale2\n\no3\n');
});

test('~> follow streams live output and ends when the container instance ends', async ({ h }) => {
  h.store.create(
    PODS,
    busyboxPod('live', ['sh', '-c', 'for i in 1 2 3; do echo line$i; sleep 0.5; done'], { restartPolicy: 'Never' }),
  );
  await waitFor(() => phase(h.store, 'live') === 'Running', 15000, 'Running');
  const r = await fetch(`${h.base}/api/v1/namespaces/default/pods/live/log?follow=true`);
  const reader = r.body!.getReader();
  let text = '';
  let phaseAtFirst = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    if (!text) phaseAtFirst = phase(h.store, 'live') ?? '';
    text += Buffer.from(value).toString();
  }
  assert.is(text, 'line1\nline2\nline3\n');
  assert.is(phaseAtFirst, 'Running', 'output arrived while the container was still writing');
  await waitFor(() => phase(h.store, 'live') === 'Succeeded', 5000, 'the container ended as the response did');
});

test('~> previous: the last terminated instance; 400 when there is none', async ({ h }) => {
  h.store.create(PODS, {
    metadata: { name: 'restarts', namespace: 'default' },
    spec: {
      restartPolicy: 'OnFailure',
      volumes: [{ name: 'v', emptyDir: {} }],
      containers: [
        {
          name: 'c',
          image: 'busybox',
          command: ['sh', '-c', 'echo run >> /v/n; echo "attempt $(wc -l < /v/n)"; [ $(wc -l < /v/n) -ge 2 ]'],
          volumeMounts: [{ name: 'v', mountPath: '/v' }],
        },
      ],
    },
  });
  await waitFor(() => phase(h.store, 'restarts') === 'Succeeded', 15000, 'Succeeded');
  assert.is((await get(h, 'restarts')).text, 'attempt 2\n');
  assert.is((await get(h, 'restarts', '?previous=true')).text, 'attempt 1\n');
  const none = await get(h, 'mixed', '?previous=true');
  assert.is(none.status, 400);
  assert.is(none.json.message, 'previous terminated container "c" in pod "mixed" not found');
});

test('~> container selection: required with several containers (init containers listed first); unknown is 400', async ({
  h,
}) => {
  h.store.create(PODS, {
    metadata: { name: 'multi', namespace: 'default' },
    spec: {
      restartPolicy: 'Never',
      initContainers: [{ name: 'setup', image: 'busybox', command: ['true'] }],
      containers: [
        { name: 'a', image: 'busybox', command: ['echo', 'A'] },
        { name: 'b', image: 'busybox', command: ['echo', 'B'] },
      ],
    },
  });
  await waitFor(() => phase(h.store, 'multi') === 'Succeeded', 15000, 'Succeeded');
  const r = await get(h, 'multi');
  assert.is(r.status, 400);
  assert.is(r.json.message, 'a container name must be specified for pod multi, choose one of: [setup a b]');
  assert.is((await get(h, 'multi', '?container=b')).text, 'B\n');
  const bad = await get(h, 'multi', '?container=zz');
  assert.is(bad.json.message, 'container zz is not valid for pod multi');
});

test('~> a container waiting to start is a 400 with the kubelet message', async ({ h }) => {
  h.store.create(PODS, {
    metadata: { name: 'waiting', namespace: 'default' },
    spec: {
      restartPolicy: 'Never',
      volumes: [{ name: 'cm', configMap: { name: 'absent' } }],
      containers: [
        { name: 'c', image: 'busybox', command: ['true'], volumeMounts: [{ name: 'cm', mountPath: '/cm' }] },
      ],
    },
  });
  await waitFor(() => h.store.pod('waiting')?.status?.containerStatuses?.[0]?.state?.waiting, 15000, 'status');
  const r = await get(h, 'waiting');
  assert.is(r.status, 400);
  assert.is(r.json.message, 'container "c" in pod "waiting" is waiting to start: ContainerCreating');
  assert.ok(
    h.store.events.some(
      (e) =>
        e.name === 'waiting' &&
        e.reason === 'FailedMount' &&
        e.message === 'MountVolume.SetUp failed for volume "cm" : configmap "absent" not found',
    ),
  );
  h.store.delete(PODS, 'default', 'waiting', 0);
});

test.run();
