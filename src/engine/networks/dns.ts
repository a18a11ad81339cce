/**
 * @module engine/networks/dns
 * Docker's embedded DNS on Kubernetes (pure planning; engine/networks/networks.ts applies the plan).
 *
 * On a user-defined Docker network a container answers to its name, its aliases and its short ID.
 * Kubernetes resolves names namespace-wide, so:
 * - A name that is a valid Service name (a DNS-1035 label: lower case, a letter first, at most
 *   63 characters; Docker names are matched case-insensitively, as DNS is) becomes a **headless
 *   Service** of that name (`clusterIP: None`, no ports: any port works, the name resolves to the
 *   pod IP, as in Docker; `publishNotReadyAddresses`, so a container with a failing health check
 *   still resolves, as in Docker). Its selector is a per-(network, name) label that kuber-api puts
 *   on the Pods of the containers holding that name on that network, so several containers
 *   sharing an alias resolve to all of them (Docker's round robin), and connect/disconnect/rename
 *   of a running container only relabel its Pod: resolution changes live.
 * - One Service name per namespace: when two networks use the same name (Docker allows it), the
 *   network that claimed it first keeps the Service (ties: the older network); a name taken by
 *   something else in the namespace (another kuber-api instance, a user's Service) is never
 *   touched. Containers of the other networks get the name as a **hostAlias** instead (/etc/hosts
 *   wins over DNS), pinned to the target's pod IP when their Pod is created.
 * - Names that are not Service names but are DNS-1123 subdomains (dots, a digit first, longer
 *   than 63: `db.local`, most short IDs) are hostAliases the same way. A hostAlias needs the
 *   target running when the client's Pod is created, and is not updated when the target gets a
 *   new IP (Pod specs are immutable).
 * - Names with other characters (`proj_web_1`: underscores) cannot be resolved by Kubernetes at all.
 * The default `bridge` network resolves no names (as in Docker); legacy `Links` become hostAliases.
 */
import { createHash } from 'node:crypto';
import type { KObject } from '../../kube/cache.js';
import { LABEL_INSTANCE, LABEL_KIND, LABEL_MANAGED_BY } from '../model/record.js';
import type { ContainerRecord } from '../model/types.js';
import { dnsNames, type Endpoint } from './endpoints.js';
import { LABEL_NETWORK, type NetworkRecord } from './model.js';
import { recordOwnerRef } from '../model/owner.js';

export const DNS_LABEL_PREFIX = 'kuber-api.io/dns-';
export const NET_LABEL_PREFIX = 'kuber-api.io/net-';
export const ANN_SVC_NETWORK = 'kuber-api.io/network-id';
export const ANN_SVC_NAME = 'kuber-api.io/dns-name';
export const ANN_SVC_DOCKER_NETWORK = 'kuber-api.io/docker-network';

/** A valid Service name (apimachinery IsDNS1035Label). */
export const isServiceName = (n: string) => n.length <= 63 && /^[a-z]([-a-z0-9]*[a-z0-9])?$/.test(n);
/** A valid hostAlias hostname (core/v1 validation: IsDNS1123Subdomain). */
export const isHostAliasName = (n: string) =>
  n.length <= 253 && /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/.test(n);

/** The Pod label that puts a container behind the Service of `name` on network `networkId`. */
export function dnsLabel(networkId: string, name: string): string {
  return DNS_LABEL_PREFIX + createHash('sha256').update(`${networkId}/${name}`).digest('hex').slice(0, 16);
}

/** The Pod label of a network membership (NetworkPolicy selectors, kubectl -l). */
export const netLabel = (networkId: string) => NET_LABEL_PREFIX + networkId.slice(0, 12);

/** A container as the planner sees it: its memberships and, while it runs, its pod IP. */
export interface Member {
  rec: ContainerRecord;
  endpoints: readonly Endpoint[];
  ip?: string;
}

export interface ServiceOwner {
  networkId: string;
  networkName: string;
  name: string;
  label: string;
}

/** Lower-cased DNS names of a member on one network. */
function namesOn(m: Member, ep: Endpoint, net: NetworkRecord | undefined): string[] {
  return [...new Set(dnsNames(m.rec, ep, net).map((n) => n.toLowerCase()))];
}

/**
 * The Services that should exist: name -> the network owning it. `current` maps the names of our
 * existing Services to their network (an existing owner keeps its name while it still claims it);
 * `foreign` holds names taken by objects that are not ours.
 */
