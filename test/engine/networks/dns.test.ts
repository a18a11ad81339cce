import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { normaliseCreate, predefinedNetworks, type NetworkRecord } from '../../../src/engine/networks/model.js';
import {
  checkNetworkMode,
  connectEndpoint,
  createEndpoints,
  decodeEndpoints,
  dnsNames,
  encodeEndpoints,
  networksView,
  type Endpoint,
} from '../../../src/engine/networks/endpoints.js';
import {
  dnsLabel,
  hostAliasesFor,
  isServiceName,
  netLabel,
  parseLink,
  planServices,
  podNetworkLabels,
  policyObject,
  serviceMatches,
  serviceObject,
  type Member,
} from '../../../src/engine/networks/dns.js';
import { versionLess } from '../../../src/engine/model/api-version.js';
import { EngineError, statusFromError } from '../../../src/errors.js';
import type { ContainerRecord, CreateBody } from '../../../src/engine/model/types.js';

const fail = (fn: () => unknown) => {
  try {
    fn();
  } catch (err) {
    assert.instance(err, EngineError);
    return { status: statusFromError(err), message: (err as Error).message };
  }
  throw new Error('expected a throw');
};

const pre = predefinedNetworks('inst', '2026-01-01T00:00:00Z');
const net = (name: string, id: string, created: string): NetworkRecord => ({
  id: id.padEnd(64, '0'),
  name,
  created,
  config: normaliseCreate({ Name: name }, { isolation: false }).config,
  predefined: false,
  object: { name: `kapi-net-${id}`, uid: `uid-${id}`, resourceVersion: '1' },
});
const app = net('app', 'a1', '2026-01-01T00:00:01Z');
const other = net('other', 'b2', '2026-01-01T00:00:02Z');
const nets = [...pre, app, other];
const rec = (name: string, id: string, config: CreateBody = {}): ContainerRecord => ({
  id: id.repeat(64).slice(0, 64),
  name,
  created: '2026-01-01T00:00:00Z',
  config,
  state: { run: 1, restartCount: 0 },
  object: { name: `kapi-${id}`, uid: 'u', resourceVersion: '1' },
});

test('~> create memberships: NetworkMode first, then EndpointsConfig (aliases); unknown network 404; host/container: 501', () => {
  const { endpoints } = createEndpoints(
    {
      HostConfig: { NetworkMode: 'app' },
      NetworkingConfig: { EndpointsConfig: { app: { Aliases: ['web', 'web'] }, other: null } },
    } as CreateBody,
    nets,
  );
  assert.equal(
    endpoints.map((e) => [e.Name, e.Aliases]),
    [
      ['app', ['web']],
      ['other', []],
    ],
  );
  assert.equal(
    createEndpoints({} as CreateBody, nets).endpoints.map((e) => e.Name),
    ['bridge'],
  );
  assert.equal(
    fail(() => createEndpoints({ HostConfig: { NetworkMode: 'nope' } } as CreateBody, nets)),
    { status: 404, message: 'network nope not found' },
  );
  const host = fail(() => checkNetworkMode('host'));
  assert.is(host.status, 501);
  assert.match(host.message, /network mode "host" is not supported by kuber-api/);
  assert.is(fail(() => checkNetworkMode('container:abc')).status, 501);
  assert.is(
    fail(() =>
      createEndpoints(
        {
          HostConfig: { NetworkMode: 'app' },
          NetworkingConfig: { EndpointsConfig: { app: { IPAMConfig: { IPv4Address: '10.0.0.9' } } } },
        } as CreateBody,
        nets,
      ),
    ).status,
    501,
  );
  assert.is(
    fail(() =>
      createEndpoints({ NetworkingConfig: { EndpointsConfig: { bridge: { Aliases: ['x'] } } } } as CreateBody, nets),
    ).status,
    400,
  );
  const none = createEndpoints({ HostConfig: { NetworkMode: 'none' } } as CreateBody, nets);
  assert.match(none.warnings[0]!, /network mode "none"/);
  assert.is(fail(() => connectEndpoint(app, undefined, none.endpoints)).status, 400);
});

test('~> a record without the annotation is on its NetworkMode network; damaged JSON falls back the same way', () => {
  const r = rec('x', 'c', { HostConfig: { NetworkMode: 'app' } });
  assert.equal(
    decodeEndpoints(undefined, r, nets).map((e) => [e.Name, e.NetworkID]),
    [['app', app.id]],
  );
  assert.equal(
    decodeEndpoints('{oops', r, nets).map((e) => e.Name),
    ['app'],
  );
  const eps = createEndpoints({ HostConfig: { NetworkMode: 'app' } } as CreateBody, nets).endpoints;
  assert.equal(decodeEndpoints(encodeEndpoints(eps), r, nets), eps);
});

