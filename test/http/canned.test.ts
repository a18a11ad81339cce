/**
 * src/http/canned.ts: the connection's own answers are kept one per status, a closed set, so
 * reasons carrying request bytes ("invalid character in header X") cannot grow the cache.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { cannedCacheSize, cannedResponse, type CannedStatus } from '../../src/http/canned.js';
import { parseResponses } from '../helpers/raw-client.js';

const STATUSES: CannedStatus[] = [400, 408, 431, 501, 503, 505];

test('~> filled with 10,000 different reasons, the cache holds at most one answer per status', () => {
  for (let i = 0; i < 10_000; i++) {
    const status = STATUSES[i % STATUSES.length]!;
    const buf = cannedResponse(status, `invalid character in header X-${i}`);
    const [r] = parseResponses(buf, { ended: true }).responses;
    assert.is(r!.status, status);
    assert.is(r!.body.toString(), `${status} ${r!.reason}: invalid character in header X-${i}`);
    assert.ok(cannedCacheSize() <= STATUSES.length, `${cannedCacheSize()} kept after ${i + 1}`);
  }
  assert.is(cannedCacheSize(), STATUSES.length);
});

test('~> a repeated answer is the kept bytes; each closes the connection, as net/http', () => {
  const a = cannedResponse(503, 'too many connections (limit 10)');
  assert.ok(cannedResponse(503, 'too many connections (limit 10)') === a, 'the same buffer');
  assert.match(a.toString('latin1'), /\r\nConnection: close\r\n/);
  const bare = cannedResponse(408);
  assert.is(parseResponses(bare, { ended: true }).responses[0]!.body.toString(), '408 Request Timeout');
  assert.ok(cannedResponse(408) === bare);
});

test.run();
