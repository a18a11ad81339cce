/**
 * @module sim/network-policy/compile
 * NetworkPolicy (networking.k8s.io/v1) semantics as a pure function: policies + pods + namespaces
 * -> the rule set of one simulator (what each isolated pod may receive and send). No I/O; render.ts
 * turns the result into nftables text.
 *
 * The semantics are the API's (k8s.io/api/networking/v1/types.go and the "Network Policies" concept
 * page):
 * - a pod is isolated for ingress when any policy of its namespace selects it (spec.podSelector)
 *   and has `Ingress` in its policyTypes; for egress likewise with `Egress`. policyTypes left empty
 *   defaults as the apiserver defaults it (pkg/apis/networking/v1/defaults.go SetDefaults_NetworkPolicy):
 *   Ingress always, Egress when spec.egress has rules;
 * - an isolated pod's allowed traffic is the union of the rules of every policy selecting it; with
 *   no rules it is default deny;
 * - a rule with no `from`/`to` matches every peer; with no `ports` every port and protocol;
 * - a peer is a podSelector (pods of the policy's namespace), a namespaceSelector (every pod of the
 *   matching namespaces), both (the selected pods of the selected namespaces), or an ipBlock (cidr
 *   minus except); an empty selector `{}` selects all;
 * - a port is a number (with endPort: a range) or a name; protocol defaults to TCP. A named port
 *   resolves against the pod receiving the traffic: the isolated pod for ingress, each destination
 *   pod for egress (so egress named ports become one rule per destination pod that has that port).
 * Only pods with a pod IP on the bridge take part (hostNetwork pods are the node: traffic to and
 * from the node is always allowed, as the concept page says, and never reaches the bridge's
 * forward path anyway); Succeeded/Failed pods have released their IPs.
 */
import { matchLabelSelectorObject } from '../store/selectors.js';
import { inCidr, mergeRanges, outermostCidrs, type PortRange } from './ranges.js';

type Obj = Record<string, any>;

export type Protocol = 'TCP' | 'UDP' | 'SCTP';

/** Ports of one protocol: `ranges` undefined means every port. */
export interface ProtoPorts {
  protocol: Protocol;
  ranges?: PortRange[];
}

/** The other end of an allowed flow: listed pod IPs, or a CIDR minus exceptions; undefined = anyone. */
export type Peer = { ips: string[] } | { cidr: string; except: string[] };

/** One allowed flow shape: a peer and its ports (`ports` undefined: every protocol and port). */
export interface Allow {
  peer?: Peer;
  ports?: ProtoPorts[];
}

/** An isolated pod in one direction: `allow` empty means deny all. */
export interface Isolation {
  ip: string;
  /** "namespace/name", for comments and tests. */
  pod: string;
  allow: Allow[];
}

export interface RuleSet {
  ingress: Isolation[];
  egress: Isolation[];
}

interface PodView {
  key: string;
  namespace: string;
  labels: Record<string, string>;
  ip: string;
  ports: Array<{ name?: string; containerPort: number; protocol: Protocol }>;
}

/** Does this pod take part (has a pod IP, not on the host network, not finished)? */
export function bridgePod(p: Obj): boolean {
  const phase = p.status?.phase;
  return !!p.status?.podIP && !p.spec?.hostNetwork && phase !== 'Succeeded' && phase !== 'Failed';
}

function podView(p: Obj): PodView {
  const containers = [
    ...(p.spec?.containers ?? []),
    ...(p.spec?.initContainers ?? []).filter((c: Obj) => c.restartPolicy === 'Always'),
  ];
  return {
    key: `${p.metadata.namespace}/${p.metadata.name}`,
    namespace: p.metadata.namespace,
    labels: p.metadata.labels ?? {},
    ip: p.status.podIP,
    ports: containers.flatMap((c: Obj) =>
      (c.ports ?? []).map((cp: Obj) => ({
        name: cp.name,
        containerPort: cp.containerPort,
        protocol: (cp.protocol ?? 'TCP') as Protocol,
      })),
    ),
  };
}

/** policyTypes as the apiserver defaults them. */
export function policyTypes(spec: Obj): Array<'Ingress' | 'Egress'> {
  if (Array.isArray(spec.policyTypes) && spec.policyTypes.length) return spec.policyTypes;
  return spec.egress?.length ? ['Ingress', 'Egress'] : ['Ingress'];
}

/** Compile every policy for the pods of one simulator. */
export function compile(policies: readonly Obj[], pods: readonly Obj[], namespaces: readonly Obj[]): RuleSet {
  const views = pods.filter(bridgePod).map(podView);
  const nsLabels = new Map<string, Record<string, string>>(
    namespaces.map((n) => [
      n.metadata.name,
      { 'kubernetes.io/metadata.name': n.metadata.name, ...(n.metadata.labels ?? {}) },
    ]),
  );
  const ctx: Ctx = { views, nsLabels };
  const out: RuleSet = { ingress: [], egress: [] };
  for (const pod of views) {
    const selecting = policies.filter(
      (pol) =>
        pol.metadata.namespace === pod.namespace && matchLabelSelectorObject(pol.spec?.podSelector ?? {}, pod.labels),
    );
    const ing = selecting.filter((pol) => policyTypes(pol.spec ?? {}).includes('Ingress'));
    const eg = selecting.filter((pol) => policyTypes(pol.spec ?? {}).includes('Egress'));
    if (ing.length)
      out.ingress.push({
        ip: pod.ip,
        pod: pod.key,
        allow: ing.flatMap((pol) => (pol.spec.ingress ?? []).flatMap((r: Obj) => ingressRule(ctx, pol, r, pod))),
      });
    if (eg.length)
      out.egress.push({
        ip: pod.ip,
        pod: pod.key,
        allow: eg.flatMap((pol) => (pol.spec.egress ?? []).flatMap((r: Obj) => egressRule(ctx, pol, r))),
      });
  }
  return out;
}

