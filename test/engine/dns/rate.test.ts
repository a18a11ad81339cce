/**
 * engine/dns/rate: the per-source token buckets, and the bound on the table of sources
 * (`--dns-max-sources`): a flood of (spoofed) source addresses costs a fixed amount of memory.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { RateLimiter } from '../../../src/engine/dns/rate.js';

test('~> filled past --dns-max-sources with distinct sources, the table keeps maxSources of them', () => {
  const r = new RateLimiter({ perSecond: 10, maxSources: 64 });
  for (let i = 0; i < 10_000; i++) assert.ok(r.take(`10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`, 0));
  assert.is(r.sources, 64);
});

test('~> a source gets perSecond queries at once, then one per 1/perSecond s', () => {
  const r = new RateLimiter({ perSecond: 3, maxSources: 8 });
  assert.equal([r.take('a', 0), r.take('a', 0), r.take('a', 0), r.take('a', 0)], [true, true, true, false]);
  assert.is(r.dropped, 1);
  assert.ok(r.take('a', 400), 'a token back after 1/3 s');
  assert.not.ok(r.take('a', 400));
});

test.run();
