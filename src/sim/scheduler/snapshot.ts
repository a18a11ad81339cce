/**
 * @module sim/scheduler/snapshot
 * What one scheduling pass sees of the cluster (the scheduler cache's snapshot): nodes, the Pods
 * assigned to them that have not finished, claims, volumes and classes, namespace labels.
 */
import { defOf } from '../store/resources.js';
import { matchLabelSelectorObject } from '../store/selectors.js';
import { quantityBytes } from '../store/storage-api.js';
import type { Store } from '../store/store.js';
import { claimsOfPod, nodeMatchesVolume, volumeFitsClaim } from '../storage/common.js';
import { termMatches } from './affinity.js';
import type { ClusterView } from './types.js';

type Obj = Record<string, any>;

const NODES = defOf({ group: '', resource: 'nodes' });
const PODS = defOf({ group: '', resource: 'pods' });
const PVC = defOf({ group: '', resource: 'persistentvolumeclaims' });
const PV = defOf({ group: '', resource: 'persistentvolumes' });
const SC = defOf({ group: 'storage.k8s.io', resource: 'storageclasses' });
const NS = defOf({ group: '', resource: 'namespaces' });

export class Snapshot implements ClusterView {
  readonly nodes: Obj[];
  readonly assigned: Obj[];
  private readonly byNode = new Map<string, Obj[]>();
  private readonly nodeByName = new Map<string, Obj>();

  constructor(private readonly store: Store) {
    this.nodes = store.list(NODES, undefined) as Obj[];
    for (const n of this.nodes) {
      this.nodeByName.set(n.metadata.name, n);
      this.byNode.set(n.metadata.name, []);
    }
    this.assigned = (store.list(PODS, undefined) as Obj[]).filter(
      (p) => p.spec?.nodeName && p.status?.phase !== 'Succeeded' && p.status?.phase !== 'Failed',
    );
    for (const p of this.assigned) this.byNode.get(p.spec.nodeName)?.push(p);
  }

  node(name: string): Obj | undefined {
    return this.nodeByName.get(name);
  }
  podsOn(node: string): Obj[] {
    return this.byNode.get(node) ?? [];
  }
  claim(ns: string, name: string): Obj | undefined {
    return this.store.get(PVC, ns, name) as Obj | undefined;
  }
  volume(name: string): Obj | undefined {
    return this.store.get(PV, undefined, name) as Obj | undefined;
  }
  storageClass(name: string): Obj | undefined {
    return name ? (this.store.get(SC, undefined, name) as Obj | undefined) : undefined;
  }
  nsLabels(ns: string): Record<string, string> {
    return (this.store.get(NS, undefined, ns)?.metadata.labels ?? {}) as Record<string, string>;
  }
  /** Assigned Pods (other than `except`) that use the claim. */
  claimUsers(ns: string, claim: string, except?: string): number {
    return this.assigned.filter(
      (p) => p.metadata.uid !== except && p.metadata.namespace === ns && claimsOfPod(p).includes(claim),
    ).length;
  }
  /** An existing volume the (unbound) claim could be bound to on this node. */
  staticVolumeFor(c: Obj, node: Obj): Obj | undefined {
    return (this.store.list(PV, undefined) as Obj[]).find(
      (v) => volumeFitsClaim(v, c, quantityBytes, matchLabelSelectorObject) && nodeMatchesVolume(node, v),
    );
  }
  /** Is there a Pod matching `term` (of `owner`) in the same topology domain as `node`? */
  termSatisfiedOn(owner: Obj, term: Obj, node: Obj): boolean {
    const value = node.metadata.labels?.[term.topologyKey];
    if (value === undefined) return false;
    return this.assigned.some((p) => {
      if (p.metadata.uid === owner.metadata.uid) return false;
      const n = this.node(p.spec.nodeName);
      return n?.metadata.labels?.[term.topologyKey] === value && termMatches(term, owner, p, this);
    });
  }
}
