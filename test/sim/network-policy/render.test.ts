/**
 * The nftables renderer (src/sim/network-policy/render.ts) and the value helpers (ranges.ts):
 * the exact script for a rule set, one rule per protocol, sets and intervals, except lists, and
 * — when nft is installed and we are root — `nft -c` (check only, nothing applied) accepts what
 * is rendered, including sets with adjacent ranges.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { compile, type RuleSet } from '../../../src/sim/network-policy/compile.js';
import { allowRules, deleteScript, renderScript } from '../../../src/sim/network-policy/render.js';
import { canonicalCidr, inCidr, mergeRanges, outermostCidrs } from '../../../src/sim/network-policy/ranges.js';

const canCheck = (() => {
  if (process.getuid?.() !== 0) return false;
  try {
    execFileSync('nft', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();
const nftCheck = (script: string) => spawnSync('nft', ['-c', '-f', '-'], { input: script, encoding: 'utf8' });

test('ranges: merged when overlapping or adjacent; cidrs canonical, contained ones dropped', () => {
  assert.equal(
    mergeRanges([
      { lo: 80, hi: 80 },
      { lo: 10, hi: 20 },
      { lo: 15, hi: 30 },
      { lo: 31, hi: 31 },
      { lo: 81, hi: 90 },
    ]),
    [
      { lo: 10, hi: 31 },
      { lo: 80, hi: 90 },
    ],
  );
  assert.is(canonicalCidr('10.1.2.3/16'), '10.1.0.0/16');
  assert.is(canonicalCidr('10.1.2.3'), '10.1.2.3/32');
  assert.is(canonicalCidr('fd00::/8'), undefined);
  assert.is(canonicalCidr('10.0.0.0/33'), undefined);
  assert.ok(inCidr('10.244.3.4', '10.244.0.0/16'));
  assert.not.ok(inCidr('10.245.3.4', '10.244.0.0/16'));
  assert.ok(inCidr('1.2.3.4', '0.0.0.0/0'));
  assert.equal(outermostCidrs(['10.1.2.0/24', '10.1.0.0/16', '10.1.0.0/16', '10.2.0.0/16']), [
    '10.1.0.0/16',
    '10.2.0.0/16',
  ]);
});

test('allow rules: peer sets, except, one rule per protocol, every port of a protocol, return verdicts', () => {
  assert.equal(allowRules({}, 'saddr'), ['return']);
  assert.equal(allowRules({ peer: { ips: ['10.244.0.1'] } }, 'saddr'), ['ip saddr 10.244.0.1 return']);
  assert.equal(allowRules({ peer: { ips: ['10.244.0.1', '10.244.0.2'] } }, 'daddr'), [
    'ip daddr { 10.244.0.1, 10.244.0.2 } return',
  ]);
  assert.equal(allowRules({ peer: { cidr: '10.0.0.0/8', except: ['10.1.0.0/16', '10.2.0.0/16'] } }, 'daddr'), [
    'ip daddr 10.0.0.0/8 ip daddr != { 10.1.0.0/16, 10.2.0.0/16 } return',
  ]);
  assert.equal(
    allowRules(
      {
        ports: [
          {
            protocol: 'TCP',
            ranges: [
              { lo: 80, hi: 80 },
              { lo: 1000, hi: 2000 },
            ],
          },
          { protocol: 'UDP', ranges: [{ lo: 53, hi: 53 }] },
          { protocol: 'SCTP' },
        ],
      },
      'saddr',
    ),
    ['tcp dport { 80, 1000-2000 } return', 'udp dport 53 return', 'meta l4proto sctp return'],
  );
});

test('the script replaces the table atomically and sends isolated pods to their chains (egress to the node too)', () => {
  const rs: RuleSet = {
    ingress: [
      {
        ip: '10.244.0.20',
        pod: 'b/web',
        allow: [{ peer: { ips: ['10.244.0.10'] }, ports: [{ protocol: 'TCP', ranges: [{ lo: 8080, hi: 8080 }] }] }],
      },
    ],
    egress: [{ ip: '10.244.0.10', pod: 'a/client', allow: [] }],
  };
  assert.is(
    renderScript('kubesim_np_t', rs),
    [
      'table inet kubesim_np_t {}',
      'delete table inet kubesim_np_t',
      'table inet kubesim_np_t {',
      '  chain forward {',
      '    type filter hook forward priority filter; policy accept;',
      '    ct state established,related accept',
      '    ip saddr vmap { 10.244.0.10 : jump egress_0 }',
      '    ip daddr vmap { 10.244.0.20 : jump ingress_0 }',
      '  }',
      '  chain input {',
      '    type filter hook input priority filter; policy accept;',
      '    ct state established,related accept',
      '    ip saddr vmap { 10.244.0.10 : jump egress_0 }',
      '  }',
      '  chain egress_0 {',
      '    comment "egress a/client"',
      '    drop',
      '  }',
      '  chain ingress_0 {',
      '    comment "ingress b/web"',
      '    ip saddr 10.244.0.10 tcp dport 8080 return',
      '    drop',
      '  }',
      '}',
      '',
    ].join('\n'),
  );
  assert.is(deleteScript('kubesim_np_t'), 'table inet kubesim_np_t {}\ndelete table inet kubesim_np_t\n');
  const empty = renderScript('kubesim_np_t', { ingress: [], egress: [] });
  assert.not.match(empty, /vmap/);
  assert.not.match(
    renderScript('kubesim_np_t', { ingress: rs.ingress, egress: [] }),
    /hook input/,
    'no egress isolation: nothing on the input hook',
  );
});

const t = canCheck ? test : test.skip;
if (!canCheck) console.log('SKIP nft -c checks: not root or no nft');

t('nft -c accepts a compiled rule set with every kind of peer and port', () => {
  const pod = (ns: string, name: string, labels: Record<string, string>, ip: string, ports: unknown[] = []) => ({
    metadata: { namespace: ns, name, labels },
    spec: { containers: [{ name: 'c', ports }] },
    status: { podIP: ip, phase: 'Running' },
  });
  const pods = [
    pod('a', 'x', { app: 'x' }, '10.244.7.1'),
    pod('b', 'y', { app: 'y' }, '10.244.7.2', [{ name: 'http', containerPort: 8080 }]),
    pod('b', 'z', {}, '10.244.7.3'),
  ];
  const spec = {
    podSelector: {},
    policyTypes: ['Ingress', 'Egress'],
    ingress: [
      {
        from: [{ namespaceSelector: {} }, { ipBlock: { cidr: '10.0.0.0/8', except: ['10.1.0.0/16', '10.1.2.0/24'] } }],
        ports: [
          { port: 'http' },
          { port: 1000, endPort: 2000 },
          { port: 2001 },
          { port: 53, protocol: 'UDP' },
          { protocol: 'SCTP' },
        ],
      },
      {},
    ],
    egress: [
      {
        ports: [
          { port: 53, protocol: 'UDP' },
          { port: 53, protocol: 'TCP' },
        ],
      },
      { to: [{ podSelector: {} }], ports: [{ port: 'http' }] },
    ],
  };
  const rs = compile([{ metadata: { namespace: 'b', name: 'p' }, spec }], pods, [
    { metadata: { name: 'a' } },
    { metadata: { name: 'b' } },
  ]);
  const r = nftCheck(renderScript(`kubesim_np_check_${process.pid}`, rs));
  assert.is(r.status, 0, r.stderr);
});

test.run();
