/**
 * @module engine/networks/model
 * Docker networks as kuber-api keeps them (pure): one ConfigMap per user-defined network is its
 * durable record (`kapi-net-<hash of instance and name>`: the name decides the object name, so
 * two concurrent creates of one name cannot both succeed), labelled with the instance; the
 * predefined `bridge`, `host` and `none` networks are not stored (their IDs derive from the
 * instance, so they are stable across restarts). Lookup, filters, validation of the create body
 * and the inspect/list JSON follow moby (daemon/network.go, daemon/network/filter.go,
 * api/types/network Inspect).
 *
 * Every network is the cluster's pod network underneath: addresses come from the cluster, and
 * what a Docker network changes is who can resolve whom (engine/networks/dns.ts) and, when
 * NetworkPolicies are enabled, who can reach whom.
 */
import { createHash } from 'node:crypto';
import { conflict, invalid, notFound, notImplemented, EngineError } from '../../errors.js';
import type { KObject } from '../../kube/cache.js';
import { LABEL_INSTANCE, LABEL_KIND, LABEL_MANAGED_BY, type RecordContext } from '../model/record.js';
import { match, matchLabels } from '../model/filters.js';
import { podOwnerRefs } from '../model/owner.js';

export const LABEL_NETWORK = 'kuber-api.io/network';
export const ANN_NET_ID = 'kuber-api.io/id';
export const ANN_NET_NAME = 'kuber-api.io/name';
export const ANN_NET_CREATED = 'kuber-api.io/created';
export const ANN_NET_CONFIG = 'kuber-api.io/network-config';

export const PREDEFINED = ['bridge', 'host', 'none'] as const;
export type Predefined = (typeof PREDEFINED)[number];
export const isPredefined = (name: string): name is Predefined => (PREDEFINED as readonly string[]).includes(name);

export interface IpamConfig {
  Subnet?: string;
  IPRange?: string;
  Gateway?: string;
  AuxiliaryAddresses?: Record<string, string>;
}

/** What a network was created with (moby network.CreateRequest, normalised). */
export interface NetworkConfig {
  Driver: string;
  Scope: 'local';
  EnableIPv6: boolean;
  IPAM: { Driver: string; Options: Record<string, string> | null; Config: IpamConfig[] | null };
  Internal: boolean;
  Attachable: boolean;
  Ingress: boolean;
  ConfigFrom: { Network: string };
  ConfigOnly: boolean;
  Options: Record<string, string>;
  Labels: Record<string, string>;
}

export interface NetworkRecord {
  id: string;
  name: string;
  created: string;
  config: NetworkConfig;
  predefined: boolean;
  /** The ConfigMap (absent for predefined networks). */
  object?: { name: string; uid: string; resourceVersion: string };
}

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

/** The ConfigMap name of network `name`: derived from the name, so the name is unique per instance. */
export function networkObjectName(instance: string, name: string): string {
  return `kapi-net-${sha256(`${instance}\0${name}`).slice(0, 20)}`;
}

export function networkSelector(instance: string): string {
  return `${LABEL_INSTANCE}=${instance},${LABEL_KIND}=network`;
}

/** The predefined networks of an instance: IDs derived from the instance (stable across restarts). */
export function predefinedNetworks(instance: string, created: string, gatewayIp?: string): NetworkRecord[] {
  return PREDEFINED.map((name) => {
    const config = baseConfig({ Driver: name === 'bridge' ? 'bridge' : name === 'host' ? 'host' : 'null' });
    if (name === 'bridge') {
      config.IPAM.Config = podNetworkIpam(gatewayIp);
      config.Options = {
        'com.docker.network.bridge.default_bridge': 'true',
        'com.docker.network.bridge.enable_icc': 'true',
        'com.docker.network.bridge.enable_ip_masquerade': 'true',
        'com.docker.network.bridge.host_binding_ipv4': '0.0.0.0',
        'com.docker.network.bridge.name': 'docker0',
        'com.docker.network.driver.mtu': '1500',
      };
    }
    return { id: sha256(`${instance}/predefined/${name}`), name, created, config, predefined: true };
  });
}

