/** engine/ryuk/record: the status and log kept in a Ryuk's record, and coalesced writes. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  ANN_RYUK,
  DATA_LOG,
  RecordWriter,
  ryukState,
  savedLog,
  savedStatus,
  type RyukStatus,
} from '../../../src/engine/ryuk/record.js';
import type { KObject } from '../../../src/kube/cache.js';
import type { ContainerRecord } from '../../../src/engine/model/types.js';

test('ryukState: created without a status, running, exited with its code', () => {
  assert.is(ryukState(undefined).Status, 'created');
  const run = ryukState({ status: 'running', startedAt: '2026-01-01T00:00:00Z', filters: [], connectedOnce: false });
  assert.equal([run.Status, run.Running, run.StartedAt], ['running', true, '2026-01-01T00:00:00Z']);
  const ex = ryukState({
    status: 'exited',
    startedAt: '2026-01-01T00:00:00Z',
    finishedAt: '2026-01-01T00:01:00Z',
    exitCode: 1,
    filters: [],
    connectedOnce: true,
  });
  assert.equal([ex.Status, ex.Running, ex.ExitCode, ex.FinishedAt], ['exited', false, 1, '2026-01-01T00:01:00Z']);
});

test('savedStatus / savedLog read the record (a damaged annotation is no status)', () => {
  const st: RyukStatus = { status: 'running', startedAt: 'x', filters: ['{"label":{"a":true}}'], connectedOnce: true };
  const obj = {
    metadata: { name: 'kapi-1', annotations: { [ANN_RYUK]: JSON.stringify(st) } },
    data: { [DATA_LOG]: 'T1 a\nT2 b\n' },
  } as unknown as KObject;
  assert.equal(savedStatus(obj), st);
  assert.equal(savedLog(obj), ['T1 a\n', 'T2 b\n']);
  assert.is(
    savedStatus({ metadata: { name: 'x', annotations: { [ANN_RYUK]: '{' } } } as unknown as KObject),
    undefined,
  );
  assert.equal(savedLog(undefined), []);
});

test('RecordWriter: one write in flight and one queued; every caller resolved by a write that began after its call', async () => {
  const patches: unknown[] = [];
  let release: Array<() => void> = [];
  let n = 0;
  const host = {
    kube: {
      path: (kind: string, name: string) => `/api/v1/namespaces/ns/${kind}/${name}`,
      client: {
        mergePatch: async (_p: string, body: unknown) => {
          patches.push(body);
          await new Promise<void>((r) => release.push(r));
          return { metadata: { name: 'kapi-1' } };
        },
      },
    },
    index: { records: { observe: () => {} } },
  };
  const rec = { id: 'a', object: { name: 'kapi-1', uid: 'u', resourceVersion: '1' } } as unknown as ContainerRecord;
  const w = new RecordWriter(host as never, rec, () => ({ status: undefined, log: [`line ${++n}\n`] }));
  const p1 = w.write();
  const p2 = w.write();
  const p3 = w.write();
  assert.is(patches.length, 1);
  release.shift()!();
  await p1;
  await new Promise((r) => setTimeout(r, 0));
  assert.is(patches.length, 2, 'the queued write started after the first');
  release.shift()!();
  await Promise.all([p2, p3]);
  assert.is(patches.length, 2, 'the two later calls shared one write');
  assert.equal((patches[1] as { data: Record<string, string> }).data[DATA_LOG], 'line 2\n');
  release = [];
});

test.run();
