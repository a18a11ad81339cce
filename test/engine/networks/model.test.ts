import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  decodeNetwork,
  filterNetworks,
  findNetwork,
  networkObject,
  networkObjectName,
  networkView,
  normaliseCreate,
  predefinedNetworks,
  pruneSelect,
  resolveNetwork,
  type NetworkRecord,
} from '../../../src/engine/networks/model.js';
import { EngineError, statusFromError } from '../../../src/errors.js';

const fail = (fn: () => unknown) => {
  try {
    fn();
  } catch (err) {
    assert.instance(err, EngineError);
    return { status: statusFromError(err), message: (err as Error).message };
  }
  throw new Error('expected a throw');
};

const created = '2026-01-01T00:00:00.000000000Z';
const pre = predefinedNetworks('inst', created, '10.244.0.1');
const mk = (name: string, id: string, labels: Record<string, string> = {}, when = created): NetworkRecord => {
  const { config } = normaliseCreate({ Name: name, Labels: labels }, { isolation: false });
  return {
    id,
    name,
    created: when,
    config,
    predefined: false,
    object: { name: `kapi-net-${id}`, uid: 'u', resourceVersion: '1' },
  };
};

test('~> predefined networks: bridge, host, none with stable IDs per instance; bridge IPAM shows the gateway', () => {
  assert.equal(
    pre.map((n) => [n.name, n.config.Driver]),
    [
      ['bridge', 'bridge'],
      ['host', 'host'],
      ['none', 'null'],
    ],
  );
  assert.equal(
    predefinedNetworks('inst', 'later').map((n) => n.id),
    pre.map((n) => n.id),
  );
  assert.is.not(predefinedNetworks('other', created)[0]!.id, pre[0]!.id);
  const v = networkView(pre[0]!, {}, '10.244.0.1') as any;
  assert.equal(v.IPAM.Config, [{ Subnet: '10.244.0.0/16', Gateway: '10.244.0.1' }]);
  assert.is(v.Options['com.docker.network.bridge.default_bridge'], 'true');
});

test('~> create validation follows dockerd: 403 for predefined names, 400 without a name, swarm drivers 403, others 501', () => {
  assert.equal(
    fail(() => normaliseCreate({ Name: 'bridge' }, { isolation: false })),
    { status: 403, message: 'operation is not permitted on predefined bridge network ' },
  );
  assert.is(fail(() => normaliseCreate({}, { isolation: false })).status, 400);
  assert.is(fail(() => normaliseCreate({ Name: 'o', Driver: 'overlay' }, { isolation: false })).status, 403);
  const mac = fail(() => normaliseCreate({ Name: 'm', Driver: 'macvlan' }, { isolation: false }));
  assert.is(mac.status, 501);
  assert.match(mac.message, /network driver "macvlan" is not supported by kuber-api/);
  const ok = normaliseCreate(
    { Name: 'n', Labels: { a: 'b' }, IPAM: { Config: [{ Subnet: '172.30.0.0/16' }] }, Internal: true },
    { isolation: false },
  );
  assert.is(ok.config.Driver, 'bridge');
  assert.equal(ok.config.Labels, { a: 'b' });
  assert.match(ok.warning, /IPAM subnets.*recorded/);
  assert.match(ok.warning, /Internal is recorded but not enforced \(start kuber-api with --network-policies true/);
  assert.is(normaliseCreate({ Name: 'plain' }, { isolation: false }).warning, '');
});

test('~> the record: object name derives from the name (a concurrent duplicate collides), round trip through decode', () => {
  assert.is(networkObjectName('inst', 'n'), networkObjectName('inst', 'n'));
  assert.is.not(networkObjectName('inst', 'n'), networkObjectName('inst', 'm'));
  const { config } = normaliseCreate({ Name: 'n', Labels: { x: 'y' } }, { isolation: false });
  const cm = networkObject({ namespace: 'ns', instance: 'inst' }, { id: 'a'.repeat(64), name: 'n', created, config });
  assert.is(cm.metadata.labels!['kuber-api.io/kind'], 'network');
  const back = decodeNetwork({ ...cm, metadata: { ...cm.metadata, uid: 'u1', resourceVersion: '7' } })!;
  assert.equal(
    [back.id, back.name, back.config.Labels, back.object],
    ['a'.repeat(64), 'n', { x: 'y' }, { name: cm.metadata.name, uid: 'u1', resourceVersion: '7' }],
  );
  assert.is(decodeNetwork({ metadata: { name: 'x', annotations: {} } } as any), undefined);
});

test('~> lookup as moby FindNetwork: full ID, exact name, unique ID prefix; 404 "network X not found"; ambiguous prefix 400', () => {
  const all = [...pre, mk('front', 'abc111'), mk('back', 'abc222'), mk('abc', 'fff000')];
  assert.is(findNetwork(all, 'abc111')!.name, 'front');
  assert.is(findNetwork(all, 'back')!.id, 'abc222');
  assert.is(findNetwork(all, 'abc')!.id, 'fff000'); // a name wins over an ID prefix
  assert.is(findNetwork(all, 'fff')!.name, 'abc');
  assert.equal(
    fail(() => resolveNetwork(all, 'nope')),
    { status: 404, message: 'network nope not found' },
  );
  assert.is(fail(() => findNetwork(all, 'ab')).status, 400);
});

test('~> list filters: name (substring), id, label, driver, type, dangling; unknown filter 400', () => {
  const all = [...pre, mk('proj_default', 'aaa1', { 'com.docker.compose.project': 'proj' }), mk('other', 'bbb2')];
  const inUse = (n: NetworkRecord) => n.name === 'other';
  const names = (f: Record<string, string[]>) => filterNetworks(all, f, inUse).map((n) => n.name);
  assert.equal(names({ name: ['proj'] }), ['proj_default']);
  assert.equal(names({ label: ['com.docker.compose.project=proj'] }), ['proj_default']);
  assert.equal(names({ driver: ['null'] }), ['none']);
  assert.equal(names({ type: ['custom'] }), ['proj_default', 'other']);
  assert.equal(names({ type: ['builtin'] }), ['bridge', 'host', 'none']);
  assert.equal(names({ dangling: ['true'] }), ['proj_default']);
  assert.equal(names({ id: ['bbb'] }), ['other']);
  assert.equal(
    fail(() => names({ color: ['x'] })),
    { status: 400, message: "invalid filter 'color'" },
  );
});

test('~> prune: custom networks without containers, label and until filters', () => {
  const all = [
    ...pre,
    mk('a', 'a1', { keep: '1' }, '2026-01-01T00:00:00Z'),
    mk('b', 'b1', {}, '2026-01-03T00:00:00Z'),
    mk('c', 'c1'),
  ];
  const inUse = (n: NetworkRecord) => n.name === 'c';
  assert.equal(
    pruneSelect(all, {}, inUse).map((n) => n.name),
    ['a', 'b'],
  );
  assert.equal(
    pruneSelect(all, { 'label!': ['keep'] }, inUse).map((n) => n.name),
    ['b'],
  );
  assert.equal(
    pruneSelect(all, { until: ['2026-01-02T00:00:00Z'] }, inUse).map((n) => n.name),
    ['a'],
  );
  assert.is(fail(() => pruneSelect(all, { dangling: ['1'] }, inUse)).status, 400);
});

test.run();