/**
 * The IPAM of the pod network as Docker would show a bridge: the gateway is the address at which
 * containers reach kuber-api (its pod IP), the subnet the /16 around it (kuber-api does not read
 * the cluster's pod CIDR; nothing routes by it). Unknown gateway: no IPAM config.
 */
export function podNetworkIpam(gatewayIp?: string): IpamConfig[] | null {
  if (!gatewayIp || !/^\d+\.\d+\.\d+\.\d+$/.test(gatewayIp)) return gatewayIp ? [{ Gateway: gatewayIp }] : null;
  const [a, b] = gatewayIp.split('.');
  return [{ Subnet: `${a}.${b}.0.0/16`, Gateway: gatewayIp }];
}

function baseConfig(over: Partial<NetworkConfig> = {}): NetworkConfig {
  return {
    Driver: 'bridge',
    Scope: 'local',
    EnableIPv6: false,
    IPAM: { Driver: 'default', Options: null, Config: null },
    Internal: false,
    Attachable: false,
    Ingress: false,
    ConfigFrom: { Network: '' },
    ConfigOnly: false,
    Options: {},
    Labels: {},
    ...over,
  };
}

const strMap = (v: unknown): Record<string, string> =>
  v && typeof v === 'object' && !Array.isArray(v)
    ? Object.fromEntries(Object.entries(v as Record<string, unknown>).map(([k, x]) => [k, String(x)]))
    : {};

/**
 * Validate a `POST /networks/create` body (moby daemon.createNetwork): name, predefined names
 * (403), drivers. Returns the normalised config and the Warning text for what is recorded but
 * has no effect on Kubernetes.
 */
export function normaliseCreate(
  body: Record<string, unknown>,
  opts: { isolation: boolean },
): { name: string; config: NetworkConfig; warning: string } {
  const name = typeof body.Name === 'string' ? body.Name : '';
  if (!name) throw invalid(`invalid name: ${name}`);
  if (isPredefined(name))
    throw new EngineError('forbidden', `operation is not permitted on predefined ${name} network `);
  const driver = typeof body.Driver === 'string' && body.Driver ? body.Driver : 'bridge';
  if (driver === 'overlay')
    throw new EngineError(
      'forbidden',
      'This node is not a swarm manager. Use "docker swarm init" or "docker swarm join" to connect this node to swarm and try again.',
    );
  if (driver !== 'bridge')
    throw notImplemented(
      `network driver "${driver}" is not supported by kuber-api: every network is the cluster's pod network, and only the "bridge" driver's semantics (name resolution between its containers) are emulated`,
    );
  if (body.Scope !== undefined && body.Scope !== '' && body.Scope !== 'local')
    throw notImplemented(`network scope "${String(body.Scope)}" is not supported by kuber-api (only "local")`);
  const ipamIn = (body.IPAM ?? {}) as { Driver?: string; Options?: unknown; Config?: IpamConfig[] | null };
  const ipamConfig = Array.isArray(ipamIn.Config) && ipamIn.Config.length ? ipamIn.Config.map((c) => ({ ...c })) : null;
  const config = baseConfig({
    Driver: driver,
    EnableIPv6: body.EnableIPv6 === true,
    IPAM: {
      Driver: ipamIn.Driver || 'default',
      Options: ipamIn.Options ? strMap(ipamIn.Options) : null,
      Config: ipamConfig,
    },
    Internal: body.Internal === true,
    Attachable: body.Attachable === true,
    Ingress: body.Ingress === true,
    ConfigFrom: { Network: String((body.ConfigFrom as { Network?: string } | undefined)?.Network ?? '') },
    ConfigOnly: body.ConfigOnly === true,
    Options: strMap(body.Options),
    Labels: strMap(body.Labels),
  });
  if (config.Ingress)
    throw new EngineError(
      'forbidden',
      'This node is not a swarm manager. Use "docker swarm init" or "docker swarm join" to connect this node to swarm and try again.',
    );
  const notes: string[] = [];
  if (ipamConfig)
    notes.push('IPAM subnets, ranges and gateways are recorded, but pods get their addresses from the cluster');
  if (config.EnableIPv6) notes.push('EnableIPv6 is recorded, but pods get the address families of the cluster');
  if (config.Internal && !opts.isolation)
    notes.push(
      'Internal is recorded but not enforced (start kuber-api with --network-policies true to apply NetworkPolicies, which the network plugin enforces)',
    );
  return { name, config, warning: notes.length ? `kuber-api: ${notes.join('; ')}` : '' };
}

