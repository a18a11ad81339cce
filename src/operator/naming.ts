/**
 * @module operator/naming
 * The labels the operator writes and reads, and the child namespace's name (pure). The name is
 * derived from the job Pod alone (namespace, name, uid), so any operator replica, after any
 * restart, computes the same one: no state to keep, and a Pod recreated under the same name
 * (a new uid) gets a fresh namespace, never its predecessor's objects.
 */
import { createHash } from 'node:crypto';

export const MANAGED_BY = 'kuber-api-operator';
export const LABELS = {
  managedBy: 'app.kubernetes.io/managed-by',
  /** On the child namespace: the job Pod it belongs to. */
  parentNamespace: 'kuber-api.io/parent-namespace',
  parentPod: 'kuber-api.io/parent-pod',
  parentUid: 'kuber-api.io/parent-uid',
  /** On the job Pod: its child namespace (the NetworkPolicy admits the job Pod by it). */
  jobNamespace: 'kuber-api.io/job-namespace',
  profile: 'kuber-api.io/profile',
} as const;
/** On child objects: a hash of what the operator wants, so a reconcile compares one string and writes nothing when equal. */
export const ANN_DESIRED = 'kuber-api.io/desired-hash';
/** On the job Pod: the profile it asks for (else the operator's default). */
export const ANN_PROFILE = 'kuber-api.io/profile';

export interface PodRef {
  namespace: string;
  name: string;
  uid: string;
}

const slug = (s: string) =>
  s
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^-+|-+$/g, '');

/** `<prefix>-<pod name, cut>-<10 hex of sha256(ns/name/uid)>`, at most 63 characters (an RFC 1123 label). */
export function childNamespaceName(prefix: string, pod: PodRef): string {
  const hash = createHash('sha256').update(`${pod.namespace}/${pod.name}/${pod.uid}`).digest('hex').slice(0, 10);
  const room = 63 - prefix.length - hash.length - 2;
  const mid = slug(pod.name).slice(0, Math.max(0, room)).replace(/-+$/, '');
  return mid ? `${prefix}-${mid}-${hash}` : `${prefix}-${hash}`;
}

/** A stable hash of a JSON value (keys sorted). */
export function desiredHash(v: unknown): string {
  const canon = (x: unknown): unknown =>
    Array.isArray(x)
      ? x.map(canon)
      : x && typeof x === 'object'
        ? Object.fromEntries(
            Object.keys(x as object)
              .sort()
              .map((k) => [k, canon((x as Record<string, unknown>)[k])]),
          )
        : x;
  return createHash('sha256')
    .update(JSON.stringify(canon(v)))
    .digest('hex')
    .slice(0, 16);
}
