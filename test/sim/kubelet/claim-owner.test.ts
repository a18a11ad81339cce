/**
 * Claim owners (src/sim/kubelet/claim-owner.ts): a live owner is kept, a dead one is gone, a pid
 * now held by a process that started at another time is gone (PID reuse), an owner in another PID
 * namespace is never judged gone, and claims of older simulators (pid only) are judged by pid.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { ownerGone, selfOwner, startTime } from '../../../src/sim/kubelet/claim-owner.js';

test('~> this process: a start time and a PID namespace; not gone', () => {
  const me = selfOwner();
  assert.is(me.pid, process.pid);
  assert.match(me.start ?? '', /^\d+$/);
  assert.match(me.pidns ?? '', /^pid:\[\d+\]$/);
  assert.is(startTime(process.pid), me.start);
  assert.not.ok(ownerGone(me));
});

test('~> a dead pid is gone; a reused pid (same pid, other start time) is gone', async () => {
  const child = spawn('sleep', ['30']);
  const owner = { pid: child.pid!, start: startTime(child.pid!), pidns: selfOwner().pidns };
  assert.not.ok(ownerGone(owner), 'alive');
  assert.ok(ownerGone({ ...owner, start: String(Number(owner.start) + 1) }), 'the pid belongs to a later process');
  child.kill('SIGKILL');
  await new Promise((r) => child.once('exit', r));
  assert.ok(ownerGone(owner), 'dead');
});

test('~> an owner in another PID namespace is never gone from here; an old pid-only claim is judged by its pid', () => {
  assert.not.ok(ownerGone({ pid: 2 ** 22 + 7, start: '1', pidns: 'pid:[1]' }));
  assert.not.ok(ownerGone({ pid: process.pid }));
  assert.ok(ownerGone({ pid: 2 ** 22 + 7 }));
});

test.run();
