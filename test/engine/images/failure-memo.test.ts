/**
 * engine/images/failure-memo: failed lookups are remembered for the TTL, and at most
 * `--image-failure-cache-entries` of them (keys are user input: image references), the oldest first out.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { FailureMemo } from '../../../src/engine/images/failure-memo.js';

test('~> filled past its bound with distinct references, the memo keeps the newest maxEntries', () => {
  const memo = new FailureMemo<string>({ ttlMs: 60_000, maxEntries: 100 });
  for (let i = 0; i < 1000; i++) memo.note(`registry.example/img-${i}:latest`, `failed ${i}`, 1000);
  assert.is(memo.size, 100);
  assert.is(memo.get('registry.example/img-0:latest', 1000), undefined, 'the oldest went first');
  assert.is(memo.get('registry.example/img-999:latest', 1000)?.err, 'failed 999');
  assert.is(memo.get('registry.example/img-900:latest', 1000)?.err, 'failed 900');
});

test('~> a failure is remembered for the TTL, then forgotten; a TTL of 0 remembers nothing', () => {
  const memo = new FailureMemo<string>({ ttlMs: 500, maxEntries: 10 });
  memo.note('a', 'down', 1000);
  assert.is(memo.get('a', 1499)?.err, 'down');
  assert.is(memo.get('a', 1500), undefined);
  assert.is(memo.size, 0, 'an expired entry is dropped when read');
  const off = new FailureMemo<string>({ ttlMs: 0, maxEntries: 10 });
  off.note('a', 'down', 1000);
  assert.is(off.size, 0);
});

test('~> noting a key again refreshes it: it is not the next one out', () => {
  const memo = new FailureMemo<string>({ ttlMs: 60_000, maxEntries: 2 });
  memo.note('a', '1', 0);
  memo.note('b', '2', 0);
  memo.note('a', '3', 0);
  memo.note('c', '4', 0);
  assert.is(memo.get('b', 0), undefined);
  assert.is(memo.get('a', 0)?.err, '3');
  assert.is(memo.get('c', 0)?.err, '4');
});

test.run();
