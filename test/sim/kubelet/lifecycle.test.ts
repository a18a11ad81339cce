/**
 * Pod lifecycle on the kubelet: scheduling, status shapes (phases, conditions, container states),
 * init containers in order, restartPolicy with CrashLoopBackOff, graceful deletion, force deletion,
 * activeDeadlineSeconds lowered on a running pod, image pull failures, events.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { PODS } from '../../../src/sim/types.js';
import { busyboxPod, phase, startKubelet, waitFor, type KubeletHarness } from './helpers.js';

const test = suite<{ h: KubeletHarness }>('lifecycle');

test.before(async (ctx) => {
  ctx.h = await startKubelet();
});

test.after(async (ctx) => {
  await ctx.h.stop();
});

const logs = async (h: KubeletHarness, pod: string, q = '') => {
  const r = await fetch(`${h.base}/api/v1/namespaces/default/pods/${pod}/log${q}`);
  return { status: r.status, text: await r.text() };
};

test('~> a completed pod: scheduled, Succeeded, terminated Completed with ids, conditions as the kubelet writes them', async ({
  h,
}) => {
  const created = h.store.create(PODS, busyboxPod('done', ['sh', '-c', 'echo hi'], { restartPolicy: 'Never' }));
  await waitFor(() => phase(h.store, 'done') === 'Succeeded', 15000, 'Succeeded');
  const pod = h.store.pod('done')!;
  assert.is(pod.spec.nodeName, 'kube-sim-node');
  const st = pod.status;
  assert.match(st.podIP, /^10\.244\.\d+\.\d+$|^127\.0\.0\.1$/);
  assert.equal(st.podIPs, [{ ip: st.podIP }]);
  assert.ok(st.hostIP);
  assert.ok(st.startTime);
  assert.is(st.qosClass, 'BestEffort');
  const types = st.conditions.map((c: any) => `${c.type}=${c.status}`);
  assert.equal(types, [
    'PodReadyToStartContainers=False',
    'Initialized=True',
    'Ready=False',
    'ContainersReady=False',
    'PodScheduled=True',
  ]);
  assert.is(st.conditions.find((c: any) => c.type === 'Ready').reason, 'PodCompleted');
  const cs = st.containerStatuses[0];
  assert.is(cs.name, 'c');
  assert.is(cs.state.terminated.exitCode, 0);
  assert.is(cs.state.terminated.reason, 'Completed');
  assert.match(cs.state.terminated.containerID, /^kubesim:\/\/[0-9a-f]{64}$/);
  assert.is(cs.containerID, cs.state.terminated.containerID);
  assert.ok(cs.state.terminated.startedAt && cs.state.terminated.finishedAt);
  assert.is(cs.image, 'docker.io/library/busybox:latest');
  assert.match(cs.imageID, /^docker\.io\/library\/busybox@sha256:[0-9a-f]{64}$/);
  assert.is(cs.ready, false);
  assert.is(cs.started, false);
  assert.is(cs.restartCount, 0);
  assert.equal(cs.lastState, {});
  const reasons = h.store.events.filter((e) => e.name === 'done').map((e) => e.reason);
  assert.equal(reasons, ['Scheduled', 'Pulling', 'Pulled', 'Created', 'Started']);
  assert.is(created.metadata.uid, pod.metadata.uid);
  assert.is((await logs(h, 'done')).text, 'hi\n');
});

test('~> running pod: Running, Ready, running.startedAt, started=true', async ({ h }) => {
  h.store.create(
    PODS,
    busyboxPod('run', ['sleep', '3600'], { restartPolicy: 'Never', terminationGracePeriodSeconds: 0 }),
  );
  await waitFor(
    () => h.store.pod('run')?.status?.conditions?.find((c: any) => c.type === 'Ready')?.status === 'True',
    15000,
    'Ready',
  );
  const st = h.store.pod('run')!.status;
  assert.is(st.phase, 'Running');
  assert.ok(st.containerStatuses[0].state.running.startedAt);
  assert.is(st.containerStatuses[0].ready, true);
  assert.is(st.containerStatuses[0].started, true);
  assert.equal(
    st.conditions.map((c: any) => `${c.type}=${c.status}`),
    ['PodReadyToStartContainers=True', 'Initialized=True', 'Ready=True', 'ContainersReady=True', 'PodScheduled=True'],
  );
  h.store.delete(PODS, 'default', 'run', 0);
});

test('~> init containers run in order before the containers; PodInitializing meanwhile', async ({ h }) => {
  h.store.create(PODS, {
    metadata: { name: 'init', namespace: 'default' },
    spec: {
      restartPolicy: 'Never',
      volumes: [{ name: 'w', emptyDir: {} }],
      initContainers: [
        {
          name: 'i1',
          image: 'busybox',
          command: ['sh', '-c', 'sleep 0.3; echo one >> /w/order'],
          volumeMounts: [{ name: 'w', mountPath: '/w' }],
        },
        {
          name: 'i2',
          image: 'busybox',
          command: ['sh', '-c', 'echo two >> /w/order'],
          volumeMounts: [{ name: 'w', mountPath: '/w' }],
        },
      ],
      containers: [
        {
          name: 'main',
          image: 'busybox',
          command: ['sh', '-c', 'echo main >> /w/order; cat /w/order'],
          volumeMounts: [{ name: 'w', mountPath: '/w' }],
        },
      ],
    },
  });
  const seen = new Set<string>();
  await waitFor(
    () => {
      const p = h.store.pod('init');
      const w = p?.status?.containerStatuses?.[0]?.state?.waiting?.reason;
      if (w) seen.add(w);
      const init = p?.status?.conditions?.find((c: any) => c.type === 'Initialized');
      if (init?.status === 'False') seen.add(`Initialized:${init.reason}`);
      return p?.status?.phase === 'Succeeded';
    },
    15000,
    'Succeeded',
  );
  assert.ok(seen.has('PodInitializing'), `saw ${[...seen]}`);
  assert.ok(seen.has('Initialized:ContainersNotInitialized'));
  const st = h.store.pod('init')!.status;
  assert.equal(
    st.initContainerStatuses.map((c: any) => `${c.name}:${c.state.terminated.reason}`),
    ['i1:Completed', 'i2:Completed'],
  );
  assert.is((await logs(h, 'init', '?container=main')).text, 'one\ntwo\nmain\n');
});

test('~> init failure with restartPolicy Never fails the pod; containers never start', async ({ h }) => {
  h.store.create(PODS, {
    metadata: { name: 'initfail', namespace: 'default' },
    spec: {
      restartPolicy: 'Never',
      initContainers: [{ name: 'i', image: 'busybox', command: ['sh', '-c', 'exit 2'] }],
      containers: [{ name: 'c', image: 'busybox', command: ['true'] }],
    },
  });
  await waitFor(() => phase(h.store, 'initfail') === 'Failed', 15000, 'Failed');
  const st = h.store.pod('initfail')!.status;
  assert.is(st.initContainerStatuses[0].state.terminated.exitCode, 2);
  assert.is(st.containerStatuses[0].state.waiting.reason, 'PodInitializing');
});

test('~> restartPolicy Never: a failing container fails the pod with reason Error', async ({ h }) => {
  h.store.create(PODS, busyboxPod('never', ['sh', '-c', 'exit 7'], { restartPolicy: 'Never' }));
  await waitFor(() => phase(h.store, 'never') === 'Failed', 15000, 'Failed');
  const t = h.store.pod('never')!.status.containerStatuses[0].state.terminated;
  assert.is(t.exitCode, 7);
  assert.is(t.reason, 'Error');
});

test('~> restartPolicy OnFailure restarts until success; lastState and restartCount', async ({ h }) => {
  h.store.create(PODS, {
    metadata: { name: 'onfail', namespace: 'default' },
    spec: {
      restartPolicy: 'OnFailure',
      volumes: [{ name: 'v', emptyDir: {} }],
      containers: [
        {
          name: 'c',
          image: 'busybox',
          command: ['sh', '-c', 'echo run >> /v/n; [ $(wc -l < /v/n) -ge 3 ]'],
          volumeMounts: [{ name: 'v', mountPath: '/v' }],
        },
      ],
    },
  });
  await waitFor(() => phase(h.store, 'onfail') === 'Succeeded', 20000, 'Succeeded');
  const cs = h.store.pod('onfail')!.status.containerStatuses[0];
  assert.is(cs.restartCount, 2);
  assert.is(cs.state.terminated.reason, 'Completed');
  assert.is(cs.lastState.terminated.exitCode, 1);
});

test('~> restartPolicy Always: CrashLoopBackOff with the kubelet message; phase Running', async ({ h }) => {
  h.store.create(PODS, busyboxPod('crash', ['sh', '-c', 'exit 1'], { terminationGracePeriodSeconds: 0 }));
  await waitFor(
    () => h.store.pod('crash')?.status?.containerStatuses?.[0]?.state?.waiting?.reason === 'CrashLoopBackOff',
    15000,
    'CrashLoopBackOff',
  );
  const p = h.store.pod('crash')!;
  assert.is(p.status.phase, 'Running');
  const cs = p.status.containerStatuses[0];
  assert.match(cs.state.waiting.message, /^back-off \d+s restarting failed container=c pod=crash_default\(/);
  assert.is(cs.lastState.terminated.exitCode, 1);
  assert.ok(cs.restartCount >= 1);
  h.store.delete(PODS, 'default', 'crash', 0);
});

test('~> graceful deletion: SIGTERM, terminal status, then removed; a SIGTERM handler exits 143 early', async ({
  h,
}) => {
  h.store.create(
    PODS,
    busyboxPod('grace', ['sh', '-c', 'trap "echo bye; exit 143" TERM; while true; do sleep 0.1; done'], {
      restartPolicy: 'Never',
      terminationGracePeriodSeconds: 20,
    }),
  );
  await waitFor(() => phase(h.store, 'grace') === 'Running', 15000, 'Running');
  await new Promise((r) => setTimeout(r, 200));
  const t0 = Date.now();
  const seen: string[] = [];
  const unsub = h.store.subscribe(PODS, (ev) => {
    if (ev.object.metadata.name === 'grace') seen.push(`${ev.type}:${(ev.object as any).status?.phase}`);
  });
  h.store.delete(PODS, 'default', 'grace');
  await waitFor(() => !h.store.pod('grace'), 15000, 'removed');
  unsub();
  assert.ok(Date.now() - t0 < 10000, 'the trap ended it long before the grace period');
  assert.ok(seen.includes('MODIFIED:Failed'), seen.join(','));
  assert.is(seen.at(-1), 'DELETED:Failed');
  assert.ok(
    h.store.events.some((e) => e.name === 'grace' && e.reason === 'Killing' && e.message === 'Stopping container c'),
  );
});

test('~> graceful deletion of a PID 1 without a TERM handler: SIGKILL after the grace period', async ({ h }) => {
  h.store.create(PODS, busyboxPod('stubborn', ['sleep', '3600'], { restartPolicy: 'Never' }));
  await waitFor(() => phase(h.store, 'stubborn') === 'Running', 15000, 'Running');
  const t0 = Date.now();
  h.store.delete(PODS, 'default', 'stubborn', 1);
  await waitFor(() => !h.store.pod('stubborn'), 15000, 'removed');
  const dt = Date.now() - t0;
  assert.ok(dt >= 900 && dt < 5000, `took ${dt} ms`);
});

test('~> a second deletion with a shorter grace period shortens the wait', async ({ h }) => {
  h.store.create(PODS, busyboxPod('shorter', ['sleep', '3600'], { restartPolicy: 'Never' }));
  await waitFor(() => phase(h.store, 'shorter') === 'Running', 15000, 'Running');
  const t0 = Date.now();
  h.store.delete(PODS, 'default', 'shorter', 60);
  await new Promise((r) => setTimeout(r, 300));
  assert.ok(h.store.pod('shorter'), 'still terminating');
  h.store.delete(PODS, 'default', 'shorter', 1);
  await waitFor(() => !h.store.pod('shorter'), 10000, 'removed');
  assert.ok(Date.now() - t0 < 6000, `took ${Date.now() - t0} ms`);
});

test('~> force deletion kills at once', async ({ h }) => {
  h.store.create(PODS, busyboxPod('force', ['sleep', '3600'], { restartPolicy: 'Never' }));
  await waitFor(() => phase(h.store, 'force') === 'Running', 15000, 'Running');
  const t0 = Date.now();
  h.store.remove(PODS, 'default', 'force');
  await new Promise((r) => setTimeout(r, 300));
  assert.ok(Date.now() - t0 < 2000);
});

test('~> activeDeadlineSeconds lowered on a running pod: Failed/DeadlineExceeded, statuses and logs kept', async ({
  h,
}) => {
  h.store.create(
    PODS,
    busyboxPod('deadline', ['sh', '-c', 'echo started; exec sleep 3600'], {
      restartPolicy: 'Never',
      activeDeadlineSeconds: 3600,
      terminationGracePeriodSeconds: 1,
    }),
  );
  await waitFor(() => phase(h.store, 'deadline') === 'Running', 15000, 'Running');
  h.store.mutate(PODS, 'default', 'deadline', (o: any) => (o.spec.activeDeadlineSeconds = 1));
  await waitFor(
    () =>
      h.store.pod('deadline')?.status?.reason === 'DeadlineExceeded' &&
      h.store.pod('deadline')?.status?.containerStatuses?.[0]?.state?.terminated,
    15000,
    'DeadlineExceeded',
  );
  const st = h.store.pod('deadline')!.status;
  assert.is(st.phase, 'Failed');
  assert.is(st.message, 'Pod was active on the node longer than the specified deadline');
  assert.ok(st.containerStatuses[0].state.terminated.exitCode > 128);
  assert.is((await logs(h, 'deadline')).text, 'started\n');
  assert.ok(h.store.events.some((e) => e.name === 'deadline' && e.reason === 'DeadlineExceeded'));
});

test('~> image pull failure (fault): ErrImagePull then ImagePullBackOff; logs say so', async ({ h }) => {
  h.faults.set({ failImagePull: ['busybox:broken'] });
  h.store.create(PODS, {
    metadata: { name: 'pull', namespace: 'default' },
    spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox:broken', command: ['true'] }] },
  });
  await waitFor(
    () => h.store.pod('pull')?.status?.containerStatuses?.[0]?.state?.waiting?.reason === 'ErrImagePull',
    15000,
    'ErrImagePull',
  );
  let r = await logs(h, 'pull');
  assert.is(r.status, 400);
  assert.is(JSON.parse(r.text).message, `container "c" in pod "pull" is waiting to start: image can't be pulled`);
  await waitFor(
    () => h.store.pod('pull')?.status?.containerStatuses?.[0]?.state?.waiting?.reason === 'ImagePullBackOff',
    15000,
    'ImagePullBackOff',
  );
  assert.match(
    h.store.pod('pull')!.status.containerStatuses[0].state.waiting.message,
    /^Back-off pulling image "busybox:broken": ErrImagePull: /,
  );
  r = await logs(h, 'pull');
  assert.is(
    JSON.parse(r.text).message,
    `container "c" in pod "pull" is waiting to start: trying and failing to pull image`,
  );
  h.faults.clear();
  await waitFor(() => phase(h.store, 'pull') === 'Succeeded', 15000, 'pull recovers');
  h.store.delete(PODS, 'default', 'pull', 0);
});

test('~> a sandbox that cannot be made (fault): FailedCreatePodSandBox, Pending in ContainerCreating, then retried', async ({
  h,
}) => {
  h.faults.set({ failSandboxes: 2 });
  h.store.create(PODS, busyboxPod('nosandbox', ['sh', '-c', 'echo up'], { restartPolicy: 'Never' }));
  await waitFor(
    () => h.store.events.some((e) => e.name === 'nosandbox' && e.reason === 'FailedCreatePodSandBox'),
    15000,
    'FailedCreatePodSandBox',
  );
  const ev = h.store.events.find((e) => e.name === 'nosandbox' && e.reason === 'FailedCreatePodSandBox')!;
  assert.is(ev.type, 'Warning');
  assert.match(ev.message, /^Failed to create pod sandbox: injected fault: failSandboxes/);
  const st = h.store.pod('nosandbox')!.status;
  assert.is(st.phase, 'Pending');
  assert.is(st.containerStatuses[0].state.waiting.reason, 'ContainerCreating');
  // Backoff 1 s, then 2 s: the third attempt makes it.
  await waitFor(() => phase(h.store, 'nosandbox') === 'Succeeded', 20000, 'Succeeded after the retries');
  assert.is((await logs(h, 'nosandbox')).text, 'up\n');
  assert.is(
    h.store.events.filter((e) => e.name === 'nosandbox' && e.reason === 'FailedCreatePodSandBox').length >= 1,
    true,
  );
  h.store.delete(PODS, 'default', 'nosandbox', 0);
});

test('~> killContainer (fault): the container dies with 137 and restarts per policy', async ({ h }) => {
  h.store.create(PODS, busyboxPod('victim', ['sleep', '3600'], { terminationGracePeriodSeconds: 0 }));
  await waitFor(() => phase(h.store, 'victim') === 'Running', 15000, 'Running');
  assert.ok(h.kubelet.killContainer('default', 'victim', 'c'));
  await waitFor(
    () =>
      h.store.pod('victim')?.status?.containerStatuses?.[0]?.restartCount === 1 &&
      h.store.pod('victim')?.status?.containerStatuses?.[0]?.state?.running,
    15000,
    'restarted',
  );
  assert.is(h.store.pod('victim')!.status.containerStatuses[0].lastState.terminated.exitCode, 137);
  assert.not.ok(h.kubelet.killContainer('default', 'victim', 'nope'));
  h.store.delete(PODS, 'default', 'victim', 0);
});

test('~> termination message: the file at terminationMessagePath, or the log tail with FallbackToLogsOnError', async ({
  h,
}) => {
  h.store.create(
    PODS,
    busyboxPod('tmsg', ['sh', '-c', 'echo "custom reason" > /dev/termination-log; exit 1'], { restartPolicy: 'Never' }),
  );
  h.store.create(PODS, {
    metadata: { name: 'tlog', namespace: 'default' },
    spec: {
      restartPolicy: 'Never',
      containers: [
        {
          name: 'c',
          image: 'busybox',
          command: ['sh', '-c', 'echo one; echo last words; exit 2'],
          terminationMessagePolicy: 'FallbackToLogsOnError',
        },
      ],
    },
  });
  await waitFor(() => phase(h.store, 'tmsg') === 'Failed' && phase(h.store, 'tlog') === 'Failed', 15000, 'Failed');
  assert.is(h.store.pod('tmsg')!.status.containerStatuses[0].state.terminated.message, 'custom reason\n');
  assert.is(h.store.pod('tlog')!.status.containerStatuses[0].state.terminated.message, 'one\nlast words\n');
});

test('~> memory limit: a container that exceeds it is OOMKilled (exit 137); one within it runs', async ({ h }) => {
  const limited = (name: string, mib: number) => ({
    metadata: { name, namespace: 'default' },
    spec: {
      restartPolicy: 'Never',
      containers: [
        {
          name: 'c',
          image: 'busybox',
          command: ['dd', 'if=/dev/zero', 'of=/dev/null', `bs=${mib}M`, 'count=1'],
          resources: { limits: { memory: '32Mi' } },
        },
      ],
    },
  });
  h.store.create(PODS, limited('oom', 96));
  h.store.create(PODS, limited('fits', 4));
  await waitFor(
    () => ['Succeeded', 'Failed'].includes(phase(h.store, 'oom') ?? '') && phase(h.store, 'fits') === 'Succeeded',
    20000,
    'done',
  );
  const t = h.store.pod('oom')!.status.containerStatuses[0].state.terminated;
  if (t.reason !== 'OOMKilled')
    console.log(`SKIP OOMKilled: memory cgroups unavailable here (${t.reason} ${t.exitCode})`);
  else {
    assert.is(t.exitCode, 137);
    assert.is(h.store.pod('oom')!.status.phase, 'Failed');
  }
  assert.is(h.store.pod('fits')!.status.containerStatuses[0].state.terminated.reason, 'Completed');
});

test.run();
