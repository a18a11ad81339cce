import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { DnsCache } from '../../../src/engine/dns/cache.js';
import {
  encodeAnswerMessage,
  parseQuery,
  RCODE_NXDOMAIN,
  RCODE_SERVFAIL,
  TYPE_A,
} from '../../../src/engine/dns/packet.js';
import { buildQuery, decode } from '../../helpers/dns-client.js';

const answer = (name: string, ttl: number, n = 1, rcode = 0) =>
  encodeAnswerMessage(parseQuery(buildQuery(name, TYPE_A, { id: 1 })), {
    rcode,
    answers: Array.from({ length: n }, (_, i) => ({ type: TYPE_A, name, ttl, address: `10.0.0.${i}` }) as const),
  });
const q = (name: string, id: number) => parseQuery(buildQuery(name, TYPE_A, { id }));

test('~> a hit has the client ID, its question bytes, and the TTLs minus the time kept; it expires with its TTL', () => {
  const c = new DnsCache({ maxEntries: 10, maxBytes: 1 << 20, maxTtlS: 300 });
  c.put('k', answer('x.example', 60), 1_000_000);
  const asked = q('X.Example', 99);
  const hit = c.get('k', 99, asked.rawQuestion, 1_010_500)!;
  const d = decode(hit);
  assert.equal([d.id, d.answers[0]!.ttl], [99, 50]);
  assert.equal(hit.subarray(12, 12 + asked.rawQuestion.length), asked.rawQuestion);
  assert.is(c.get('k', 1, asked.rawQuestion, 1_060_000), undefined);
  assert.is(c.size, 0);
});

test('~> bounds: entries, bytes, the longest TTL; SERVFAIL, truncated and TTL 0 answers are not kept', () => {
  const c = new DnsCache({ maxEntries: 2, maxBytes: 1 << 20, maxTtlS: 10 });
  for (const k of ['a', 'b', 'c']) c.put(k, answer(`${k}.example`, 60));
  assert.equal(
    [c.size, !!c.get('a', 1, q('a.example', 1).rawQuestion), !!c.get('c', 1, q('c.example', 1).rawQuestion)],
    [2, false, true],
  );
  c.put('long', answer('long.example', 3600), 0);
  assert.is(c.get('long', 1, q('long.example', 1).rawQuestion, 10_001), undefined); // capped at 10 s
  const small = new DnsCache({ maxEntries: 100, maxBytes: 150, maxTtlS: 60 });
  small.put('big', answer('big.example', 60, 30)); // larger than the whole budget
  assert.is(small.size, 0);
  for (const k of ['a', 'b', 'c', 'd', 'e']) small.put(k, answer(`${k}.example`, 60));
  assert.ok(small.byteSize <= 150 && small.size >= 1 && small.size < 5);
  small.put('sf', answer('sf.example', 60, 1, RCODE_SERVFAIL));
  const tc = Buffer.from(answer('tc.example', 60));
  tc[2] |= 0x02;
  small.put('tc', tc);
  small.put('zero', answer('zero.example', 0));
  small.put('nx', answer('nx.example', 60, 0, RCODE_NXDOMAIN)); // NXDOMAIN without an SOA: no TTL to keep it for
  for (const k of ['sf', 'tc', 'zero', 'nx']) assert.is(small.get(k, 1, Buffer.alloc(0)), undefined, k);
});

test.run();
