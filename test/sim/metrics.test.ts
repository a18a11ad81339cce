/**
 * kube-sim's metrics API pieces: the kubelet's /proc reading of a process tree and the rate over a
 * window (sim/kubelet/metrics.ts), and the PodMetrics formatting (sim/apiserver/metrics.ts).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { readTree, UsageReader, MIN_WINDOW_MS } from '../../src/sim/kubelet/metrics.js';
import { goDuration } from '../../src/sim/apiserver/metrics.js';

test('~> Go durations as metrics-server prints its window', () => {
  assert.is(goDuration(200), '200ms');
  assert.is(goDuration(10_500), '10.5s');
  assert.is(goDuration(61_250), '1m1.25s');
});

test('~> a process tree: its children count, memory is resident pages, CPU grows while it spins', async () => {
  const child = spawn('sh', ['-c', 'while :; do :; done & exec sleep 30'], { stdio: 'ignore', detached: true }); // its own process group: the spinning loop is killed with it
  try {
    await new Promise((r) => setTimeout(r, 300));
    const r1 = readTree(child.pid!);
    assert.ok(r1.memoryBytes > 0);
    const reader = new UsageReader();
    const [u] = await reader.read('pod', new Map([['main', child.pid!]]));
    assert.is(u!.name, 'main');
    assert.ok(u!.windowMs >= MIN_WINDOW_MS);
    assert.ok(u!.cpuCores > 0.05, `the spinning child is counted: ${u!.cpuCores}`);
    assert.ok(readTree(child.pid!).cpuNs > r1.cpuNs);
    const gone = readTree(999_999_999);
    assert.equal([gone.cpuNs, gone.memoryBytes], [0, 0]);
  } finally {
    process.kill(-child.pid!, 'SIGKILL');
  }
});

test.run();
