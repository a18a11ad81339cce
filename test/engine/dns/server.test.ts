/**
 * The embedded DNS server on real sockets (127.0.0.1, ephemeral ports): local answers over UDP and
 * TCP, forwarding to a fake upstream (NXDOMAIN, SERVFAIL then the next server, timeouts), the
 * cache, and the bounds: malformed and oversize queries, the per-source rate.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createSocket } from 'node:dgram';
import { childLogger } from '../../../src/log.js';
import { normaliseCreate, type NetworkRecord } from '../../../src/engine/networks/model.js';
import { NameTable } from '../../../src/engine/dns/names.js';
import { Resolver } from '../../../src/engine/dns/resolver.js';
import { DnsServer } from '../../../src/engine/dns/server.js';
import { DnsCache } from '../../../src/engine/dns/cache.js';
import { Forwarder, parseResolvConf, parseUpstream } from '../../../src/engine/dns/forwarder.js';
import {
  encodeAnswerMessage,
  parseQuery,
  RCODE_NXDOMAIN,
  RCODE_SERVFAIL,
  RCODE_FORMERR,
  RCODE_REFUSED,
  TYPE_A,
  TYPE_AAAA,
  TYPE_PTR,
} from '../../../src/engine/dns/packet.js';
import { buildQuery, decode, tcpExchange, udpExchange } from '../../helpers/dns-client.js';

const log = childLogger({ test: 'dns' });
const app: NetworkRecord = {
  id: 'a'.repeat(64),
  name: 'app',
  created: '2026-01-01T00:00:00Z',
  config: normaliseCreate({ Name: 'app' }, { isolation: false }).config,
  predefined: false,
};
const ep = {
  NetworkID: app.id,
  Name: 'app',
  Aliases: ['postgres_db'],
  Links: null,
  IPAMConfig: null,
  DriverOpts: null,
};
const table = new NameTable(
  [{ rec: { id: 'b'.repeat(64), name: 'me', config: {} }, endpoints: [ep], ip: '127.0.0.1' }],
  [app],
  '192.0.2.2',
);

/** A fake upstream: ok.example A (TTL 60), nx.example NXDOMAIN, fail.example SERVFAIL, slow.example never. */
async function fakeUpstream(): Promise<{ port: number; count: Map<string, number>; close(): void }> {
  const sock = createSocket('udp4');
  const count = new Map<string, number>();
  sock.on('message', (m, r) => {
    const q = parseQuery(m);
    count.set(q.question.name, (count.get(q.question.name) ?? 0) + 1);
    let a: Buffer | undefined;
    if (q.question.name === 'ok.example')
      a = encodeAnswerMessage(q, {
        rcode: 0,
        answers: [{ type: TYPE_A, name: q.question.name, ttl: 60, address: '1.2.3.4' }],
      });
    else if (q.question.name === 'nx.example') a = encodeAnswerMessage(q, { rcode: RCODE_NXDOMAIN });
    else if (q.question.name === 'fail.example') a = encodeAnswerMessage(q, { rcode: RCODE_SERVFAIL });
    if (a) sock.send(a, r.port, r.address);
  });
  await new Promise<void>((res) => sock.bind(0, '127.0.0.1', res));
  return { port: sock.address().port, count, close: () => sock.close() };
}

async function serve(servers: Array<{ host: string; port: number }>, o: { rate?: number; maxInflight?: number } = {}) {
  const cache = new DnsCache({ maxEntries: 2, maxBytes: 1 << 20, maxTtlS: 300 });
  const fwd = new Forwarder({ servers, timeoutMs: 300, maxInflight: o.maxInflight ?? 64 }, cache);
  const resolver = new Resolver(() => table, fwd, log);
  const server = new DnsServer(
    {
      address: '127.0.0.1',
      port: 0,
      maxQueryBytes: 512,
      ratePerSecond: o.rate ?? 0,
      maxSources: 16,
      maxTcpConnections: 4,
      tcpIdleMs: 2000,
    },
    resolver,
    log,
  );
  const { port } = await server.listen();
  return { server, port, cache, fwd, resolver };
}