interface Ctx {
  views: PodView[];
  nsLabels: Map<string, Record<string, string>>;
}

/** A peer entry as the pods it selects (undefined for an ipBlock). */
function selectedPods(ctx: Ctx, policyNs: string, peer: Obj): PodView[] | undefined {
  if (peer.ipBlock) return undefined;
  const nsOk = (ns: string) =>
    peer.namespaceSelector ? matchLabelSelectorObject(peer.namespaceSelector, ctx.nsLabels.get(ns)) : ns === policyNs;
  const podOk = (p: PodView) => (peer.podSelector ? matchLabelSelectorObject(peer.podSelector, p.labels) : true);
  return ctx.views.filter((p) => nsOk(p.namespace) && podOk(p));
}

function blockPeer(b: Obj): Peer | undefined {
  const [cidr] = outermostCidrs([b.cidr]);
  if (!cidr) return undefined;
  const except = outermostCidrs(b.except ?? []).filter((e) => inCidr(e.split('/')[0]!, cidr));
  return { cidr, except };
}

/** Port entries resolved against one pod (named ports) or none; undefined = every port. */
function resolvePorts(
  ports: Obj[] | undefined,
  target: PodView | undefined,
  named: 'resolve' | 'skip',
): ProtoPorts[] | undefined {
  if (!ports?.length) return undefined;
  const by = new Map<Protocol, PortRange[] | 'all'>();
  const add = (proto: Protocol, r: PortRange | 'all') => {
    const cur = by.get(proto);
    if (r === 'all' || cur === 'all') by.set(proto, 'all');
    else by.set(proto, [...(cur ?? []), r]);
  };
  for (const p of ports) {
    const proto = (p.protocol ?? 'TCP') as Protocol;
    if (p.port === undefined || p.port === null) add(proto, 'all');
    else if (typeof p.port === 'number')
      add(proto, { lo: p.port, hi: typeof p.endPort === 'number' ? Math.max(p.port, p.endPort) : p.port });
    else if (/^\d+$/.test(p.port)) add(proto, { lo: Number(p.port), hi: Number(p.port) });
    else if (named === 'resolve' && target) {
      for (const cp of target.ports)
        if (cp.name === p.port && cp.protocol === proto) add(proto, { lo: cp.containerPort, hi: cp.containerPort });
    }
  }
  return [...by].map(([protocol, r]) => (r === 'all' ? { protocol } : { protocol, ranges: mergeRanges(r) }));
}

const hasNamed = (ports: Obj[] | undefined) =>
  (ports ?? []).some((p) => typeof p.port === 'string' && !/^\d+$/.test(p.port));

/** An ingress rule of `pol` for the isolated pod `pod`: named ports resolve on `pod`. */
function ingressRule(ctx: Ctx, pol: Obj, rule: Obj, pod: PodView): Allow[] {
  const ports = resolvePorts(rule.ports, pod, 'resolve');
  if (ports && !ports.length) return []; // only named ports the pod does not have: matches nothing
  return peersOf(ctx, pol, rule.from).map((peer) => ({ ...(peer ? { peer } : {}), ...(ports ? { ports } : {}) }));
}

/** An egress rule of `pol`: numbered ports as they are; named ports resolved per destination pod. */
function egressRule(ctx: Ctx, pol: Obj, rule: Obj): Allow[] {
  const out: Allow[] = [];
  const numbered = resolvePorts(rule.ports, undefined, 'skip');
  if (!numbered || numbered.length)
    for (const peer of peersOf(ctx, pol, rule.to))
      out.push({ ...(peer ? { peer } : {}), ...(numbered ? { ports: numbered } : {}) });
  if (!hasNamed(rule.ports)) return out;
  const namedOnly = (rule.ports as Obj[]).filter((p) => typeof p.port === 'string' && !/^\d+$/.test(p.port));
  for (const dest of destinationPods(ctx, pol, rule.to)) {
    const ports = resolvePorts(namedOnly, dest, 'resolve');
    if (ports?.length) out.push({ peer: { ips: [dest.ip] }, ports });
  }
  return out;
}

/** The peers of a rule: [undefined] (anyone) when the list is empty. Peers selecting no pod are dropped. */
function peersOf(ctx: Ctx, pol: Obj, list: Obj[] | undefined): Array<Peer | undefined> {
  if (!list?.length) return [undefined];
  const out: Peer[] = [];
  for (const entry of list) {
    const pods = selectedPods(ctx, pol.metadata.namespace, entry);
    if (pods === undefined) {
      const b = blockPeer(entry.ipBlock);
      if (b) out.push(b);
    } else if (pods.length) out.push({ ips: [...new Set(pods.map((p) => p.ip))].sort() });
  }
  return out;
}

/** The known pods an egress rule's peers cover (for named ports): selected pods, or pods inside an ipBlock. */
function destinationPods(ctx: Ctx, pol: Obj, list: Obj[] | undefined): PodView[] {
  if (!list?.length) return ctx.views;
  const out = new Map<string, PodView>();
  for (const entry of list) {
    const pods = selectedPods(ctx, pol.metadata.namespace, entry);
    const b = pods === undefined ? blockPeer(entry.ipBlock) : undefined;
    const inBlock = (p: PodView) =>
      !!b && 'cidr' in b && inCidr(p.ip, b.cidr) && !b.except.some((e) => inCidr(p.ip, e));
    for (const p of pods ?? ctx.views.filter(inBlock)) out.set(p.key, p);
  }
  return [...out.values()];
}
