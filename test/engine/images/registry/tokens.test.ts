/** src/engine/images/registry/tokens.ts: bearer tokens go when they expire, and past --registry-token-cache-entries. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { TokenCache } from '../../../../src/engine/images/registry/tokens.js';

test('~> filled past the bound, the least recently used go; the size never exceeds it', () => {
  const c = new TokenCache(100);
  const now = 1_000_000;
  for (let i = 0; i < 10_000; i++) {
    c.set(`host repository:r${i}:pull`, `t${i}`, now + 300_000, now);
    assert.ok(c.size <= 100, `${c.size} held after ${i + 1}`);
  }
  assert.is(c.size, 100);
  assert.is(c.get('host repository:r0:pull', now), undefined, 'the oldest went');
  assert.is(c.get('host repository:r9900:pull', now), 't9900', 'the newest are kept');
  c.set('host repository:extra:pull', 'tx', now + 300_000, now);
  assert.is(c.get('host repository:r9900:pull', now), 't9900', 'a token just used is kept');
  assert.is(c.get('host repository:r9901:pull', now), undefined, 'the least recently used went instead');
});

test('~> a token goes when it expires: not served, and dropped at the next insert', () => {
  const c = new TokenCache(100);
  for (let i = 0; i < 50; i++) c.set(`k${i}`, `t${i}`, 2000, 1000);
  assert.is(c.get('k1', 1999), 't1');
  assert.is(c.get('k2', 2000), undefined, 'expired at its time');
  c.set('fresh', 't', 10_000, 3000);
  assert.is(c.size, 1, 'the expired ones went at the insert');
  c.set('dead', 't', 3000, 3000);
  assert.is(c.get('dead', 3000), undefined, 'an already expired token is not kept');
  assert.is(new TokenCache(0).size, 0);
});

test.run();
