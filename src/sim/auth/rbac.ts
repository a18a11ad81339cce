/**
 * @module sim/auth/rbac
 * The RBAC authorizer as kube-apiserver evaluates it: bindings resolved to rules
 * (pkg/registry/rbac/validation/rule.go: VisitRulesFor, appliesTo), rules matched against the request
 * (plugin/pkg/auth/authorizer/rbac/rbac.go: RuleAllows; pkg/apis/rbac/v1/evaluation_helpers.go) and
 * the "covers" check of the escalation guard (component-helpers/auth/rbac/validation/policy_comparator.go).
 * The system:masters group is allowed everything before RBAC, as the apiserver's privileged-group
 * authorizer does.
 */
import type { KObject } from '../types.js';
import { defOf } from '../store/resources.js';
import type { Store } from '../store/store.js';
import { MASTERS, splitSaUsername, type UserInfo } from './user.js';

export interface PolicyRule {
  verbs: string[];
  apiGroups?: string[];
  resources?: string[];
  resourceNames?: string[];
  nonResourceURLs?: string[];
}

/** authorizer.Attributes. */
export interface Attributes {
  user: UserInfo;
  verb: string;
  resourceRequest: boolean;
  /** Non-resource requests. */
  path?: string;
  namespace?: string;
  apiGroup?: string;
  apiVersion?: string;
  resource?: string;
  subresource?: string;
  name?: string;
}

export interface Decision {
  allowed: boolean;
  /** RBAC's reason: which binding allowed, or the resolution errors on a denial. */
  reason: string;
  /** The rule that allowed: its role ('Role/<ns>/<name>' or 'ClusterRole/<name>') and index. */
  rule?: { role: string; index: number };
}

type Obj = Record<string, any>;
export const ROLES = defOf({ group: 'rbac.authorization.k8s.io', resource: 'roles' });
export const ROLE_BINDINGS = defOf({ group: 'rbac.authorization.k8s.io', resource: 'rolebindings' });
export const CLUSTER_ROLES = defOf({ group: 'rbac.authorization.k8s.io', resource: 'clusterroles' });
export const CLUSTER_ROLE_BINDINGS = defOf({ group: 'rbac.authorization.k8s.io', resource: 'clusterrolebindings' });

const has = (l: string[] | undefined, v: string) => !!l && (l.includes(v) || l.includes('*'));

/** rbac.go RuleAllows. */
export function ruleAllows(a: Attributes, r: PolicyRule): boolean {
  if (!has(r.verbs, a.verb)) return false;
  if (!a.resourceRequest) return nonResourceURLMatches(r, a.path ?? '');
  const combined = a.subresource ? `${a.resource}/${a.subresource}` : a.resource!;
  return (
    has(r.apiGroups, a.apiGroup ?? '') &&
    resourceMatches(r, combined, a.subresource ?? '') &&
    (!r.resourceNames?.length || r.resourceNames.includes(a.name ?? ''))
  );
}

function resourceMatches(r: PolicyRule, combined: string, sub: string): boolean {
  for (const rr of r.resources ?? []) {
    if (rr === '*' || rr === combined) return true;
    // "*/scale" matches any resource's scale subresource.
    if (sub && rr.length === sub.length + 2 && rr.startsWith('*/') && rr.endsWith(sub)) return true;
  }
  return false;
}

function nonResourceURLMatches(r: PolicyRule, path: string): boolean {
  for (const u of r.nonResourceURLs ?? []) {
    if (u === '*' || u === path) return true;
    if (u.endsWith('*') && path.startsWith(u.slice(0, -1))) return true;
  }
  return false;
}

function appliesTo(user: UserInfo, subjects: Obj[] | undefined, namespace: string): Obj | undefined {
  for (const s of subjects ?? []) {
    if (s.kind === 'User' && s.name === user.username) return s;
    if (s.kind === 'Group' && user.groups.includes(s.name)) return s;
    if (s.kind === 'ServiceAccount') {
      const ns = s.namespace || namespace;
      const sa = splitSaUsername(user.username);
      if (ns && sa && sa.namespace === ns && sa.name === s.name) return s;
    }
  }
  return undefined;
}

