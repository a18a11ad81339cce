/** engine/exec-store: exec instances in memory, inspect as dockerd 26 writes it, bounded lifetime. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ExecInstance, ExecStore, type ExecConfig } from '../../../src/engine/streams/exec-store.js';
import { EngineError, statusFromError } from '../../../src/errors.js';

const cfg = (over: Partial<ExecConfig> = {}): ExecConfig => ({
  Cmd: ['sh', '-c', 'exit 3'],
  Env: [],
  WorkingDir: '',
  User: '',
  Tty: false,
  AttachStdin: false,
  AttachStdout: true,
  AttachStderr: true,
  DetachKeys: '',
  Privileged: false,
  ...over,
});
const pod = { namespace: 'ns', name: 'p', container: 'main' };

test('~> inspect has every field dockerd writes, ExitCode null until the end', () => {
  const e = new ExecInstance(
    'c'.repeat(64),
    pod,
    cfg({ User: '1000', DetachKeys: 'ctrl-a,x' }),
    Buffer.from([1, 0x78]),
    0,
  );
  assert.equal(e.inspect(), {
    ID: e.id,
    Running: false,
    ExitCode: null,
    ProcessConfig: { tty: false, entrypoint: 'sh', arguments: ['-c', 'exit 3'], privileged: false, user: '1000' },
    OpenStdin: false,
    OpenStderr: true,
    OpenStdout: true,
    CanRemove: false,
    ContainerID: 'c'.repeat(64),
    DetachKeys: 'AXg=',
    Pid: 0,
  });
  assert.match(e.id, /^[0-9a-f]{64}$/);
  e.begin();
  assert.is(e.inspect().Running, true);
  e.finish(3, 10);
  assert.is(e.inspect().Running, false);
  assert.is(e.inspect().ExitCode, 3);
  assert.not.ok('user' in (new ExecInstance('c', pod, cfg(), Buffer.alloc(0), 0).inspect().ProcessConfig as object));
});

test('~> a second start is a 409 with moby text', () => {
  const e = new ExecInstance('c', pod, cfg(), Buffer.alloc(0), 0);
  e.begin();
  try {
    e.begin();
    assert.unreachable();
  } catch (err) {
    assert.is(statusFromError(err), 409);
    assert.match((err as EngineError).message, /is already running/);
  }
  e.finish(0, 1);
  assert.throws(() => e.begin(), /has already run/);
});

test('~> resize before the session exists is remembered, then applied', () => {
  const e = new ExecInstance('c', pod, cfg({ ConsoleSize: [24, 80] }), Buffer.alloc(0), 0);
  assert.equal(e.size, { height: 24, width: 80 });
  e.resize(100, 30);
  const seen: number[][] = [];
  e.session = { resize: (w, h) => seen.push([w, h]) };
  e.resize(120, 40);
  assert.equal(seen, [[120, 40]]);
  assert.equal(e.size, { width: 120, height: 40 });
});

test('~> unknown ids are 404 "No such exec instance"; finished ones expire; the bound holds', () => {
  let now = 0;
  const s = new ExecStore({ retentionMs: 1000, maxEntries: 3 }, () => now);
  assert.throws(
    () => s.get('nope'),
    (e: unknown) => statusFromError(e) === 404 && (e as Error).message === 'No such exec instance: nope',
  );
  const a = new ExecInstance('c', pod, cfg(), Buffer.alloc(0), now);
  s.add(a);
  a.begin();
  a.finish(0, now);
  const running = new ExecInstance('c', pod, cfg(), Buffer.alloc(0), now);
  s.add(running);
  running.begin();
  now = 2000;
  s.add(new ExecInstance('c', pod, cfg(), Buffer.alloc(0), now));
  assert.throws(() => s.get(a.id), /No such exec/); // expired
  assert.is(s.get(running.id), running); // running ones stay
  for (let i = 0; i < 10; i++) s.add(new ExecInstance('c', pod, cfg(), Buffer.alloc(0), now));
  assert.ok(s.size <= 3);
  assert.is(s.get(running.id), running);
  assert.ok(s.forContainer('c').includes(running));
});

test.run();
