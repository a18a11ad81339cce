/**
 * The NetworkPolicy controller (src/sim/network-policy/index.ts) on a bare store: without nft it
 * says why and enforces nothing (and never holds a pod back); with root and nft, a store change
 * reaches the table, a pod whose network was just attached (no IP in its status yet) gets its rules
 * before `podNetworkAdded` resolves, no policy means no wait, and stop() removes the table.
 */
import { execFileSync } from 'node:child_process';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { NetworkPolicyController } from '../../../src/sim/network-policy/index.js';
import { defOf } from '../../../src/sim/store/resources.js';
import { Store } from '../../../src/sim/store/store.js';

const NS = defOf({ group: '', resource: 'namespaces' });
const PODS = defOf({ group: '', resource: 'pods' });
const POLICIES = defOf({ group: 'networking.k8s.io', resource: 'networkpolicies' });

const canRun = (() => {
  if (process.getuid?.() !== 0) return false;
  try {
    execFileSync('nft', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();
const listTable = (name: string) => {
  try {
    return execFileSync('nft', ['list', 'table', 'inet', name], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    });
  } catch {
    return '';
  }
};

function storeWithPod(): Store {
  const store = new Store({ nodeName: 'n' });
  store.create(NS, undefined, { metadata: { name: 'b' } });
  store.create(defOf({ group: '', resource: 'serviceaccounts' }), 'b', { metadata: { name: 'default' } });
  store.create(PODS, 'b', {
    metadata: { name: 'web', labels: { app: 'web' } },
    spec: { schedulerName: 'manual', containers: [{ name: 'c', image: 'busybox' }] },
  });
  return store;
}

test('without nft: disabled with the reason, no table, podNetworkAdded does not wait', async () => {
  const path = process.env.PATH;
  process.env.PATH = '/nonexistent';
  const c = new NetworkPolicyController(storeWithPod());
  try {
    await c.start();
  } finally {
    process.env.PATH = path;
  }
  assert.ok(c.disabled, 'disabled');
  assert.match(c.disabled!, process.getuid?.() === 0 ? /nft is unavailable/ : /not running as root/);
  await c.podNetworkAdded({ metadata: { uid: 'x' } }, '10.244.9.9');
  await c.stop();
  if (canRun) assert.is(listTable(c.table), '');
});

const t = canRun ? test : test.skip;
if (!canRun) console.log('SKIP NetworkPolicy controller tests with nft: not root or no nft');

t(
  'a store change reaches the table; an attached pod gets its rules before podNetworkAdded resolves; stop removes the table',
  async () => {
    const store = storeWithPod();
    const c = new NetworkPolicyController(store, { debounceMs: 5 });
    await c.start();
    try {
      assert.is(c.disabled, undefined);
      assert.not.match(listTable(c.table), /vmap/);
      // No policy yet: a new pod does not wait (and is not in the table).
      const web = store.get(PODS, 'b', 'web')!;
      await c.podNetworkAdded(web, '10.244.9.20');
      assert.not.match(listTable(c.table), '10.244.9.20');
      store.create(POLICIES, 'b', { metadata: { name: 'deny' }, spec: { podSelector: {}, policyTypes: ['Ingress'] } });
      // The pod's status has no IP; the attached one is used.
      await c.podNetworkAdded(web, '10.244.9.20');
      assert.match(listTable(c.table), /ip daddr vmap \{ 10\.244\.9\.20 : jump ingress_0 \}/);
      // The status catches up; a label change is followed.
      store.mutate(
        PODS,
        'b',
        'web',
        (p: any) => (p.status = { ...(p.status ?? {}), podIP: '10.244.9.20', phase: 'Running' }),
      );
      store.create(POLICIES, 'b', {
        metadata: { name: 'allow' },
        spec: { podSelector: {}, ingress: [{ from: [{ podSelector: { matchLabels: { role: 'peer' } } }] }] },
      });
      store.create(PODS, 'b', {
        metadata: { name: 'peer', labels: {} },
        spec: { schedulerName: 'manual', containers: [{ name: 'c', image: 'busybox' }] },
      });
      store.mutate(PODS, 'b', 'peer', (p: any) => (p.status = { podIP: '10.244.9.21', phase: 'Running' }));
      await c.settled();
      assert.not.match(listTable(c.table), 'ip saddr 10.244.9.21 return');
      store.mutate(PODS, 'b', 'peer', (p: any) => (p.metadata.labels = { role: 'peer' }));
      await c.settled();
      assert.match(listTable(c.table), 'ip saddr 10.244.9.21 return');
    } finally {
      await c.stop();
    }
    assert.is(listTable(c.table), '');
  },
);

test.run();
