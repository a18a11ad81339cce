import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { normaliseCreate, predefinedNetworks, type NetworkRecord } from '../../../src/engine/networks/model.js';
import type { Endpoint } from '../../../src/engine/networks/endpoints.js';
import { NameTable, normaliseIp, type TableMember } from '../../../src/engine/dns/names.js';

const pre = predefinedNetworks('inst', '2026-01-01T00:00:00Z');
const net = (name: string, id: string): NetworkRecord => ({
  id: id.padEnd(64, '0'),
  name,
  created: '2026-01-01T00:00:01Z',
  config: normaliseCreate({ Name: name }, { isolation: false }).config,
  predefined: false,
  object: { name: `kapi-net-${id}`, uid: `uid-${id}`, resourceVersion: '1' },
});
const projA = net('proja_default', 'a1');
const projB = net('projb_default', 'b2');
const dotted = net('my.net', 'c3');
const nets = [...pre, projA, projB, dotted];
const ep = (n: NetworkRecord, aliases: string[] = []): Endpoint => ({
  NetworkID: n.id,
  Name: n.name,
  Aliases: aliases,
  Links: null,
  IPAMConfig: null,
  DriverOpts: null,
});
const member = (name: string, id: string, ip: string | undefined, eps: Endpoint[], hostname?: string): TableMember => ({
  rec: { id: id.repeat(64).slice(0, 64), name, config: hostname ? { Hostname: hostname } : {} },
  endpoints: eps,
  ...(ip ? { ip } : {}),
});
const searches = ['default.svc.cluster.local'];
const members = [
  member('proja_web_1', 'a', '10.0.0.1', [ep(projA, ['web', 'proja_web_1'])]),
  member('proja_postgres_db_1', 'b', '10.0.0.2', [ep(projA, ['postgres_db'])], 'db.host'),
  member('projb_web_1', 'c', '10.0.1.1', [ep(projB, ['web'])]),
  member('projb_postgres_db_1', 'd', '10.0.1.2', [ep(projB, ['postgres_db'])]),
  member('both', 'e', '10.0.2.1', [ep(projA, ['shared']), ep(dotted, ['x.y'])]),
  member('stopped', 'f', undefined, [ep(projA, ['gone'])]),
  member('plain', '9', '10.0.3.1', [ep(pre.find((n) => n.name === 'bridge')!)]),
];
const table = new NameTable(members, nets, '192.0.2.2', searches);
const v4 = (src: string, name: string) => {
  const r = table.resolveName(src, name, 4);
  return r.kind === 'addresses' ? r.addresses.sort() : r.kind;
};

test('~> two projects with the same service names: each container resolves its own network only', () => {
  assert.equal(v4('10.0.0.1', 'web'), ['10.0.0.1']);
  assert.equal(v4('10.0.0.1', 'postgres_db'), ['10.0.0.2']);
  assert.equal(v4('10.0.1.1', 'web'), ['10.0.1.1']);
  assert.equal(v4('10.0.1.1', 'postgres_db'), ['10.0.1.2']);
  assert.is(v4('10.0.1.1', 'proja_web_1'), 'forward'); // not on its networks
  assert.equal(v4('10.0.1.2', 'projb_web_1'), ['10.0.1.1']); // container names
  assert.equal(v4('10.0.0.1', 'POSTGRES_DB'.toLowerCase()), ['10.0.0.2']);
});

test('~> short IDs, hostnames, a container on two networks, network-qualified names, search suffixes', () => {
  assert.equal(v4('10.0.0.1', 'bbbbbbbbbbbb'), ['10.0.0.2']); // short ID
  assert.equal(v4('10.0.0.1', 'db.host'), ['10.0.0.2']); // Config.Hostname (with a dot)
  assert.equal(v4('10.0.2.1', 'web'), ['10.0.0.1']);
  assert.equal(v4('10.0.0.1', 'x.y'), 'forward'); // alias on my.net, the querier is not on it
  assert.equal(v4('10.0.2.1', 'x.y'), ['10.0.2.1']);
  assert.equal(v4('10.0.2.1', 'both.my.net'), ['10.0.2.1']); // name on network "my.net"
  assert.equal(v4('10.0.2.1', 'web.proja_default'), ['10.0.0.1']);
  assert.equal(v4('10.0.2.1', 'web.projb_default'), 'forward');
  assert.equal(v4('10.0.0.1', 'web.default.svc.cluster.local'), ['10.0.0.1']); // the stub resolver's first try (ndots:5)
  assert.equal(v4('10.0.0.1', 'nosuch.default.svc.cluster.local'), 'forward');
  // Answered as a CNAME to the Docker name, so that resolvers report `web` as the canonical name.
  assert.equal(table.resolveName('10.0.0.1', 'web.default.svc.cluster.local', 4), {
    kind: 'addresses',
    addresses: ['10.0.0.1'],
    canonical: 'web',
  });
  assert.equal(table.resolveName('10.0.0.1', 'host.docker.internal.default.svc.cluster.local', 4), {
    kind: 'addresses',
    addresses: ['192.0.2.2'],
    canonical: 'host.docker.internal',
  });
  assert.equal(table.resolveName('10.0.0.1', 'web', 4), { kind: 'addresses', addresses: ['10.0.0.1'] });
  assert.equal(v4('10.0.0.1', 'gone'), 'forward'); // not running: no address
});

test('~> the default bridge and unknown sources resolve no container names; host.docker.internal everywhere', () => {
  assert.equal(v4('10.0.3.1', 'web'), 'forward');
  assert.equal(v4('10.9.9.9', 'web'), 'forward');
  assert.equal(v4('10.9.9.9', 'host.docker.internal'), ['192.0.2.2']);
  assert.equal(v4('10.0.0.1', 'host.docker.internal'), ['192.0.2.2']);
  assert.ok(table.knows('::ffff:10.0.0.1'));
  assert.not.ok(table.knows('10.9.9.9'));
  assert.is(normaliseIp('FD00::1'), 'fd00:0:0:0:0:0:0:1');
});

test('~> AAAA of an IPv4-only name is an empty answer (not forwarded); PTR is <name>.<network> on the querier networks', () => {
  assert.equal(table.resolveName('10.0.0.1', 'web', 6), { kind: 'addresses', addresses: [] });
  assert.equal(table.resolveAddress('10.0.0.1', '10.0.0.2'), {
    kind: 'ptr',
    name: 'proja_postgres_db_1.proja_default',
  });
  assert.equal(table.resolveAddress('10.0.1.1', '10.0.0.2'), { kind: 'forward' });
});

test('~> several containers sharing an alias all answer (round robin)', () => {
  const t = new NameTable(
    [member('a1', '1', '10.1.0.1', [ep(projA, ['pool'])]), member('a2', '2', '10.1.0.2', [ep(projA, ['pool'])])],
    nets,
  );
  const r = t.resolveName('10.1.0.1', 'pool', 4);
  assert.equal(r.kind === 'addresses' ? r.addresses.sort() : r, ['10.1.0.1', '10.1.0.2']);
});

test.run();
