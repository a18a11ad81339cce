/**
 * @module engine/networks/endpoints
 * A container's network memberships (pure): which networks it is connected to, with its
 * aliases, kept as JSON in the `kuber-api.io/networks` annotation of its record (the record's
 * resourceVersion guards every change). Built at create from `HostConfig.NetworkMode` and
 * `NetworkingConfig.EndpointsConfig` (moby daemon/create.go, container_operations.go), changed by
 * `POST /networks/{id}/connect|disconnect`; and the JSON views of it: the container's
 * `NetworkSettings.Networks` and the network's `Containers`.
 */
import { createHash } from 'node:crypto';
import { invalid, notImplemented, notFound } from '../../errors.js';
import type { ContainerRecord, CreateBody } from '../model/types.js';
import { shortId } from '../model/ids.js';
import { findNetwork, type NetworkRecord, type NetworkContainerView } from './model.js';
import { setOwn } from '../model/own-keys.js';

export const ANN_NETWORKS = 'kuber-api.io/networks';

/** One membership (moby network.EndpointSettings, the parts a client sets). */
export interface Endpoint {
  NetworkID: string;
  /** The network's name when connected (networks cannot be renamed). */
  Name: string;
  Aliases: string[];
  Links: string[] | null;
  IPAMConfig: Record<string, unknown> | null;
  DriverOpts: Record<string, string> | null;
}

/** The network a container's NetworkMode names ('' and 'default' are the default bridge). */
export function primaryNetworkName(config: CreateBody): string {
  const m = config.HostConfig?.NetworkMode;
  return !m || m === 'default' ? 'bridge' : m;
}

/** Docker's endpoint ID, derived (stable): there is no endpoint object on Kubernetes. */
export function endpointId(containerId: string, networkId: string): string {
  return createHash('sha256').update(`${containerId}/${networkId}`).digest('hex');
}

/** NetworkMode values kuber-api refuses, with why (at create: the client learns it at once). */
export function checkNetworkMode(mode: string): void {
  if (mode === 'host')
    throw notImplemented(
      "network mode \"host\" is not supported by kuber-api: a container runs in its own Pod and cannot share the network of kuber-api's Pod (the CI job's localhost), and hostNetwork would put it on the node's network instead; publish ports (-p) to reach it on localhost, and use --add-host host.docker.internal:host-gateway to reach the job from it",
    );
  if (mode.startsWith('container:') || mode.startsWith('service:'))
    throw notImplemented(
      `network mode "${mode}" is not supported by kuber-api: a Pod cannot join the network namespace of another Pod`,
    );
}

function endpointOf(net: NetworkRecord, cfg: Record<string, unknown> | undefined): Endpoint {
  const aliases = Array.isArray(cfg?.Aliases) ? (cfg!.Aliases as unknown[]).map(String).filter(Boolean) : [];
  const ipam =
    cfg?.IPAMConfig && typeof cfg.IPAMConfig === 'object' ? (cfg.IPAMConfig as Record<string, unknown>) : null;
  if (ipam && (ipam.IPv4Address || ipam.IPv6Address || (Array.isArray(ipam.LinkLocalIPs) && ipam.LinkLocalIPs.length)))
    throw notImplemented(
      'static IP addresses (--ip, --ip6, ipv4_address) are not supported by kuber-api: pods get their addresses from the cluster',
    );
  if (aliases.length && net.predefined)
    throw invalid('network-scoped alias is supported only for containers in user defined networks');
  const links = Array.isArray(cfg?.Links) ? (cfg!.Links as unknown[]).map(String) : null;
  const driverOpts =
    cfg?.DriverOpts && typeof cfg.DriverOpts === 'object' ? (cfg.DriverOpts as Record<string, string>) : null;
  return {
    NetworkID: net.id,
    Name: net.name,
    Aliases: [...new Set(aliases)],
    Links: links?.length ? links : null,
    IPAMConfig: ipam && Object.keys(ipam).length ? ipam : null,
    DriverOpts: driverOpts,
  };
}

/**
 * The memberships of a new container (moby: NetworkMode is the first network, then the other
 * EndpointsConfig entries; API 1.44 lets a create name several). Unknown networks are a 404 as in
 * `docker run --network nope`.
 */
export function createEndpoints(
  config: CreateBody,
  nets: readonly NetworkRecord[],
): { endpoints: Endpoint[]; warnings: string[] } {
  const mode = primaryNetworkName(config);
  checkNetworkMode(mode);
  const primary = findNetwork(nets, mode);
  if (!primary) throw notFound(`network ${mode} not found`);
  const eps = (config.NetworkingConfig?.EndpointsConfig ?? {}) as Record<string, Record<string, unknown> | null>;
  const out: Endpoint[] = [];
  const cfgFor = (n: NetworkRecord) =>
    eps[n.name] ?? eps[n.id] ?? eps[mode] ?? (n.name === 'bridge' ? eps.default : undefined) ?? undefined;
  out.push(endpointOf(primary, cfgFor(primary) ?? undefined));
  for (const [k, cfg] of Object.entries(eps)) {
    const key = k === 'default' ? 'bridge' : k; // the docker CLI names the default network "default"
    const net = findNetwork(nets, key);
    if (!net) throw notFound(`network ${key} not found`);
    if (out.some((e) => e.NetworkID === net.id)) continue;
    if (primary.name === 'none' || net.name === 'none')
      throw invalid(
        'container cannot be connected to multiple networks with one of the networks in private (none) mode',
      );
    checkNetworkMode(net.name);
    out.push(endpointOf(net, cfg ?? undefined));
  }
  const warnings: string[] = [];
  if (primary.name === 'none')
    warnings.push(
      'kuber-api: network mode "none": every Pod has a network interface on Kubernetes; the container gets no DNS names and no published ports (with --network-policies true a NetworkPolicy denies all its traffic)',
    );
  return { endpoints: out, warnings };
}

