/**
 * kube-sim's cluster DNS (src/sim/kubelet/cluster-dns.ts), answered without sockets: Service
 * names under cluster.local from the store's Services and Pods, NXDOMAIN for the rest of the
 * cluster domain, FORMERR for junk.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ClusterDns, serviceAddresses } from '../../../src/sim/kubelet/cluster-dns.js';
import { RCODE_FORMERR, RCODE_NXDOMAIN, TYPE_A, TYPE_AAAA } from '../../../src/engine/dns/packet.js';
import { buildQuery, decode } from '../../helpers/dns-client.js';
import type { KObject } from '../../../src/sim/types.js';

const pod = (name: string, ip: string, labels: Record<string, string>, phase = 'Running'): KObject =>
  ({
    metadata: { name, namespace: 'ns', labels, creationTimestamp: `2026-01-01T00:00:0${name.length}Z` },
    status: { phase, podIP: ip },
  }) as unknown as KObject;
const svc = (name: string, spec: Record<string, unknown>): KObject =>
  ({ metadata: { name, namespace: 'ns' }, spec }) as unknown as KObject;
const services = new Map([
  ['api', svc('api', { clusterIP: '10.96.0.20', selector: { app: 'api' } })],
  ['db', svc('db', { clusterIP: 'None', selector: { app: 'db' } })],
  ['ext', svc('ext', { clusterIP: '10.96.0.30' })],
]);
const pods = [
  pod('a1', '10.244.1.1', { app: 'api' }),
  pod('d1', '10.244.2.1', { app: 'db' }),
  pod('d22', '10.244.2.2', { app: 'db' }),
  pod('d3', '10.244.2.3', { app: 'db' }, 'Pending'),
];
const src = { service: (ns: string, n: string) => (ns === 'ns' ? services.get(n) : undefined), pods: () => pods };

test('~> Service addresses: a selected running pod (no kube-proxy), every pod of a headless Service, else the ClusterIP', () => {
  assert.equal(serviceAddresses(src, 'api.ns.svc.cluster.local'), ['10.244.1.1']);
  assert.equal(serviceAddresses(src, 'db.ns.svc.cluster.local'), ['10.244.2.1', '10.244.2.2']);
  assert.equal(serviceAddresses(src, 'ext.ns.svc.cluster.local'), ['10.96.0.30']);
  assert.is(serviceAddresses(src, 'nope.ns.svc.cluster.local'), undefined);
  assert.is(serviceAddresses(src, 'api.other.svc.cluster.local'), undefined);
});

test('~> answers: A records, AAAA empty, NXDOMAIN inside cluster.local, FORMERR for junk', async () => {
  const dns = new ClusterDns(src);
  const a = decode((await dns.answer(buildQuery('API.ns.svc.cluster.local', TYPE_A, { id: 11 })))!);
  assert.equal([a.id, a.rcode, a.aa, a.answers.map((x) => x.data)], [11, 0, true, ['10.244.1.1']]);
  const six = decode((await dns.answer(buildQuery('api.ns.svc.cluster.local', TYPE_AAAA)))!);
  assert.equal([six.rcode, six.answers.length], [0, 0]);
  assert.is(decode((await dns.answer(buildQuery('nope.ns.svc.cluster.local', TYPE_A)))!).rcode, RCODE_NXDOMAIN);
  assert.is(decode((await dns.answer(Buffer.concat([buildQuery('x', TYPE_A).subarray(0, 13)])))!).rcode, RCODE_FORMERR);
});

test.run();
