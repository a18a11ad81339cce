/**
 * @module sim/auth/user
 * Who a request is (apiserver/pkg/authentication/user.Info) and the well-known names
 * (apiserver/pkg/authentication/user/user.go, .../serviceaccount/util.go).
 */
export interface UserInfo {
  username: string;
  uid?: string;
  groups: string[];
  extra?: Record<string, string[]>;
}

export const MASTERS = 'system:masters';
export const AUTHENTICATED = 'system:authenticated';
export const UNAUTHENTICATED = 'system:unauthenticated';
export const ANONYMOUS: UserInfo = { username: 'system:anonymous', groups: [UNAUTHENTICATED] };

/** The user of the kubeconfig kube-sim writes: a cluster admin (kubeadm's kubernetes-admin is in system:masters). */
export const ADMIN: UserInfo = { username: 'kube-sim-admin', groups: [MASTERS, AUTHENTICATED] };

const SA_PREFIX = 'system:serviceaccount:';

export const saUsername = (ns: string, name: string) => `${SA_PREFIX}${ns}:${name}`;

/** 'system:serviceaccount:ns:name' -> { namespace, name } (serviceaccount.SplitUsername). */
export function splitSaUsername(username: string): { namespace: string; name: string } | undefined {
  if (!username.startsWith(SA_PREFIX)) return undefined;
  const parts = username.slice(SA_PREFIX.length).split(':');
  if (parts.length !== 2 || !parts[0] || !parts[1]) return undefined;
  return { namespace: parts[0], name: parts[1] };
}

/** serviceaccount.MakeGroupNames plus system:authenticated. */
export const saGroups = (ns: string) => ['system:serviceaccounts', `system:serviceaccounts:${ns}`, AUTHENTICATED];

/** Extra keys of a bound token (apiserver/pkg/authentication/serviceaccount: ServiceAccountInfo.UserInfo). */
export const EXTRA = {
  podName: 'authentication.kubernetes.io/pod-name',
  podUid: 'authentication.kubernetes.io/pod-uid',
  nodeName: 'authentication.kubernetes.io/node-name',
  nodeUid: 'authentication.kubernetes.io/node-uid',
  credentialId: 'authentication.kubernetes.io/credential-id',
};
