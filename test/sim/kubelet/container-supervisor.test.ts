/**
 * The kubelet's start step (src/sim/kubelet/container-supervisor.ts) when the sandbox never starts
 * the container's process: the bench-smoke flake (`attach (b) failed: unable to upgrade connection:
 * container not found ("main")`) was a container reported Running whose sandbox entry had failed
 * (no PID on bwrap's --info-fd, exit 1, started and finished in the same second): kuber-api's start
 * saw Running and answered 204, and the attach that followed found nothing. A real kubelet reports
 * such a container as terminated with reason StartError, never as running. Here the failure is made
 * deterministic: the pod's pause process (the holder of its namespaces) is killed while an init
 * container runs, so the main container's `nsenter` into those namespaces fails. Needs root (the
 * pod sandbox is a bwrap process only then).
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { readdirSync, readFileSync } from 'node:fs';
import { PODS } from '../../../src/sim/types.js';
import { busyboxPod, startKubelet, waitFor, type KubeletHarness } from './helpers.js';

const test = suite<{ h: KubeletHarness }>('container-supervisor');
const usable = process.getuid?.() === 0;
if (!usable) console.log('SKIP container-supervisor: needs root (a pod sandbox process to take away)');
const t = (name: string, fn: Parameters<typeof test>[1]) => (usable ? test(name, fn) : test.skip(name, fn));

test.before(async (ctx) => {
  if (usable) ctx.h = await startKubelet();
});
test.after(async (ctx) => {
  await ctx.h?.stop();
});

/** PIDs of the pause process of pod `name` (bwrap ... --hostname <name> ... exec /bin/sleep 2147483647). */
function pausePids(name: string): number[] {
  const out: number[] = [];
  for (const p of readdirSync('/proc').filter((x) => /^\d+$/.test(x))) {
    try {
      const argv = readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0');
      const at = argv.indexOf('--hostname');
      if (argv.includes('bwrap') && at >= 0 && argv[at + 1] === name && argv.some((a) => a.includes('2147483647')))
        out.push(Number(p));
    } catch {
      /* gone */
    }
  }
  return out;
}

t('~> a container whose sandbox never started its process is StartError, never Running', async ({ h }) => {
  const states: string[] = [];
  const unsubscribe = h.store.subscribe(PODS, (ev) => {
    if (ev.object.metadata.name !== 'nopause') return;
    const st = (ev.object as any).status?.containerStatuses?.[0]?.state;
    if (st) states.push(Object.keys(st)[0]!);
  });
  h.store.create(
    PODS,
    busyboxPod('nopause', [], {
      restartPolicy: 'Never',
      initContainers: [{ name: 'init', image: 'busybox', command: ['sleep', '1'] }],
      containers: [{ name: 'main', image: 'busybox', command: ['sleep', '30'] }],
    }),
  );
  await waitFor(
    () => !!h.store.pod('nopause')?.status?.initContainerStatuses?.[0]?.state?.running,
    30_000,
    'the init container runs',
  );
  const pids = pausePids('nopause');
  assert.is(pids.length, 1, 'the pod sandbox process');
  process.kill(pids[0]!, 'SIGKILL');
  await waitFor(
    () => !!h.store.pod('nopause')?.status?.containerStatuses?.[0]?.state?.terminated,
    30_000,
    'the main container ends',
  );
  unsubscribe();
  const term = h.store.pod('nopause')!.status.containerStatuses[0].state.terminated;
  assert.is(term.reason, 'StartError', JSON.stringify(term));
  assert.is(term.exitCode, 128);
  assert.match(term.message, /nsenter: .*ns\/net/);
  assert.not.ok(states.includes('running'), `reported states: ${states.join(' -> ')}`);
  const events = h.store.events.filter((e) => e.name === 'nopause').map((e) => `${e.type} ${e.reason}`);
  assert.not.ok(
    h.store.events.some((e) => e.name === 'nopause' && e.reason === 'Started' && /container main/.test(e.message)),
    events.join(', '),
  );
  assert.ok(events.includes('Warning Failed'), events.join(', '));
});

test.run();
