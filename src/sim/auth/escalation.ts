/**
 * @module sim/auth/escalation
 * RBAC's escalation guard on writes of roles and bindings (pkg/registry/rbac/role/policybased,
 * clusterrole/policybased, rolebinding/policybased, clusterrolebinding/policybased): a user may
 * write a Role/ClusterRole only with rules it already holds, unless it has `escalate` on it; may bind
 * a role only if it holds the role's rules, unless it has `bind` on it. system:masters is exempt
 * (rbacregistry.EscalationAllowed). The refusal is validation.ConfirmNoEscalation's text.
 */
import { StatusError } from '../status.js';
import type { KObject } from '../types.js';
import type { ResourceDef } from '../store/resources.js';
import { forbiddenError } from './attributes.js';
import {
  CLUSTER_ROLE_BINDINGS,
  CLUSTER_ROLES,
  compact,
  compactString,
  missingRights,
  ROLE_BINDINGS,
  ROLES,
  type Attributes,
  type Decision,
  type PolicyRule,
  type Rbac,
} from './rbac.js';
import { MASTERS, type UserInfo } from './user.js';

type Obj = Record<string, any>;
const RBAC_GROUP = 'rbac.authorization.k8s.io';
const FULL_AUTHORITY: PolicyRule[] = [
  { verbs: ['*'], apiGroups: ['*'], resources: ['*'] },
  { verbs: ['*'], nonResourceURLs: ['*'] },
];

const withoutMeta = (o: Obj | undefined) => {
  if (!o) return undefined;
  const { metadata: _m, ...rest } = o;
  return JSON.stringify(rest);
};

/** Go's %q of []string. */
const goList = (l: string[]) => `[${l.map((s) => JSON.stringify(s)).join(' ')}]`;

function confirmNoEscalation(rbac: Rbac, user: UserInfo, ns: string, rules: PolicyRule[]): string | undefined {
  const { rules: owned, errors } = rbac.rulesFor(user, ns);
  const missing = missingRights(owned, rules);
  if (!missing.length) return undefined;
  const lines = [...new Set(compact(missing).map(compactString))].sort();
  let msg = `user ${JSON.stringify(user.username)} (groups=${goList(user.groups)}) is attempting to grant RBAC permissions not currently held:\n${lines.join('\n')}`;
  if (errors.length) msg += `; resolution errors: [${errors.join(' ')}]`;
  return msg;
}

/**
 * Check a write of `next` (the object as it would be stored; `prev` the current one) to an RBAC
 * resource by `user`. Throws the apiserver's 403 when it would escalate.
 */
export function guardRbacWrite(
  rbac: Rbac,
  authorize: (a: Attributes) => Decision,
  user: UserInfo,
  def: ResourceDef,
  next: KObject,
  prev: KObject | undefined,
): void {
  if (user.groups.includes(MASTERS)) return;
  if (withoutMeta(next as Obj) === withoutMeta(prev as Obj | undefined)) return; // only metadata (GC fields) changed
  const ns = next.metadata.namespace ?? '';
  const name = next.metadata.name ?? '';
  const o = next as Obj;
  if (def === ROLES || def === CLUSTER_ROLES) {
    const escalate = authorize({
      user,
      verb: 'escalate',
      resourceRequest: true,
      apiGroup: RBAC_GROUP,
      resource: def.resource,
      namespace: ns,
      name,
    });
    if (escalate.allowed) return;
    if (def === CLUSTER_ROLES && o.aggregationRule && confirmNoEscalation(rbac, user, '', FULL_AUTHORITY))
      throw forbiddenError(
        RBAC_GROUP,
        def.resource,
        name,
        'must have cluster-admin privileges to use the aggregationRule',
      );
    const msg = confirmNoEscalation(rbac, user, ns, o.rules ?? []);
    if (msg) throw forbiddenError(RBAC_GROUP, def.resource, name, msg);
    return;
  }
  if (def === ROLE_BINDINGS || def === CLUSTER_ROLE_BINDINGS) {
    const ref: Obj = o.roleRef ?? {};
    const bind = authorize({
      user,
      verb: 'bind',
      resourceRequest: true,
      apiGroup: RBAC_GROUP,
      resource: ref.kind === 'Role' ? 'roles' : 'clusterroles',
      namespace: ns,
      name: ref.name,
    });
    if (bind.allowed) return;
    const { rules, error } = rbac.roleRefRules(ref, ns);
    if (error)
      throw new StatusError(404, 'NotFound', error, {
        name: ref.name,
        group: RBAC_GROUP,
        kind: ref.kind === 'Role' ? 'role' : 'clusterrole',
      });
    const msg = confirmNoEscalation(rbac, user, ns, rules);
    if (msg) throw forbiddenError(RBAC_GROUP, def.resource, name, msg);
  }
}

export const isRbacWrite = (def: ResourceDef) =>
  def === ROLES || def === CLUSTER_ROLES || def === ROLE_BINDINGS || def === CLUSTER_ROLE_BINDINGS;
