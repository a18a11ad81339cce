/**
 * The kubelet-managed resolv.conf (src/sim/kubelet/hosts.ts resolvConf), as the kubelet writes it
 * (pkg/kubelet/network/dns/dns.go): ClusterFirst, None with dnsConfig alone, dnsConfig appended.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { resolvConf } from '../../../src/sim/kubelet/hosts.js';
import type { KObject } from '../../../src/sim/types.js';

const pod = (spec: Record<string, unknown>) =>
  ({ metadata: { name: 'p', namespace: 'ci' }, spec }) as unknown as KObject;

test('~> dnsPolicy None: nameservers, searches and options from dnsConfig only', () => {
  const text = resolvConf(
    pod({
      dnsPolicy: 'None',
      dnsConfig: {
        nameservers: ['10.244.9.9'],
        searches: ['ci.svc.cluster.local', 'svc.cluster.local', 'cluster.local'],
        options: [{ name: 'ndots', value: '5' }, { name: 'edns0' }],
      },
    }),
    '10.244.0.1',
    false,
  );
  assert.is(
    text,
    'search ci.svc.cluster.local svc.cluster.local cluster.local\nnameserver 10.244.9.9\noptions ndots:5 edns0\n',
  );
});

test('~> ClusterFirst: the cluster nameserver and search list, dnsConfig appended', () => {
  assert.is(
    resolvConf(pod({}), '10.244.0.1', false),
    'search ci.svc.cluster.local svc.cluster.local cluster.local\nnameserver 10.244.0.1\noptions ndots:5\n',
  );
  assert.is(
    resolvConf(
      pod({ dnsConfig: { searches: ['corp.example'], options: [{ name: 'timeout', value: '1' }] } }),
      '10.244.0.1',
      false,
    ),
    'search ci.svc.cluster.local svc.cluster.local cluster.local corp.example\nnameserver 10.244.0.1\noptions ndots:5 timeout:1\n',
  );
});

test.run();
