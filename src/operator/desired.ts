/**
 * @module operator/desired
 * What a job's child namespace holds (pure): the Namespace (labels naming its parent, Pod
 * Security labels), a default-deny NetworkPolicy that admits traffic within the namespace and
 * from/to the job Pod, plus DNS egress; a ResourceQuota and a LimitRange from the profile; the
 * ServiceAccount kuber-api uses there and its RoleBinding to the sidecar ClusterRole (bound in
 * this namespace only, so the rights end at its border).
 *
 * Why the Namespace has no ownerReference to the job Pod: a cluster-scoped object may only have
 * cluster-scoped owners (Kubernetes garbage collector, "OwnerRefInvalidNamespace"), so the GC
 * would never act on it. The operator deletes it when the Pod goes (reconcile.ts), and the
 * startup sweep removes any it missed. No finalizer: a dead operator must not block deletions.
 */
import { ANN_DESIRED, desiredHash, LABELS, MANAGED_BY, type PodRef } from './naming.js';
import type { Profile } from './profiles.js';

export interface DesiredOptions {
  /** Pod Security levels of child namespaces (`pod-security.kubernetes.io/<mode>`). */
  enforce: string;
  warn: string;
  audit: string;
  /** The ClusterRole the per-namespace RoleBinding grants (deploy/: kuber-api-sidecar). */
  sidecarClusterRole: string;
  /** The ServiceAccount kuber-api acts as in the child namespace. */
  serviceAccount: string;
  /** Where cluster DNS runs, for the DNS egress rule. */
  dnsNamespace: string;
  dnsPodLabels: Record<string, string>;
  /**
   * DNS servers that are no Pod of the cluster: NodeLocal DNSCache (hostNetwork, 169.254.20.10)
   * or a DNS served by the node itself (kube-sim's). A podSelector never matches them: NetworkPolicy
   * peers are Pods or ipBlocks (k8s.io/api/networking/v1 NetworkPolicyPeer).
   */
  dnsEgressCidrs: readonly string[];
}

export interface DesiredObject {
  /** Collection path to create in; the object's own path is `${collection}/${name}`. */
  collection: string;
  kind: string;
  name: string;
  body: Record<string, any>;
  /** RoleBinding.roleRef cannot change: a differing one is deleted and created. */
  immutable?: boolean;
}

const metadata = (name: string, ns: string | undefined, labels: Record<string, string>, spec: unknown) => ({
  name,
  ...(ns ? { namespace: ns } : {}),
  labels: { [LABELS.managedBy]: MANAGED_BY, ...labels },
  annotations: { [ANN_DESIRED]: desiredHash(spec) },
});

/** The Namespace and the objects inside it, in creation order. */
export function desiredObjects(
  child: string,
  job: PodRef,
  profileName: string,
  profile: Profile,
  o: DesiredOptions,
): { namespace: DesiredObject; inside: DesiredObject[] } {
  const nsLabels = {
    [LABELS.parentNamespace]: job.namespace,
    [LABELS.parentPod]: job.name.slice(0, 63),
    [LABELS.parentUid]: job.uid,
    [LABELS.profile]: profileName,
    'pod-security.kubernetes.io/enforce': o.enforce,
    'pod-security.kubernetes.io/warn': o.warn,
    'pod-security.kubernetes.io/audit': o.audit,
  };
  const namespace: DesiredObject = {
    collection: '/api/v1/namespaces',
    kind: 'Namespace',
    name: child,
    body: { apiVersion: 'v1', kind: 'Namespace', metadata: metadata(child, undefined, nsLabels, nsLabels) },
  };
  const jobPeer = {
    namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': job.namespace } },
    podSelector: { matchLabels: { [LABELS.jobNamespace]: child } },
  };
  const npSpec = {
    podSelector: {},
    policyTypes: ['Ingress', 'Egress'],
    ingress: [{ from: [{ podSelector: {} }] }, { from: [jobPeer] }],
    egress: [
      { to: [{ podSelector: {} }] },
      { to: [jobPeer] },
      {
        to: [
          {
            namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': o.dnsNamespace } },
            podSelector: { matchLabels: o.dnsPodLabels },
          },
          ...o.dnsEgressCidrs.map((cidr) => ({ ipBlock: { cidr } })),
        ],
        ports: [
          { protocol: 'UDP', port: 53 },
          { protocol: 'TCP', port: 53 },
        ],
      },
    ],
  };
  const quotaSpec = { hard: profile.quota };
  const lrSpec = {
    limits: [{ type: 'Container', default: profile.default, defaultRequest: profile.defaultRequest, max: profile.max }],
  };
  const rbSpec = {
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: o.sidecarClusterRole },
    subjects: [{ kind: 'ServiceAccount', name: o.serviceAccount, namespace: child }],
  };
  const ns = `/api/v1/namespaces/${child}`;
  const inside: DesiredObject[] = [
    {
      collection: `/apis/networking.k8s.io/v1/namespaces/${child}/networkpolicies`,
      kind: 'NetworkPolicy',
      name: 'kapi-default-deny',
      body: {
        apiVersion: 'networking.k8s.io/v1',
        kind: 'NetworkPolicy',
        metadata: metadata('kapi-default-deny', child, {}, npSpec),
        spec: npSpec,
      },
    },
    {
      collection: `${ns}/resourcequotas`,
      kind: 'ResourceQuota',
      name: 'kapi-quota',
      body: {
        apiVersion: 'v1',
        kind: 'ResourceQuota',
        metadata: metadata('kapi-quota', child, {}, quotaSpec),
        spec: quotaSpec,
      },
    },
    {
      collection: `${ns}/limitranges`,
      kind: 'LimitRange',
      name: 'kapi-limits',
      body: {
        apiVersion: 'v1',
        kind: 'LimitRange',
        metadata: metadata('kapi-limits', child, {}, lrSpec),
        spec: lrSpec,
      },
    },
    {
      collection: `${ns}/serviceaccounts`,
      kind: 'ServiceAccount',
      name: o.serviceAccount,
      body: {
        apiVersion: 'v1',
        kind: 'ServiceAccount',
        metadata: metadata(o.serviceAccount, child, {}, {}),
        automountServiceAccountToken: false,
      },
    },
    {
      collection: `/apis/rbac.authorization.k8s.io/v1/namespaces/${child}/rolebindings`,
      kind: 'RoleBinding',
      name: o.serviceAccount,
      immutable: true,
      body: {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'RoleBinding',
        metadata: metadata(o.serviceAccount, child, {}, rbSpec),
        ...rbSpec,
      },
    },
  ];
  return { namespace, inside };
}
