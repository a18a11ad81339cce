/**
 * @module engine/dns/host
 * What the embedded DNS needs from the engine (engine/kube-engine.ts provides it): the container
 * index (to follow memberships as they change), the Kubernetes handle (kube-dns on kube-sim), the
 * namespace, where containers reach kuber-api, and the networks' view of who is on which network.
 */
import type { EngineCore } from '../core/engine-core.js';
import type { NetworkRecord } from '../networks/model.js';
import type { TableMember } from './names.js';

export interface DnsNetworkView {
  /** Every container with a Pod IP (starting or running), with its memberships. */
  dnsMembers(): { members: TableMember[]; nets: NetworkRecord[] };
  /** Subscribe to changes of the networks; returns the unsubscribe function. */
  onNetworksChange(cb: () => void): () => void;
}

export type DnsHost = Pick<EngineCore, 'kube' | 'namespace' | 'opts' | 'index' | 'log'> & {
  readonly networks: DnsNetworkView;
};
