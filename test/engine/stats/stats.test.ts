import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseGoDuration } from '../../../src/engine/stats/quantity.js';
import { idleStats, statsSample } from '../../../src/engine/stats/stats-view.js';
import { usageOf } from '../../../src/engine/stats/stats.js';

test('~> Go durations as the metrics API writes them (its quantities: test/kube/quantity.test.ts)', () => {
  assert.is(parseGoDuration('10.5s'), 10.5e9);
  assert.is(parseGoDuration('1m0.5s'), 60.5e9);
  assert.is(parseGoDuration('200ms'), 2e8);
  assert.ok(Number.isNaN(parseGoDuration('10')));
});

test('~> PodMetrics of container main -> a reading', () => {
  const u = usageOf({
    timestamp: '2026-01-01T00:00:00Z',
    window: '15s',
    containers: [
      { name: 'side', usage: { cpu: '1', memory: '1Ki' } },
      { name: 'main', usage: { cpu: '500000000n', memory: '2048Ki' } },
    ],
  });
  assert.equal(u, { cpuCores: 0.5, memoryBytes: 2 * 2 ** 20, windowNs: 15e9, at: Date.parse('2026-01-01T00:00:00Z') });
});

/** docker/cli stats_helpers.go calculateCPUPercentUnix and calculateMemUsageUnixNoCache, as the CLI computes them. */
function cliView(s: Record<string, any>) {
  const cpuDelta = s.cpu_stats.cpu_usage.total_usage - s.precpu_stats.cpu_usage.total_usage;
  const sysDelta = s.cpu_stats.system_cpu_usage - s.precpu_stats.system_cpu_usage;
  const cpu = sysDelta > 0 && cpuDelta > 0 ? (cpuDelta / sysDelta) * s.cpu_stats.online_cpus * 100 : 0;
  const mem = s.memory_stats.usage - (s.memory_stats.stats?.inactive_file ?? 0);
  return { cpu, mem, memPct: (mem / s.memory_stats.limit) * 100 };
}

test('~> the CLI computes back the metrics rate and the working set, on the first sample and on later ones', () => {
  const id = { id: 'c'.repeat(64), name: 'web' };
  const first = statsSample(
    id,
    { cpuCores: 0.5, memoryBytes: 100 << 20, windowNs: 15e9, at: 1_700_000_000_000 },
    undefined,
    4,
    400 << 20,
  );
  let v = cliView(first.json);
  assert.ok(Math.abs(v.cpu - 50) < 1e-6, String(v.cpu));
  assert.is(v.mem, 100 << 20);
  assert.is(v.memPct, 25);
  assert.is(first.json.name, '/web');
  const second = statsSample(
    id,
    { cpuCores: 1.5, memoryBytes: 1, windowNs: 1e9, at: 1_700_000_001_000 },
    first.counters,
    4,
    400 << 20,
  );
  v = cliView(second.json);
  assert.ok(Math.abs(v.cpu - 150) < 1e-6, String(v.cpu));
  assert.ok(
    second.json.cpu_stats &&
      (second.json.cpu_stats as any).cpu_usage.total_usage > (first.json.cpu_stats as any).cpu_usage.total_usage,
  );
});

test("~> a container that does not run gets dockerd's empty sample", () => {
  const s = idleStats({ id: 'x', name: 'n' });
  assert.is(s.read, '0001-01-01T00:00:00Z');
  assert.equal(s.memory_stats, {});
  assert.equal((s.cpu_stats as any).cpu_usage.total_usage, 0);
});

test.run();