test('~> NetworkSettings.Networks: DNSNames on user networks only; short ID among Aliases below API 1.45; no address when stopped', () => {
  const r = rec('web', 'd');
  const eps: Endpoint[] = [
    { NetworkID: app.id, Name: 'app', Aliases: ['www'], Links: null, IPAMConfig: null, DriverOpts: null },
    { NetworkID: pre[0]!.id, Name: 'bridge', Aliases: [], Links: null, IPAMConfig: null, DriverOpts: null },
  ];
  const v = networksView({
    rec: r,
    endpoints: eps,
    nets,
    ip: '10.244.0.7',
    gatewayIp: '10.244.0.1',
    apiVersion: '1.51',
    lt: versionLess,
  }) as any;
  assert.equal(Object.keys(v), ['app', 'bridge']);
  assert.equal(v.app.DNSNames, ['web', 'www', 'dddddddddddd']);
  assert.equal(v.app.Aliases, ['www']);
  assert.equal([v.app.IPAddress, v.app.Gateway, v.app.IPPrefixLen], ['10.244.0.7', '10.244.0.1', 32]);
  assert.is(v.bridge.DNSNames, null);
  const old = networksView({ rec: r, endpoints: eps, nets, ip: undefined, apiVersion: '1.38', lt: versionLess }) as any;
  assert.equal(old.app.Aliases, ['www', 'dddddddddddd']);
  assert.equal([old.app.IPAddress, old.app.EndpointID], ['', '']);
  assert.equal(dnsNames(r, eps[1]!, pre[0]), []);
});

const member = (r: ContainerRecord, eps: Endpoint[], ip?: string): Member => ({ rec: r, endpoints: eps, ip });
const ep = (n: NetworkRecord, aliases: string[] = []): Endpoint => ({
  NetworkID: n.id,
  Name: n.name,
  Aliases: aliases,
  Links: null,
  IPAMConfig: null,
  DriverOpts: null,
});

test('~> Service plan: one headless Service per valid name; two networks sharing a name: the older network owns it', () => {
  const a = member(rec('db', '1'), [ep(app, ['postgres'])], '10.244.0.2');
  const b = member(rec('DB', '2'), [ep(other)], '10.244.0.3'); // names are case-insensitive in DNS
  const c = member(rec('proj_web_1', '3'), [ep(app, ['web'])], '10.244.0.4');
  const plan = planServices([a, b, c], nets, new Map(), new Set());
  assert.is(plan.get('db')!.networkId, app.id);
  assert.ok(plan.has('postgres') && plan.has('web'));
  assert.not.ok(plan.has('proj_web_1')); // underscores: no Service (not a DNS label)
  assert.not.ok(plan.has('111111111111')); // a digit first: not a Service name (hostAlias instead)
  // An existing owner keeps its name.
  const kept = planServices([a, b], nets, new Map([['db', other.id]]), new Set());
  assert.is(kept.get('db')!.networkId, other.id);
  // A name taken by someone else's Service is left alone.
  assert.not.ok(planServices([a], nets, new Map(), new Set(['db'])).has('db'));
  assert.ok(isServiceName('web') && !isServiceName('9lives') && !isServiceName('a_b'));
});

test('~> Pod labels select the Services; hostAliases carry what no Service of the network serves', () => {
  const db = member(rec('db', '1'), [ep(app)], '10.244.0.2');
  const dbOther = member(rec('db2', '2'), [ep(other, ['db'])], '10.244.0.3');
  const client = member(rec('client', '3'), [ep(other)]);
  const plan = planServices([db, dbOther, client], nets, new Map(), new Set());
  const labels = podNetworkLabels(db, nets);
  assert.is(labels[netLabel(app.id)], '1');
  assert.is(labels[dnsLabel(app.id, 'db')], '1');
  // "db" is app's Service; the client on "other" must reach other's db (db2) by /etc/hosts.
  const aliases = hostAliasesFor(client, [db, dbOther, client], nets, plan);
  assert.equal(aliases, [{ ip: '10.244.0.3', hostnames: ['db', '222222222222'] }]);
  const svc = serviceObject({ namespace: 'ns', instance: 'inst' }, plan.get('db')!, app) as any;
  assert.equal(svc.spec, {
    clusterIP: 'None',
    selector: { 'kuber-api.io/instance': 'inst', [dnsLabel(app.id, 'db')]: '1' },
    publishNotReadyAddresses: true,
  });
  assert.is(svc.metadata.ownerReferences[0].uid, app.object!.uid);
  assert.ok(serviceMatches(svc, svc));
  // Legacy links become hostAliases too.
  const linked = member(rec('l', '4', { HostConfig: { Links: ['/db:/l/database'] } }), [ep(pre[0]!)]);
  assert.equal(hostAliasesFor(linked, [db, linked], nets, plan), [{ ip: '10.244.0.2', hostnames: ['database', 'db'] }]);
  // With the embedded DNS serving (engine/dns), peers are its answers: only links stay /etc/hosts entries.
  assert.equal(hostAliasesFor(client, [db, dbOther, client], nets, plan, false), []);
  assert.equal(hostAliasesFor(linked, [db, linked], nets, plan, false), [
    { ip: '10.244.0.2', hostnames: ['database', 'db'] },
  ]);
  assert.equal(parseLink('db:database'), ['db', 'database']);
});

test('~> NetworkPolicy: members admit each other (and kuber-api); internal limits egress; host has none', () => {
  const p = policyObject({ namespace: 'ns', instance: 'inst' }, app, '10.244.0.1') as any;
  assert.equal(p.spec.policyTypes, ['Ingress']);
  assert.equal(p.spec.ingress[0].from[1], { ipBlock: { cidr: '10.244.0.1/32' } });
  const internal = { ...app, config: { ...app.config, Internal: true } };
  assert.equal((policyObject({ namespace: 'ns', instance: 'inst' }, internal) as any).spec.policyTypes, [
    'Ingress',
    'Egress',
  ]);
  assert.is(policyObject({ namespace: 'ns', instance: 'inst' }, pre[1]!), undefined);
});

test.run();