test('~> local names over UDP and TCP: A with TTL 600, AAAA empty NOERROR, PTR, host.docker.internal', async () => {
  const { server, port } = await serve([]);
  try {
    const a = decode((await udpExchange('127.0.0.1', port, buildQuery('Postgres_DB', TYPE_A, { id: 42 })))!);
    assert.equal(
      [a.id, a.rcode, a.ra, a.answers],
      [42, 0, true, [{ name: 'postgres_db', type: TYPE_A, ttl: 600, data: '127.0.0.1' }]],
    );
    const t = decode((await tcpExchange('127.0.0.1', port, buildQuery('me', TYPE_A)))!);
    assert.equal(
      t.answers.map((x) => x.data),
      ['127.0.0.1'],
    );
    const six = decode((await udpExchange('127.0.0.1', port, buildQuery('me', TYPE_AAAA)))!);
    assert.equal([six.rcode, six.answers.length], [0, 0]);
    const ptr = decode((await udpExchange('127.0.0.1', port, buildQuery('1.0.0.127.in-addr.arpa', TYPE_PTR)))!);
    assert.equal(
      ptr.answers.map((x) => x.data),
      ['me.app'],
    );
    const mx = decode((await udpExchange('127.0.0.1', port, buildQuery('me', 15)))!);
    assert.equal([mx.rcode, mx.answers.length], [0, 0]); // implicit MX (moby handleMXQuery)
    const hdi = decode((await udpExchange('127.0.0.1', port, buildQuery('host.docker.internal', TYPE_A)))!);
    assert.equal(
      hdi.answers.map((x) => x.data),
      ['192.0.2.2'],
    );
    // No upstream: a name nobody knows is SERVFAIL (moby: no external answer).
    assert.is(decode((await udpExchange('127.0.0.1', port, buildQuery('ok.example', TYPE_A)))!).rcode, RCODE_SERVFAIL);
  } finally {
    server.close();
  }
});

test('~> forwarding: answers and NXDOMAIN pass through and are cached; SERVFAIL and silence move to the next server', async () => {
  const up = await fakeUpstream();
  const dead = await fakeUpstream();
  dead.close(); // a port nobody answers on
  const { server, port, cache } = await serve([
    { host: '127.0.0.1', port: dead.port },
    { host: '127.0.0.1', port: up.port },
  ]);
  try {
    const ok = decode((await udpExchange('127.0.0.1', port, buildQuery('OK.example', TYPE_A, { id: 7 })))!);
    assert.equal([ok.id, ok.rcode, ok.question, ok.answers.map((x) => x.data)], [7, 0, 'ok.example', ['1.2.3.4']]);
    const again = decode((await udpExchange('127.0.0.1', port, buildQuery('ok.example', TYPE_A, { id: 8 })))!);
    assert.equal([again.id, again.answers.map((x) => x.data)], [8, ['1.2.3.4']]);
    assert.ok(again.answers[0]!.ttl <= 60);
    assert.is(up.count.get('ok.example'), 1); // the second came from the cache
    assert.is(cache.hits, 1);
    assert.is(decode((await udpExchange('127.0.0.1', port, buildQuery('nx.example', TYPE_A)))!).rcode, RCODE_NXDOMAIN);
    assert.is(
      decode((await tcpExchange('127.0.0.1', port, buildQuery('fail.example', TYPE_A)))!).rcode,
      RCODE_SERVFAIL,
    );
    assert.is(
      decode((await udpExchange('127.0.0.1', port, buildQuery('slow.example', TYPE_A)))!).rcode,
      RCODE_SERVFAIL,
    );
    // The cache is bounded by entries (2 here).
    for (const n of ['a.example', 'b.example', 'c.example'])
      await udpExchange('127.0.0.1', port, buildQuery(n, TYPE_A));
    assert.ok(cache.size <= 2);
  } finally {
    server.close();
    up.close();
  }
});

