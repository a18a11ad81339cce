/**
 * @module engine/model/owner
 * The two ownerReferences kuber-api writes (pure), so that Kubernetes' garbage collector
 * (kubernetes pkg/controller/garbagecollector) removes what an owner leaves behind:
 * - an object that belongs to one of our record ConfigMaps (a container's Pod and staged chunks,
 *   a network's Services and policies) names it as its controller;
 * - a record, and what no record owns, names kuber-api's own Pod when it runs in the cluster
 *   (not as controller: the Pod does not manage them), so they go when that Pod is deleted.
 * `blockOwnerDeletion: false`: an owner's deletion never waits for its dependants.
 */

/** The name and uid of the owning object. */
export interface OwnerObject {
  name: string;
  uid: string;
}

/** The controller reference to the record ConfigMap `record`. */
export function recordOwnerRef(record: OwnerObject) {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    name: record.name,
    uid: record.uid,
    controller: true,
    blockOwnerDeletion: false,
  };
}

/** `ownerReferences` naming kuber-api's own Pod, to spread into metadata; none outside a cluster. */
export function podOwnerRefs(pod: OwnerObject | undefined) {
  if (!pod) return {};
  return {
    ownerReferences: [
      { apiVersion: 'v1', kind: 'Pod', name: pod.name, uid: pod.uid, controller: false, blockOwnerDeletion: false },
    ],
  };
}