/** The ConfigMap record of a new network. */
export function networkObject(ctx: RecordContext, n: Omit<NetworkRecord, 'object' | 'predefined'>): KObject {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: {
      name: networkObjectName(ctx.instance, n.name),
      namespace: ctx.namespace,
      labels: {
        [LABEL_INSTANCE]: ctx.instance,
        [LABEL_KIND]: 'network',
        [LABEL_NETWORK]: n.id.slice(0, 12),
        [LABEL_MANAGED_BY]: 'kuber-api',
      },
      annotations: {
        [ANN_NET_ID]: n.id,
        [ANN_NET_NAME]: n.name,
        [ANN_NET_CREATED]: n.created,
        [ANN_NET_CONFIG]: JSON.stringify(n.config),
      },
      ...podOwnerRefs(ctx.owner),
    },
  };
}

export function decodeNetwork(cm: KObject): NetworkRecord | undefined {
  const a = cm.metadata.annotations ?? {};
  if (!a[ANN_NET_ID] || !a[ANN_NET_NAME] || !a[ANN_NET_CONFIG]) return undefined;
  let config: NetworkConfig;
  try {
    config = baseConfig(JSON.parse(a[ANN_NET_CONFIG]!) as Partial<NetworkConfig>);
  } catch {
    return undefined;
  }
  return {
    id: a[ANN_NET_ID]!,
    name: a[ANN_NET_NAME]!,
    created: a[ANN_NET_CREATED] ?? cm.metadata.creationTimestamp ?? new Date(0).toISOString(),
    config,
    predefined: false,
    object: { name: cm.metadata.name, uid: cm.metadata.uid ?? '', resourceVersion: cm.metadata.resourceVersion ?? '' },
  };
}

/**
 * moby daemon.FindNetwork: full ID, then exact name, then a unique ID prefix; several networks
 * matching a prefix is an error (moby: "network <x> is ambiguous (<n> matches found based on ID
 * prefix)"). Absent: undefined.
 */
export function findNetwork(all: readonly NetworkRecord[], term: string): NetworkRecord | undefined {
  if (!term) return undefined;
  const byId = all.find((n) => n.id === term);
  if (byId) return byId;
  const byName = all.filter((n) => n.name === term);
  if (byName.length === 1) return byName[0];
  if (byName.length > 1) throw invalid(`network ${term} is ambiguous (${byName.length} matches found based on name)`);
  if (!/^[0-9a-f]+$/.test(term)) return undefined;
  const byPrefix = all.filter((n) => n.id.startsWith(term));
  if (byPrefix.length > 1)
    throw invalid(`network ${term} is ambiguous (${byPrefix.length} matches found based on ID prefix)`);
  return byPrefix[0];
}

export function resolveNetwork(all: readonly NetworkRecord[], term: string): NetworkRecord {
  const n = findNetwork(all, term);
  if (!n) throw notFound(`network ${term} not found`);
  return n;
}

export const ACCEPTED_NETWORK_FILTERS = new Set(['dangling', 'driver', 'id', 'label', 'name', 'scope', 'type']);