test('~> bounds: malformed is FORMERR (or dropped without a header), oversize FORMERR / TCP closed, rate per source, inflight REFUSED', async () => {
  const up = await fakeUpstream();
  const { server, port } = await serve([{ host: '127.0.0.1', port: up.port }], { rate: 50 });
  try {
    const junk = buildQuery('web', TYPE_A, { id: 3 }).subarray(0, 15);
    assert.is(decode((await udpExchange('127.0.0.1', port, junk))!).rcode, RCODE_FORMERR);
    assert.is(await udpExchange('127.0.0.1', port, Buffer.from([1, 2, 3]), 300), undefined);
    const big = Buffer.concat([buildQuery('web', TYPE_A, { id: 4 }), Buffer.alloc(1000)]);
    assert.is(decode((await udpExchange('127.0.0.1', port, big))!).rcode, RCODE_FORMERR);
    assert.is(await tcpExchange('127.0.0.1', port, Buffer.alloc(1000), 1000), undefined);
    // A flood from one source: beyond 50 a second, queries are dropped; the server goes on.
    const s = createSocket('udp4');
    let answered = 0;
    s.on('message', () => answered++);
    await new Promise<void>((r) => s.bind(0, '127.0.0.1', r));
    for (let i = 0; i < 500; i++) s.send(buildQuery('me', TYPE_A, { id: i }), port, '127.0.0.1');
    await new Promise((r) => setTimeout(r, 300));
    s.close();
    assert.ok(answered >= 40 && answered < 200, `answered ${answered}`);
    assert.ok(server.rate.dropped > 0); // (the kernel may drop some of the flood before the limiter sees it)
  } finally {
    server.close();
    up.close();
  }
  const blocked = await serve([{ host: '127.0.0.1', port: up.port }], { maxInflight: 0 });
  try {
    assert.is(
      decode((await udpExchange('127.0.0.1', blocked.port, buildQuery('ok.example', TYPE_A)))!).rcode,
      RCODE_REFUSED,
    );
  } finally {
    blocked.server.close();
  }
});

test("~> a container's own --dns servers are where its other queries go (no cluster upstream needed)", async () => {
  const up = await fakeUpstream();
  const own = new NameTable(
    [
      {
        rec: { id: 'b'.repeat(64), name: 'me', config: { HostConfig: { Dns: [`127.0.0.1:${up.port}`] } } },
        endpoints: [ep],
        ip: '127.0.0.1',
      },
    ],
    [app],
  );
  const fwd = new Forwarder(
    { servers: [], timeoutMs: 300, maxInflight: 8 },
    new DnsCache({ maxEntries: 8, maxBytes: 1 << 20, maxTtlS: 60 }),
  );
  const server = new DnsServer(
    {
      address: '127.0.0.1',
      port: 0,
      maxQueryBytes: 512,
      ratePerSecond: 0,
      maxSources: 4,
      maxTcpConnections: 2,
      tcpIdleMs: 1000,
    },
    new Resolver(() => own, fwd, log),
    log,
  );
  const { port } = await server.listen();
  try {
    assert.equal(
      decode((await udpExchange('127.0.0.1', port, buildQuery('ok.example', TYPE_A)))!).answers.map((a) => a.data),
      ['1.2.3.4'],
    );
    assert.is(up.count.get('ok.example'), 1);
    assert.equal(
      decode((await udpExchange('127.0.0.1', port, buildQuery('postgres_db', TYPE_A)))!).answers.map((a) => a.data),
      ['127.0.0.1'],
    );
  } finally {
    server.close();
    up.close();
  }
});

test('~> upstream and resolv.conf parsing', () => {
  assert.equal(parseUpstream('10.96.0.10'), { host: '10.96.0.10', port: 53 });
  assert.equal(parseUpstream('127.0.0.1:5353'), { host: '127.0.0.1', port: 5353 });
  assert.equal(parseUpstream('[fd00::a]:54'), { host: 'fd00::a', port: 54 });
  assert.is(parseUpstream('nope'), undefined);
  assert.equal(
    parseResolvConf(
      'search ns.svc.cluster.local svc.cluster.local cluster.local\nnameserver 10.96.0.10\noptions ndots:5 # x\n',
    ),
    {
      nameservers: ['10.96.0.10'],
      searches: ['ns.svc.cluster.local', 'svc.cluster.local', 'cluster.local'],
      options: ['ndots:5'],
    },
  );
});

test.run();
