/**
 * The monitor's memory of exits is bounded: the exit code of a removed container is kept for the
 * `docker wait` callers still answering (wait --condition removed reads it after the removal),
 * and the oldest go first beyond `--removed-exits-kept`.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Monitor } from '../../../src/engine/containers/monitor.js';
import type { MonitorHost } from '../../../src/engine/containers/host.js';

test('exit codes of removed containers: kept for late waits, at most removedExitsKept of them', () => {
  let listener: { record: (ev: unknown) => void } | undefined;
  const host = {
    opts: { removedExitsKept: 2 },
    index: { listen: (l: typeof listener) => (listener = l), changed: () => {} },
    events: { container: () => {} },
    eventSource: () => ({}),
  } as unknown as MonitorHost;
  const m = new Monitor(host);
  const ids = ['a', 'b', 'c', 'd'];
  for (const [i, id] of ids.entries()) m.noteExit(id, 10 + i);
  for (const id of ids.slice(0, 3)) listener!.record({ type: 'DELETED', rec: { id } });
  // The two most recently removed still answer; the oldest removed one is forgotten.
  assert.equal(
    ids.map((id) => m.lastExitCode(id)),
    [undefined, 11, 12, 13],
  );
  assert.is(m.exitCount('a'), 0);
});

test.run();