export function planServices(
  members: readonly Member[],
  nets: readonly NetworkRecord[],
  current: ReadonlyMap<string, string>,
  foreign: ReadonlySet<string>,
): Map<string, ServiceOwner> {
  const byId = new Map(nets.map((n) => [n.id, n]));
  const claims = new Map<string, Set<string>>(); // name -> network ids
  for (const m of members) {
    for (const ep of m.endpoints) {
      const net = byId.get(ep.NetworkID);
      if (!net || net.predefined) continue;
      for (const n of namesOn(m, ep, net)) {
        if (!isServiceName(n) || foreign.has(n)) continue;
        let s = claims.get(n);
        if (!s) claims.set(n, (s = new Set()));
        s.add(net.id);
      }
    }
  }
  const out = new Map<string, ServiceOwner>();
  for (const [name, ids] of claims) {
    const cur = current.get(name);
    let owner = cur && ids.has(cur) ? cur : undefined;
    if (!owner) {
      owner = [...ids].sort((a, b) => {
        const x = byId.get(a)!,
          y = byId.get(b)!;
        return x.created < y.created ? -1 : x.created > y.created ? 1 : a < b ? -1 : 1;
      })[0]!;
    }
    const net = byId.get(owner)!;
    out.set(name, { networkId: owner, networkName: net.name, name, label: dnsLabel(owner, name) });
  }
  return out;
}

/** The network labels of a member's Pod: memberships and the (network, name) pairs it answers to. */
export function podNetworkLabels(m: Member, nets: readonly NetworkRecord[]): Record<string, string> {
  const byId = new Map(nets.map((n) => [n.id, n]));
  const out: Record<string, string> = {};
  for (const ep of m.endpoints) {
    if (!ep.NetworkID) continue;
    out[netLabel(ep.NetworkID)] = '1';
    const net = byId.get(ep.NetworkID);
    for (const n of namesOn(m, ep, net)) if (isServiceName(n)) out[dnsLabel(ep.NetworkID, n)] = '1';
  }
  return out;
}

/** Is `key` a label this module manages on Pods? */
export const isNetworkLabel = (key: string) => key.startsWith(DNS_LABEL_PREFIX) || key.startsWith(NET_LABEL_PREFIX);

/** `/self/alias` or `target:alias` (moby runconfig/opts ParseLink) -> [target, alias]. */
export function parseLink(link: string): [string, string] {
  const [a, b] = link.split(':', 2) as [string, string | undefined];
  const target = a.replace(/^\//, '');
  const alias = (b ?? a).split('/').pop()!;
  return [target, alias];
}

/**
 * The hostAliases of a member's new Pod: names of running peers that no Service of their network
 * serves (invalid Service names, names owned by another network or taken by someone else), and
 * legacy links. Pinned to the peers' current pod IPs.
 */
export function hostAliasesFor(
  m: Member,
  members: readonly Member[],
  nets: readonly NetworkRecord[],
  plan: ReadonlyMap<string, ServiceOwner>,
  peers = true,
): Array<{ ip: string; hostnames: string[] }> {
  const byId = new Map(nets.map((n) => [n.id, n]));
  const byIp = new Map<string, Set<string>>();
  const add = (ip: string, name: string) => {
    const n = name.toLowerCase();
    if (!isHostAliasName(n)) return;
    for (const set of byIp.values()) if (set.has(n)) return; // first wins, as in /etc/hosts
    let s = byIp.get(ip);
    if (!s) byIp.set(ip, (s = new Set()));
    s.add(n);
  };
  // With the embedded DNS serving (engine/dns), peers resolve there: only links are /etc/hosts entries.
  for (const ep of peers ? m.endpoints : []) {
    const net = byId.get(ep.NetworkID);
    if (!net || net.predefined) continue;
    for (const peer of members) {
      if (peer.rec.id === m.rec.id || !peer.ip) continue;
      const pep = peer.endpoints.find((e) => e.NetworkID === net.id);
      if (!pep) continue;
      for (const n of namesOn(peer, pep, net)) if (plan.get(n)?.networkId !== net.id) add(peer.ip, n);
    }
  }
  const links = [
    ...((m.rec.config.HostConfig?.Links as string[] | undefined) ?? []),
    ...m.endpoints.flatMap((e) => e.Links ?? []),
  ];
  for (const l of links) {
    const [target, alias] = parseLink(String(l));
    const peer = members.find(
      (p) => p.rec.name === target || p.rec.id === target || (target.length >= 12 && p.rec.id.startsWith(target)),
    );
    if (!peer?.ip) continue;
    add(peer.ip, alias);
    add(peer.ip, peer.rec.name);
  }
  return [...byIp].map(([ip, names]) => ({ ip, hostnames: [...names] }));
}

export interface DnsObjectContext {
  namespace: string;
  instance: string;
}

/** The headless Service of a name (owned by its network's record, so deleting the network GCs it). */
export function serviceObject(ctx: DnsObjectContext, o: ServiceOwner, net: NetworkRecord): KObject {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: {
      name: o.name,
      namespace: ctx.namespace,
      labels: {
        [LABEL_INSTANCE]: ctx.instance,
        [LABEL_KIND]: 'dns',
        [LABEL_NETWORK]: o.networkId.slice(0, 12),
        [LABEL_MANAGED_BY]: 'kuber-api',
      },
      annotations: { [ANN_SVC_NETWORK]: o.networkId, [ANN_SVC_NAME]: o.name, [ANN_SVC_DOCKER_NETWORK]: o.networkName },
      ...(net.object ? { ownerReferences: [recordOwnerRef(net.object)] } : {}),
    },
    spec: {
      clusterIP: 'None',
      selector: { [LABEL_INSTANCE]: ctx.instance, [o.label]: '1' },
      publishNotReadyAddresses: true,
    },
  };
}

