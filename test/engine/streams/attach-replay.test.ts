/** engine/attach-replay: joining a log replay to a live attach without duplicates. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { overlapLength, ReplayJoin } from '../../../src/engine/streams/attach-replay.js';

const b = (s: string) => Buffer.from(s);

function naive(log: string, head: string): number {
  for (let k = Math.min(log.length, head.length); k > 0; k--) if (log.endsWith(head.slice(0, k))) return k;
  return 0;
}

test('~> overlap: the longest log suffix that is an attach prefix', () => {
  assert.is(overlapLength(b('/ # '), b('')), 0);
  assert.is(overlapLength(b(''), b('abc')), 0);
  assert.is(overlapLength(b('hello\r\n/ # '), b('/ # ls\r\n')), 4);
  assert.is(overlapLength(b('abcabc'), b('abcabcX')), 6);
  assert.is(overlapLength(b('xxabcab'), b('abcabd')), 5);
  assert.is(overlapLength(b('aaaa'), b('aa')), 2);
  assert.is(overlapLength(b('abc'), b('xyz')), 0);
});

test('~> overlap agrees with the naive definition on random inputs', () => {
  let seed = 7;
  const rnd = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) % 3;
  for (let n = 0; n < 2000; n++) {
    const log = Array.from({ length: rnd() * 4 + rnd() }, () => 'ab/'[rnd()]).join('');
    const head = Array.from({ length: rnd() * 4 + rnd() }, () => 'ab/'[rnd()]).join('');
    assert.is(overlapLength(b(log), b(head)), naive(log, head), `${log} | ${head}`);
  }
});

test('~> ReplayJoin holds attach output (bounded) and releases it minus the overlap', () => {
  const j = new ReplayJoin(8);
  assert.ok(j.hold(b('/ # ')));
  assert.not.ok(j.hold(b('more!')));
  assert.is(j.bytes, 9);
  assert.equal(j.release(b('banner\n/ # ')).map(String), ['more!']);
  assert.is(j.bytes, 0);
  j.hold(b('/ # '));
  assert.equal(j.release(b('/ # ')), []);
  j.hold(b('x'));
  assert.equal(j.release(b('')).map(String), ['x']);
});

test.run();