const describeSubject = (s: Obj, bindingNs: string) =>
  s.kind === 'ServiceAccount' ? `${s.kind} "${s.name}/${s.namespace || bindingNs}"` : `${s.kind} "${s.name}"`;

export class Rbac {
  constructor(private readonly store: Store) {}

  /** GetRoleReferenceRules; a missing role is an error that ends up in the denial reason. */
  roleRefRules(roleRef: Obj, bindingNs: string): { rules: PolicyRule[]; error?: string } {
    if (roleRef?.kind === 'Role') {
      const r = this.store.get(ROLES, bindingNs, roleRef.name) as Obj | undefined;
      return r
        ? { rules: r.rules ?? [] }
        : { rules: [], error: `role.rbac.authorization.k8s.io "${roleRef.name}" not found` };
    }
    if (roleRef?.kind === 'ClusterRole') {
      const r = this.store.get(CLUSTER_ROLES, undefined, roleRef.name) as Obj | undefined;
      return r
        ? { rules: r.rules ?? [] }
        : { rules: [], error: `clusterrole.rbac.authorization.k8s.io "${roleRef.name}" not found` };
    }
    return { rules: [], error: `unsupported role reference kind: "${roleRef?.kind}"` };
  }

  /** VisitRulesFor: cluster role bindings, then the role bindings of `namespace`. Stop when visit returns false. */
  visitRulesFor(
    user: UserInfo,
    namespace: string,
    visit: (source: string, rule: PolicyRule, at: { role: string; index: number }) => boolean,
    errors: string[],
  ): void {
    for (const b of this.store.list(CLUSTER_ROLE_BINDINGS, undefined) as Obj[]) {
      const s = appliesTo(user, b.subjects, '');
      if (!s) continue;
      const { rules, error } = this.roleRefRules(b.roleRef, '');
      if (error) errors.push(error);
      const src = `ClusterRoleBinding "${b.metadata.name}" of ${b.roleRef.kind} "${b.roleRef.name}" to ${describeSubject(s, '')}`;
      const role = `ClusterRole/${b.roleRef.name}`;
      for (let i = 0; i < rules.length; i++) if (!visit(src, rules[i]!, { role, index: i })) return;
    }
    if (!namespace) return;
    for (const b of this.store.list(ROLE_BINDINGS, namespace) as Obj[]) {
      const s = appliesTo(user, b.subjects, namespace);
      if (!s) continue;
      const { rules, error } = this.roleRefRules(b.roleRef, namespace);
      if (error) errors.push(error);
      const src = `RoleBinding "${b.metadata.name}/${namespace}" of ${b.roleRef.kind} "${b.roleRef.name}" to ${describeSubject(s, namespace)}`;
      const role = b.roleRef.kind === 'Role' ? `Role/${namespace}/${b.roleRef.name}` : `ClusterRole/${b.roleRef.name}`;
      for (let i = 0; i < rules.length; i++) if (!visit(src, rules[i]!, { role, index: i })) return;
    }
  }

  rulesFor(user: UserInfo, namespace: string): { rules: PolicyRule[]; errors: string[] } {
    const rules: PolicyRule[] = [];
    const errors: string[] = [];
    if (user.groups.includes(MASTERS))
      rules.push({ verbs: ['*'], apiGroups: ['*'], resources: ['*'] }, { verbs: ['*'], nonResourceURLs: ['*'] });
    this.visitRulesFor(user, namespace, (_s, r) => (rules.push(r), true), errors);
    return { rules, errors };
  }

  /** rbac.go Authorize (behind the privileged-group authorizer). */
  authorize(a: Attributes): Decision {
    if (a.user.groups.includes(MASTERS)) return { allowed: true, reason: '' };
    const errors: string[] = [];
    let allowedBy = '';
    let rule: Decision['rule'];
    this.visitRulesFor(
      a.user,
      a.namespace ?? '',
      (src, r, at) => {
        if (!ruleAllows(a, r)) return true;
        allowedBy = src;
        rule = at;
        return false;
      },
      errors,
    );
    if (allowedBy) return { allowed: true, reason: `RBAC: allowed by ${allowedBy}`, rule };
    return {
      allowed: false,
      reason: errors.length ? `RBAC: ${errors.length === 1 ? errors[0] : `[${errors.join(', ')}]`}` : '',
    };
  }
}