/** Does an existing Service of ours already say what `want` says? */
export function serviceMatches(svc: KObject, want: KObject): boolean {
  const a = svc as { spec?: { selector?: Record<string, string>; publishNotReadyAddresses?: boolean } };
  const b = want as typeof a;
  return (
    JSON.stringify(a.spec?.selector ?? {}) === JSON.stringify(b.spec?.selector ?? {}) &&
    !!a.spec?.publishNotReadyAddresses === !!b.spec?.publishNotReadyAddresses &&
    svc.metadata.annotations?.[ANN_SVC_NETWORK] === want.metadata.annotations?.[ANN_SVC_NETWORK]
  );
}

/**
 * The NetworkPolicy of a network (opt-in: --network-policies true). Docker lets the containers of a
 * network reach each other and isolates networks from each other: the policy selects the
 * network's Pods and admits ingress from Pods of the same network and from kuber-api (published
 * ports dialled directly; pods/portforward enters the Pod's own network namespace and is not
 * subject to policies). A Pod on several networks is selected by several policies, whose rules
 * add up: it is reachable from all its networks, as in Docker. An Internal network also limits
 * egress to its members (and DNS). `none` denies everything. Enforcement is the CNI's: kube-sim
 * enforces none; clusters whose network plugin implements NetworkPolicy do.
 */
export function policyObject(ctx: DnsObjectContext, net: NetworkRecord, gatewayIp?: string): KObject | undefined {
  if (net.name === 'host') return undefined;
  const members = { matchLabels: { [LABEL_INSTANCE]: ctx.instance, [netLabel(net.id)]: '1' } };
  const spec: Record<string, unknown> =
    net.name === 'none'
      ? { podSelector: members, policyTypes: ['Ingress', 'Egress'] }
      : {
          podSelector: members,
          policyTypes: net.config.Internal ? ['Ingress', 'Egress'] : ['Ingress'],
          ingress: [
            {
              from: [
                { podSelector: members },
                ...(gatewayIp
                  ? [{ ipBlock: { cidr: gatewayIp.includes(':') ? `${gatewayIp}/128` : `${gatewayIp}/32` } }]
                  : []),
              ],
            },
          ],
          ...(net.config.Internal
            ? {
                egress: [
                  { to: [{ podSelector: members }] },
                  {
                    ports: [
                      { protocol: 'UDP', port: 53 },
                      { protocol: 'TCP', port: 53 },
                    ],
                  },
                ],
              }
            : {}),
        };
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: {
      name: `kapi-net-${net.id.slice(0, 12)}`,
      namespace: ctx.namespace,
      labels: {
        [LABEL_INSTANCE]: ctx.instance,
        [LABEL_KIND]: 'network-policy',
        [LABEL_NETWORK]: net.id.slice(0, 12),
        [LABEL_MANAGED_BY]: 'kuber-api',
      },
      annotations: { [ANN_SVC_DOCKER_NETWORK]: net.name },
      ...(net.object ? { ownerReferences: [recordOwnerRef(net.object)] } : {}),
    },
    spec,
  };
}