/** GET /networks filters (moby daemon/network/filter.go FilterNetworks). `inUse(n)`: the network has endpoints. */
export function filterNetworks(
  all: readonly NetworkRecord[],
  f: Record<string, string[]>,
  inUse: (n: NetworkRecord) => boolean,
): NetworkRecord[] {
  for (const k of Object.keys(f)) if (!ACCEPTED_NETWORK_FILTERS.has(k)) throw invalid(`invalid filter '${k}'`);
  let out = all.filter((n) => {
    if (f.driver?.length && !f.driver.includes(n.config.Driver)) return false;
    if (f.name?.length && !match(f.name, n.name)) return false;
    if (f.id?.length && !match(f.id, n.id)) return false;
    if (f.label?.length && !matchLabels(f.label, n.config.Labels)) return false;
    if (f.scope?.length && !f.scope.includes(n.config.Scope)) return false;
    return true;
  });
  const dangling = f.dangling;
  if (dangling?.length) {
    if (dangling.length > 1) throw invalid('got more than one value for filter key "dangling"');
    const v = dangling[0];
    if (!['0', 'false', '1', 'true'].includes(v!))
      throw invalid(`invalid value for filter 'dangling', must be "true" (or "1"), or "false" (or "0")`);
    const only = v === '1' || v === 'true';
    out = out.filter((n) => (only ? !n.predefined && !inUse(n) : n.predefined || inUse(n)));
  }
  if (f.type?.length) {
    const typed: NetworkRecord[] = [];
    for (const t of f.type) {
      if (t === 'builtin') typed.push(...out.filter((n) => n.predefined));
      else if (t === 'custom') typed.push(...out.filter((n) => !n.predefined));
      else throw invalid(`invalid filter: 'type'='${t}'`);
    }
    out = typed;
  }
  return out;
}

export interface NetworkContainerView {
  Name: string;
  EndpointID: string;
  MacAddress: string;
  IPv4Address: string;
  IPv6Address: string;
}

/** `GET /networks/{id}` and the entries of `GET /networks` (moby network.Inspect). */
export function networkView(
  n: NetworkRecord,
  containers: Record<string, NetworkContainerView>,
  gatewayIp?: string,
): Record<string, unknown> {
  const c = n.config;
  const ipamConfig = c.IPAM.Config ?? (n.predefined ? null : podNetworkIpam(gatewayIp));
  return {
    Name: n.name,
    Id: n.id,
    Created: n.created,
    Scope: c.Scope,
    Driver: c.Driver,
    EnableIPv6: c.EnableIPv6,
    IPAM: {
      Driver: c.IPAM.Driver,
      Options: c.IPAM.Options,
      Config: n.predefined && n.name === 'bridge' ? podNetworkIpam(gatewayIp) : ipamConfig,
    },
    Internal: c.Internal,
    Attachable: c.Attachable,
    Ingress: c.Ingress,
    ConfigFrom: c.ConfigFrom,
    ConfigOnly: c.ConfigOnly,
    Containers: containers,
    Options: c.Options,
    Labels: c.Labels,
  };
}

/** Network create name conflict (moby libnetwork NetworkNameError). */
export const duplicateName = (name: string) => conflict(`network with name ${name} already exists`);

/** Prune filters (moby daemon/prune.go: until, label, label!). */
export function pruneSelect(
  nets: readonly NetworkRecord[],
  f: Record<string, string[]>,
  inUse: (n: NetworkRecord) => boolean,
): NetworkRecord[] {
  for (const k of Object.keys(f))
    if (k !== 'until' && k !== 'label' && k !== 'label!') throw invalid(`invalid filter '${k}'`);
  const until = f.until?.map((u) => (/^\d+(\.\d+)?$/.test(u) ? Number(u) * 1000 : Date.parse(u)));
  if (until?.some((u) => Number.isNaN(u))) throw invalid(`invalid filter 'until=${f.until!.join(',')}'`);
  return nets.filter((n) => {
    if (n.predefined || inUse(n)) return false;
    if (until?.some((u) => !(Date.parse(n.created) < u))) return false;
    if (f.label && !matchLabels(f.label, n.config.Labels)) return false;
    if (f['label!']?.some((l) => matchLabels([l], n.config.Labels))) return false;
    return true;
  });
}