// ------------------------------------------------------------------ covers (escalation)

/** BreakdownRule: one rule per group x resource x verb (x name), or per URL x verb. */
export function breakdown(r: PolicyRule): PolicyRule[] {
  const out: PolicyRule[] = [];
  for (const g of r.apiGroups ?? [])
    for (const res of r.resources ?? [])
      for (const v of r.verbs) {
        if (r.resourceNames?.length)
          for (const n of r.resourceNames)
            out.push({ apiGroups: [g], resources: [res], verbs: [v], resourceNames: [n] });
        else out.push({ apiGroups: [g], resources: [res], verbs: [v] });
      }
  for (const u of r.nonResourceURLs ?? []) for (const v of r.verbs) out.push({ nonResourceURLs: [u], verbs: [v] });
  return out;
}

function ruleCovers(owner: PolicyRule, sub: PolicyRule): boolean {
  const verbs = sub.verbs.every((v) => has(owner.verbs, v));
  const groups = (sub.apiGroups ?? []).every((g) => has(owner.apiGroups, g));
  const res = (sub.resources ?? []).every((r) => {
    const o = owner.resources ?? [];
    if (o.includes('*') || o.includes(r)) return true;
    const slash = r.indexOf('/');
    if (slash > 0 && o.includes(`${r.slice(0, slash)}/*`)) return true;
    return slash > 0 && o.includes(`*${r.slice(slash)}`);
  });
  const urls = (sub.nonResourceURLs ?? []).every((u) =>
    (owner.nonResourceURLs ?? []).some(
      (o) => o === '*' || o === u || (o.endsWith('*') && u.startsWith(o.slice(0, -1))),
    ),
  );
  const names =
    !owner.resourceNames?.length ||
    ((sub.resourceNames ?? []).every((n) => owner.resourceNames!.includes(n)) && !!sub.resourceNames?.length);
  return verbs && groups && res && urls && names;
}

/** validation.Covers: the missing rights of `requested`, as broken-down rules. */
export function missingRights(owner: PolicyRule[], requested: PolicyRule[]): PolicyRule[] {
  const missing: PolicyRule[] = [];
  for (const r of requested) for (const b of breakdown(r)) if (!owner.some((o) => ruleCovers(o, b))) missing.push(b);
  return missing;
}

/** CompactRules: simple resource rules that differ only by verb are merged. */
export function compact(rules: PolicyRule[]): PolicyRule[] {
  const out: PolicyRule[] = [];
  const simple = new Map<string, PolicyRule>();
  for (const r of rules) {
    if (
      r.resources?.length === 1 &&
      r.apiGroups?.length === 1 &&
      !r.resourceNames?.length &&
      !r.nonResourceURLs?.length
    ) {
      const k = `${r.apiGroups[0]}|${r.resources[0]}`;
      const cur = simple.get(k);
      if (cur) {
        for (const v of r.verbs) if (!cur.verbs.includes(v)) cur.verbs.push(v);
      } else {
        const c = { apiGroups: [...r.apiGroups], resources: [...r.resources], verbs: [...r.verbs] };
        simple.set(k, c);
        out.push(c);
      }
    } else out.push(r);
  }
  return out;
}

const q = (l: string[]) => `[${l.map((s) => JSON.stringify(s)).join(' ')}]`;
/** rbacv1helpers.CompactString. */
export function compactString(r: PolicyRule): string {
  const parts: string[] = [];
  if (r.apiGroups?.length) parts.push(`APIGroups:${q(r.apiGroups)}`);
  if (r.resources?.length) parts.push(`Resources:${q(r.resources)}`);
  if (r.nonResourceURLs?.length) parts.push(`NonResourceURLs:${q(r.nonResourceURLs)}`);
  if (r.resourceNames?.length) parts.push(`ResourceNames:${q(r.resourceNames)}`);
  if (r.verbs.length) parts.push(`Verbs:${q(r.verbs)}`);
  return `{${parts.join(', ')}}`;
}

export const rulesOf = (o: KObject | undefined): PolicyRule[] => ((o as Obj | undefined)?.rules ?? []) as PolicyRule[];
