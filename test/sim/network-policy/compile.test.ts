/**
 * The NetworkPolicy compiler (src/sim/network-policy/compile.ts), pure: which pods are isolated in
 * which direction, policyTypes defaulting, union of rules, peers (podSelector, namespaceSelector,
 * both, ipBlock with except), ports (numbers, endPort ranges merged, named ports resolved on the
 * receiving pod, protocols, port-less protocol entries), pods that take no part.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { compile, policyTypes, type RuleSet } from '../../../src/sim/network-policy/compile.js';

type Obj = Record<string, any>;
const pod = (
  ns: string,
  name: string,
  labels: Record<string, string>,
  ip: string,
  ports: Obj[] = [],
  extra: Obj = {},
): Obj => ({
  metadata: { namespace: ns, name, labels },
  spec: { containers: [{ name: 'c', ports }], ...(extra.spec ?? {}) },
  status: { podIP: ip, phase: 'Running', ...(extra.status ?? {}) },
});
const ns = (name: string, labels: Record<string, string> = {}): Obj => ({ metadata: { name, labels } });
const pol = (namespace: string, name: string, spec: Obj): Obj => ({ metadata: { namespace, name }, spec });

const PODS = [
  pod('a', 'client', { app: 'client' }, '10.244.0.10'),
  pod('a', 'other', { app: 'other' }, '10.244.0.11'),
  pod('b', 'web', { app: 'web' }, '10.244.0.20', [
    { name: 'http', containerPort: 8080 },
    { name: 'dns', containerPort: 53, protocol: 'UDP' },
  ]),
  pod('b', 'db', { app: 'db' }, '10.244.0.21', [{ name: 'http', containerPort: 9090 }]),
];
const NSS = [ns('a', { team: 'a' }), ns('b', { team: 'b' })];
const isolated = (rs: RuleSet) => ({ ingress: rs.ingress.map((i) => i.pod), egress: rs.egress.map((i) => i.pod) });

test('no policy: nobody is isolated', () => {
  assert.equal(compile([], PODS, NSS), { ingress: [], egress: [] });
});

test('policyTypes default as the apiserver defaults them: Ingress, plus Egress when egress rules exist', () => {
  assert.equal(policyTypes({}), ['Ingress']);
  assert.equal(policyTypes({ egress: [{}] }), ['Ingress', 'Egress']);
  assert.equal(policyTypes({ policyTypes: ['Egress'] }), ['Egress']);
  assert.equal(policyTypes({ policyTypes: [], egress: [] }), ['Ingress']);
});

test('default deny in b: every pod of b isolated for ingress with no allow; a untouched; egress only with Egress', () => {
  const rs = compile([pol('b', 'deny', { podSelector: {} })], PODS, NSS);
  assert.equal(isolated(rs), { ingress: ['b/web', 'b/db'], egress: [] });
  assert.equal(rs.ingress[0]!.allow, []);
  const both = compile([pol('b', 'deny', { podSelector: {}, policyTypes: ['Ingress', 'Egress'] })], PODS, NSS);
  assert.equal(isolated(both), { ingress: ['b/web', 'b/db'], egress: ['b/web', 'b/db'] });
  const eg = compile(
    [pol('a', 'deny-egress', { podSelector: { matchLabels: { app: 'client' } }, policyTypes: ['Egress'] })],
    PODS,
    NSS,
  );
  assert.equal(isolated(eg), { ingress: [], egress: ['a/client'] });
});

test('a rule with no from and no ports allows everyone on every port', () => {
  const rs = compile([pol('b', 'all', { podSelector: { matchLabels: { app: 'web' } }, ingress: [{}] })], PODS, NSS);
  assert.equal(rs.ingress, [{ ip: '10.244.0.20', pod: 'b/web', allow: [{}] }]);
});

test('peers: podSelector is the policy namespace; namespaceSelector every pod there; both is the intersection', () => {
  const spec = (from: Obj[]) =>
    compile([pol('b', 'p', { podSelector: { matchLabels: { app: 'web' } }, ingress: [{ from }] })], PODS, NSS)
      .ingress[0]!.allow;
  assert.equal(spec([{ podSelector: { matchLabels: { app: 'db' } } }]), [{ peer: { ips: ['10.244.0.21'] } }]);
  assert.equal(
    spec([{ podSelector: { matchLabels: { app: 'client' } } }]),
    [],
    'no pod of b has app=client: matches nothing',
  );
  assert.equal(spec([{ namespaceSelector: { matchLabels: { team: 'a' } } }]), [
    { peer: { ips: ['10.244.0.10', '10.244.0.11'] } },
  ]);
  assert.equal(
    spec([{ namespaceSelector: { matchLabels: { team: 'a' } }, podSelector: { matchLabels: { app: 'client' } } }]),
    [{ peer: { ips: ['10.244.0.10'] } }],
  );
  assert.equal(spec([{ namespaceSelector: {} }]), [
    { peer: { ips: ['10.244.0.10', '10.244.0.11', '10.244.0.20', '10.244.0.21'] } },
  ]);
  assert.equal(
    spec([
      {
        namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'a' } },
        podSelector: { matchExpressions: [{ key: 'app', operator: 'NotIn', values: ['client'] }] },
      },
    ]),
    [{ peer: { ips: ['10.244.0.11'] } }],
  );
});

test('ipBlock: canonical cidr, except entries inside it only and not nested in each other', () => {
  const rs = compile(
    [
      pol('b', 'p', {
        podSelector: { matchLabels: { app: 'web' } },
        ingress: [
          { from: [{ ipBlock: { cidr: '10.1.2.3/8', except: ['10.1.0.0/16', '10.1.2.0/24', '192.168.0.0/16'] } }] },
        ],
      }),
    ],
    PODS,
    NSS,
  );
  assert.equal(rs.ingress[0]!.allow, [{ peer: { cidr: '10.0.0.0/8', except: ['10.1.0.0/16'] } }]);
});

test('ports: numbers, endPort ranges merged, protocols, named ports resolved on the receiving pod', () => {
  const ports = [
    { port: 'http' },
    { port: 1000, endPort: 2000 },
    { port: 1500 },
    { port: 2001 },
    { port: 'dns', protocol: 'UDP' },
    { protocol: 'SCTP' },
    { port: 'nope' },
  ];
  const rs = compile([pol('b', 'p', { podSelector: {}, ingress: [{ ports }] })], PODS, NSS);
  const byPod = Object.fromEntries(rs.ingress.map((i) => [i.pod, i.allow]));
  assert.equal(byPod['b/web'], [
    {
      ports: [
        {
          protocol: 'TCP',
          ranges: [
            { lo: 1000, hi: 2001 },
            { lo: 8080, hi: 8080 },
          ],
        },
        { protocol: 'UDP', ranges: [{ lo: 53, hi: 53 }] },
        { protocol: 'SCTP' },
      ],
    },
  ]);
  assert.equal(byPod['b/db'], [
    {
      ports: [
        {
          protocol: 'TCP',
          ranges: [
            { lo: 1000, hi: 2001 },
            { lo: 9090, hi: 9090 },
          ],
        },
        { protocol: 'SCTP' },
      ],
    },
  ]);
  const onlyMissing = compile(
    [pol('b', 'p', { podSelector: {}, ingress: [{ ports: [{ port: 'nope' }] }] })],
    PODS,
    NSS,
  );
  assert.equal(onlyMissing.ingress[0]!.allow, [], 'a named port no container has matches nothing (still isolated)');
});

test('egress named ports resolve per destination pod; numbered ones go with the peer', () => {
  const rs = compile(
    [
      pol('a', 'p', {
        podSelector: { matchLabels: { app: 'client' } },
        policyTypes: ['Egress'],
        egress: [
          { to: [{ namespaceSelector: { matchLabels: { team: 'b' } } }], ports: [{ port: 'http' }, { port: 443 }] },
        ],
      }),
    ],
    PODS,
    NSS,
  );
  assert.equal(rs.egress[0]!.allow, [
    { peer: { ips: ['10.244.0.20', '10.244.0.21'] }, ports: [{ protocol: 'TCP', ranges: [{ lo: 443, hi: 443 }] }] },
    { peer: { ips: ['10.244.0.20'] }, ports: [{ protocol: 'TCP', ranges: [{ lo: 8080, hi: 8080 }] }] },
    { peer: { ips: ['10.244.0.21'] }, ports: [{ protocol: 'TCP', ranges: [{ lo: 9090, hi: 9090 }] }] },
  ]);
});

test('DNS egress rule: port 53 UDP and TCP to anyone', () => {
  const rs = compile(
    [
      pol('a', 'dns', {
        podSelector: {},
        policyTypes: ['Egress'],
        egress: [
          {
            ports: [
              { port: 53, protocol: 'UDP' },
              { port: 53, protocol: 'TCP' },
            ],
          },
        ],
      }),
    ],
    PODS,
    NSS,
  );
  assert.equal(
    rs.egress.map((e) => e.allow),
    [0, 1].map(() => [
      {
        ports: [
          { protocol: 'UDP', ranges: [{ lo: 53, hi: 53 }] },
          { protocol: 'TCP', ranges: [{ lo: 53, hi: 53 }] },
        ],
      },
    ]),
  );
});

test('union: two policies selecting a pod add up; a policy of another namespace does not select', () => {
  const rs = compile(
    [
      pol('b', 'one', {
        podSelector: { matchLabels: { app: 'web' } },
        ingress: [{ from: [{ podSelector: { matchLabels: { app: 'db' } } }] }],
      }),
      pol('b', 'two', { podSelector: {}, ingress: [{ from: [{ ipBlock: { cidr: '192.168.0.0/16' } }] }] }),
      pol('a', 'elsewhere', { podSelector: {}, ingress: [] }),
    ],
    PODS,
    NSS,
  );
  const web = rs.ingress.find((i) => i.pod === 'b/web')!;
  assert.equal(web.allow, [{ peer: { ips: ['10.244.0.21'] } }, { peer: { cidr: '192.168.0.0/16', except: [] } }]);
  assert.equal(
    isolated(rs).ingress,
    ['a/client', 'a/other', 'b/web', 'b/db'],
    "a's policy with no rules isolates a's pods",
  );
});

test('pods without an IP, on the host network or finished take no part (neither isolated nor peers)', () => {
  const pods = [
    ...PODS,
    pod('a', 'pending', { app: 'client' }, ''),
    pod('a', 'host', { app: 'client' }, '192.168.1.5', [], { spec: { hostNetwork: true } }),
    pod('a', 'done', { app: 'client' }, '10.244.0.99', [], { status: { phase: 'Succeeded' } }),
  ];
  const rs = compile(
    [
      pol('a', 'p', {
        podSelector: { matchLabels: { app: 'client' } },
        ingress: [{ from: [{ podSelector: { matchLabels: { app: 'client' } } }] }],
      }),
    ],
    pods,
    NSS,
  );
  assert.equal(rs.ingress, [{ ip: '10.244.0.10', pod: 'a/client', allow: [{ peer: { ips: ['10.244.0.10'] } }] }]);
});

test('a namespace without labels still matches on kubernetes.io/metadata.name', () => {
  const rs = compile(
    [
      pol('b', 'p', {
        podSelector: { matchLabels: { app: 'web' } },
        ingress: [{ from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'a' } } }] }],
      }),
    ],
    PODS,
    [ns('a'), ns('b')],
  );
  assert.equal(rs.ingress[0]!.allow, [{ peer: { ips: ['10.244.0.10', '10.244.0.11'] } }]);
});

test.run();
