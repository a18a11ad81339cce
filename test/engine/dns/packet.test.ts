import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  DnsFormatError,
  encodeAnswerMessage,
  encodeHeaderError,
  maxAnswerSize,
  parseQuery,
  ptrAddress,
  readName,
  scanAnswer,
  RCODE_FORMERR,
  RCODE_NOERROR,
  RCODE_NXDOMAIN,
  TYPE_A,
  TYPE_AAAA,
  TYPE_CNAME,
  TYPE_PTR,
} from '../../../src/engine/dns/packet.js';
import { buildQuery, decode } from '../../helpers/dns-client.js';

test('~> a query parses: ID, RD, the question lower-cased (names with _ and .), the EDNS UDP size', () => {
  const q = parseQuery(buildQuery('Postgres_DB.My.Net', TYPE_A, { id: 77, udpSize: 1232 }));
  assert.equal(
    [q.id, q.rd, q.opcode, q.question, q.udpSize],
    [77, true, 0, { name: 'postgres_db.my.net', type: TYPE_A, class: 1 }, 1232],
  );
  assert.is(maxAnswerSize(q, false), 1232);
  assert.is(maxAnswerSize(parseQuery(buildQuery('a', TYPE_A)), false), 512);
  assert.is(maxAnswerSize(q, true), 65535);
});

test('~> malformed messages are DnsFormatError, with the ID once the header is whole', () => {
  const bad = (b: Buffer) => {
    try {
      parseQuery(b);
    } catch (err) {
      assert.instance(err, DnsFormatError);
      return (err as DnsFormatError).id;
    }
    throw new Error('parsed');
  };
  assert.is(bad(Buffer.alloc(5)), undefined);
  const q = buildQuery('web', TYPE_A, { id: 9 });
  assert.is(bad(q.subarray(0, q.length - 2)), 9); // question cut short
  const two = Buffer.from(q);
  two.writeUInt16BE(2, 4);
  assert.is(bad(two), 9); // two questions
  const answer = Buffer.from(q);
  answer.writeUInt16BE(0x8100, 2);
  assert.is(bad(answer), 9); // QR set
  // A compression pointer to itself, and one forwards: no loop, an error.
  const loop = Buffer.concat([q.subarray(0, 12), Buffer.from([0xc0, 12, 0, 1, 0, 1])]);
  assert.is(bad(loop), 9);
  const fwd = Buffer.concat([q.subarray(0, 12), Buffer.from([0xc0, 20, 0, 1, 0, 1])]);
  assert.is(bad(fwd), 9);
  // A name longer than 255 octets.
  const long = Buffer.concat([
    q.subarray(0, 12),
    ...Array.from({ length: 5 }, () => Buffer.concat([Buffer.from([63]), Buffer.alloc(63, 97)])),
    Buffer.from([0, 0, 1, 0, 1]),
  ]);
  assert.is(bad(long), 9);
  // Counts that claim more records than the message holds.
  const lies = Buffer.from(q);
  lies.writeUInt16BE(65535, 10);
  assert.is(bad(lies), 9);
  const fe = decode(encodeHeaderError(lies, RCODE_FORMERR)!);
  assert.equal([fe.id, fe.rcode, fe.question, fe.answers.length], [9, RCODE_FORMERR, '', 0]);
  assert.is(encodeHeaderError(Buffer.alloc(3), RCODE_FORMERR), undefined);
});