/**
 * A connect request's endpoint: the network exists; `current` are the container's memberships
 * (moby daemon/container_operations.go ConnectToNetwork and its runconfig errors).
 */
export function connectEndpoint(
  net: NetworkRecord,
  cfg: Record<string, unknown> | undefined,
  current: readonly Endpoint[],
): Endpoint {
  if (net.name === 'host' || current.some((e) => e.Name === 'host'))
    throw invalid('container cannot be disconnected from host network or connected to host network');
  if (net.name === 'none' ? current.some((e) => e.Name !== 'none') : current.some((e) => e.Name === 'none'))
    throw invalid('container cannot be connected to multiple networks with one of the networks in private (none) mode');
  return endpointOf(net, cfg);
}

export function encodeEndpoints(eps: readonly Endpoint[]): string {
  return JSON.stringify(eps);
}

/**
 * The memberships in a record's annotation; a record written before networks existed (no
 * annotation) is on its NetworkMode network alone.
 */
export function decodeEndpoints(
  raw: string | undefined,
  rec: ContainerRecord,
  nets: readonly NetworkRecord[],
): Endpoint[] {
  if (raw) {
    try {
      const v = JSON.parse(raw) as Endpoint[];
      if (Array.isArray(v)) return v;
    } catch {
      /* damaged: fall through to the NetworkMode */
    }
  }
  const name = primaryNetworkName(rec.config);
  let net: NetworkRecord | undefined;
  try {
    net = findNetwork(nets, name);
  } catch {
    net = undefined;
  }
  return [{ NetworkID: net?.id ?? '', Name: name, Aliases: [], Links: null, IPAMConfig: null, DriverOpts: null }];
}

/**
 * The names a container answers to on a network (Docker's embedded DNS, moby
 * daemon/container_operations.go buildEndpointDNSNames: the container name, the aliases, the
 * short ID, then the hostname; the first one is the PTR answer). The default bridge has no name
 * resolution (legacy links only).
 */
export function dnsNames(
  rec: { id: string; name: string; config?: { Hostname?: string } },
  ep: Endpoint,
  net: NetworkRecord | undefined,
): string[] {
  if (!net || net.predefined) return [];
  const host = rec.config?.Hostname;
  return [...new Set([rec.name, ...ep.Aliases, shortId(rec.id), ...(host ? [host] : [])])];
}

export interface EndpointViewInput {
  rec: ContainerRecord;
  endpoints: readonly Endpoint[];
  nets: readonly NetworkRecord[];
  /** The pod IP while the container runs (else no address, as for a stopped Docker container). */
  ip?: string;
  gatewayIp?: string;
  apiVersion: string;
  lt: (a: string, b: string) => boolean;
}

/** `NetworkSettings.Networks` of a container (always an object: testcontainers `Object.entries` it). */
export function networksView(i: EndpointViewInput): Record<string, Record<string, unknown>> {
  const out: Record<string, Record<string, unknown>> = {};
  for (const ep of [...i.endpoints].sort((a, b) => (a.Name < b.Name ? -1 : a.Name > b.Name ? 1 : 0))) {
    const net = i.nets.find((n) => n.id === ep.NetworkID);
    const custom = !!net && !net.predefined;
    const names = dnsNames(i.rec, ep, net);
    let aliases: string[] | null = ep.Aliases.length ? [...ep.Aliases] : null;
    // Before API 1.45 the short ID was one of the aliases on user-defined networks (moby api/server/router/container/inspect.go).
    if (custom && i.lt(i.apiVersion, '1.45')) aliases = [...new Set([...(aliases ?? []), shortId(i.rec.id)])];
    const up = !!i.ip && !!net && net.name !== 'none';
    setOwn(out, ep.Name, {
      IPAMConfig: ep.IPAMConfig,
      Links: ep.Links,
      Aliases: aliases,
      MacAddress: '',
      DriverOpts: ep.DriverOpts,
      NetworkID: ep.NetworkID,
      EndpointID: up ? endpointId(i.rec.id, ep.NetworkID) : '',
      Gateway: up ? (i.gatewayIp ?? '') : '',
      IPAddress: up ? i.ip! : '',
      IPPrefixLen: up ? 32 : 0,
      IPv6Gateway: '',
      GlobalIPv6Address: '',
      GlobalIPv6PrefixLen: 0,
      DNSNames: custom && names.length ? names : null,
    });
  }
  return out;
}

/** The network's `Containers` entry of a running container. */
export function networkContainerView(rec: ContainerRecord, networkId: string, ip: string): NetworkContainerView {
  return {
    Name: rec.name,
    EndpointID: endpointId(rec.id, networkId),
    MacAddress: '',
    IPv4Address: ip.includes(':') ? '' : `${ip}/32`,
    IPv6Address: ip.includes(':') ? `${ip}/128` : '',
  };
}
