/**
 * @module sim/network-policy/render
 * A RuleSet (compile.ts) as one nftables script for `nft -f`: the simulator's own `inet` table,
 * replaced atomically (the script declares the table, deletes it and declares it again, all in
 * one transaction, so no packet sees a half-applied set).
 *
 * Where it hooks: bridged pod-to-pod IPv4 traffic on kubesim0 passes the inet `forward` hook when
 * br_netfilter's `net.bridge.bridge-nf-call-iptables` is 1 (kernel net/bridge/br_netfilter_hooks.c),
 * which also gives it conntrack — as kube-router and the bridge CNI with kube-proxy rely on; traffic
 * routed off the machine passes `forward` too. The node itself, as Calico and Cilium treat it:
 * connections from the node to a pod (kubelet probes, port forwards, the test process) are always
 * allowed (they leave through the `output` hook, which is not filtered); connections from an
 * egress-isolated pod to the node (its addresses on the bridge: the gateway, kube-sim's DNS
 * addresses; its own IP) pass the `input` hook and its egress rules, so a default-deny egress pod
 * reaches the node only where a rule allows it (e.g. a DNS rule: port 53 to anyone).
 *
 * Layout: `forward` accepts established/related flows (replies of allowed connections: policies
 * are stateful), then sends a packet from an egress-isolated pod to that pod's egress chain and a
 * packet to an ingress-isolated pod to its ingress chain. Such a chain `return`s for an allowed
 * packet (the next check still runs: both ends must allow) and drops the rest. Several simulators'
 * tables see the same packets: each one drops only traffic of its own isolated pods and otherwise
 * accepts, so they compose (a drop in any base chain is final; an accept only ends that chain).
 */
import type { Allow, Isolation, ProtoPorts, RuleSet } from './compile.js';

const L4: Record<string, string> = { TCP: 'tcp', UDP: 'udp', SCTP: 'sctp' };

/** The nft script that makes `table` hold exactly `rules`. */
export function renderScript(table: string, rules: RuleSet): string {
  const lines = [`table inet ${table} {}`, `delete table inet ${table}`, `table inet ${table} {`];
  lines.push(
    '  chain forward {',
    '    type filter hook forward priority filter; policy accept;',
    '    ct state established,related accept',
  );
  const egress = rules.egress.map((iso, i) => ({ iso, chain: `egress_${i}` }));
  const ingress = rules.ingress.map((iso, i) => ({ iso, chain: `ingress_${i}` }));
  if (egress.length)
    lines.push(`    ip saddr vmap { ${egress.map((e) => `${e.iso.ip} : jump ${e.chain}`).join(', ')} }`);
  if (ingress.length)
    lines.push(`    ip daddr vmap { ${ingress.map((e) => `${e.iso.ip} : jump ${e.chain}`).join(', ')} }`);
  lines.push('  }');
  if (egress.length) {
    // To the node itself (its addresses on the bridge, its own IP): the pod's egress policy applies.
    lines.push(
      '  chain input {',
      '    type filter hook input priority filter; policy accept;',
      '    ct state established,related accept',
    );
    lines.push(`    ip saddr vmap { ${egress.map((e) => `${e.iso.ip} : jump ${e.chain}`).join(', ')} }`, '  }');
  }
  for (const { iso, chain } of egress) lines.push(...isolationChain(chain, iso, 'daddr'));
  for (const { iso, chain } of ingress) lines.push(...isolationChain(chain, iso, 'saddr'));
  lines.push('}');
  return lines.join('\n') + '\n';
}

/** The script that removes `table` (nothing if it is absent: declared first). */
export function deleteScript(table: string): string {
  return `table inet ${table} {}\ndelete table inet ${table}\n`;
}

/** One pod's chain: `peerField` is the other end's address (daddr for egress, saddr for ingress). */
function isolationChain(chain: string, iso: Isolation, peerField: 'saddr' | 'daddr'): string[] {
  const out = [
    `  chain ${chain} {`,
    `    comment ${JSON.stringify(`${peerField === 'daddr' ? 'egress' : 'ingress'} ${iso.pod}`)}`,
  ];
  for (const a of iso.allow) for (const r of allowRules(a, peerField)) out.push(`    ${r}`);
  out.push('    drop', '  }');
  return out;
}

/** One Allow as nft rules (one per protocol when ports are given), each ending in `return`. */
export function allowRules(a: Allow, peerField: 'saddr' | 'daddr'): string[] {
  const peer = peerMatch(a, peerField);
  if (!a.ports) return [[peer, 'return'].filter(Boolean).join(' ')];
  return a.ports.map((p) => [peer, portMatch(p), 'return'].filter(Boolean).join(' '));
}

function peerMatch(a: Allow, field: 'saddr' | 'daddr'): string {
  if (!a.peer) return '';
  if ('ips' in a.peer) return `ip ${field} ${set(a.peer.ips)}`;
  const base = `ip ${field} ${a.peer.cidr}`;
  return a.peer.except.length ? `${base} ip ${field} != ${set(a.peer.except)}` : base;
}

function portMatch(p: ProtoPorts): string {
  const l4 = L4[p.protocol]!;
  if (!p.ranges) return `meta l4proto ${l4}`;
  return `${l4} dport ${set(p.ranges.map((r) => (r.lo === r.hi ? String(r.lo) : `${r.lo}-${r.hi}`)))}`;
}

const set = (items: readonly string[]) => (items.length === 1 ? items[0]! : `{ ${items.join(', ')} }`);