test('~> answers: the question echoed byte-exact, RA set, A/AAAA/PTR records, TTL; TC when they do not fit', () => {
  const raw = buildQuery('WeB', TYPE_A, { id: 5 });
  const q = parseQuery(raw);
  const a = encodeAnswerMessage(q, {
    rcode: RCODE_NOERROR,
    answers: [{ type: TYPE_A, name: 'web', ttl: 600, address: '10.244.1.2' }],
  });
  assert.equal(a.subarray(12, 12 + q.rawQuestion.length), raw.subarray(12)); // case kept
  const d = decode(a);
  assert.equal(
    [d.id, d.rcode, d.ra, d.tc, d.answers],
    [5, 0, true, false, [{ name: 'web', type: TYPE_A, ttl: 600, data: '10.244.1.2' }]],
  );
  const six = decode(
    encodeAnswerMessage(parseQuery(buildQuery('web', TYPE_AAAA)), {
      rcode: 0,
      answers: [{ type: TYPE_AAAA, name: 'web', ttl: 1, address: 'fd00::1:2' }],
    }),
  );
  assert.is(six.answers[0]!.data, 'fd00:0:0:0:0:0:1:2');
  const ptr = decode(
    encodeAnswerMessage(parseQuery(buildQuery('2.1.244.10.in-addr.arpa', TYPE_PTR)), {
      rcode: 0,
      answers: [{ type: TYPE_PTR, name: '2.1.244.10.in-addr.arpa', ttl: 600, target: 'web.app' }],
    }),
  );
  assert.is(ptr.answers[0]!.data, 'web.app');
  const cname = decode(
    encodeAnswerMessage(parseQuery(buildQuery('web.ns.svc.cluster.local', TYPE_A)), {
      rcode: 0,
      answers: [
        { type: TYPE_CNAME, name: 'web.ns.svc.cluster.local', ttl: 600, target: 'web' },
        { type: TYPE_A, name: 'web', ttl: 600, address: '10.0.0.1' },
      ],
    }),
  );
  assert.equal(
    cname.answers.map((a) => [a.name, a.type, a.data]),
    [
      ['web.ns.svc.cluster.local', TYPE_CNAME, 'web'],
      ['web', TYPE_A, '10.0.0.1'],
    ],
  );
  const many = Array.from(
    { length: 100 },
    (_, i) => ({ type: TYPE_A, name: 'web', ttl: 600, address: `10.0.0.${i}` }) as const,
  );
  const cut = decode(encodeAnswerMessage(q, { rcode: 0, answers: many, maxSize: 512 }));
  assert.ok(cut.tc);
  assert.ok(cut.answers.length < 100 && cut.answers.length > 10);
});

test('~> scanAnswer: TTL offsets and the smallest TTL; negative answers use the SOA minimum', () => {
  const q = parseQuery(buildQuery('x.example', TYPE_A));
  const a = encodeAnswerMessage(q, {
    rcode: 0,
    answers: [
      { type: TYPE_A, name: 'x.example', ttl: 30, address: '1.2.3.4' },
      { type: TYPE_A, name: 'x.example', ttl: 20, address: '1.2.3.5' },
    ],
  });
  const s = scanAnswer(a);
  assert.equal([s.rcode, s.minTtl, s.ttlOffsets.length, s.answerCount], [0, 20, 2, 2]);
  // NXDOMAIN with an SOA in the authority section (TTL 60, MINIMUM 15).
  const nx = Buffer.from(encodeAnswerMessage(q, { rcode: RCODE_NXDOMAIN }));
  nx.writeUInt16BE(1, 8);
  const soaRdata = Buffer.concat([Buffer.from([0, 0]), Buffer.alloc(20)]);
  soaRdata.writeUInt32BE(15, soaRdata.length - 4);
  const rr = Buffer.concat([Buffer.from([0, 0, 6, 0, 1, 0, 0, 0, 60, 0, soaRdata.length]), soaRdata]);
  const scanned = scanAnswer(Buffer.concat([nx, rr]));
  assert.equal([scanned.rcode, scanned.minTtl], [RCODE_NXDOMAIN, 15]);
});

test('~> ptrAddress: in-addr.arpa and ip6.arpa names', () => {
  assert.is(ptrAddress('4.3.2.10.in-addr.arpa'), '10.2.3.4');
  assert.is(ptrAddress('4.3.2.in-addr.arpa'), undefined);
  assert.is(
    ptrAddress('1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.d.f.ip6.arpa'),
    'fd00:0:0:0:0:0:0:1',
  );
  assert.equal(readName(buildQuery('a.b', 1), 12), { name: 'a.b', next: 17 });
});

test.run();
