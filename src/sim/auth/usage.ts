/**
 * @module sim/auth/usage
 * What RBAC decided for the requests of users outside system:masters: per rule of a role
 * ('Role/<ns>/<name>#<index>'), the verb/resource pairs it allowed and how often; and the recent
 * denials. Served at GET /_sim/authz so a test can prove a Role sufficient (no denials) and name the
 * rules a workload never used. Not a Kubernetes API: kube-sim's own diagnostics.
 */
import type { Attributes, Decision } from './rbac.js';

export interface AuthzUsage {
  /** 'Role/default/kuber-api#1' -> { 'create pods/exec': 3 } */
  allowed: Record<string, Record<string, number>>;
  denied: Array<{
    user: string;
    verb: string;
    resource?: string;
    namespace?: string;
    name?: string;
    path?: string;
    reason: string;
  }>;
}

const what = (a: Attributes) =>
  a.resourceRequest
    ? `${a.verb} ${a.apiGroup ? `${a.resource}${a.subresource ? `/${a.subresource}` : ''}.${a.apiGroup}` : `${a.resource}${a.subresource ? `/${a.subresource}` : ''}`}`
    : `${a.verb} ${a.path}`;

export class UsageRecorder {
  private readonly usage: AuthzUsage = { allowed: {}, denied: [] };

  constructor(private readonly maxDenials: number) {}

  record(a: Attributes, d: Decision): void {
    if (d.allowed) {
      if (!d.rule) return;
      const per = (this.usage.allowed[`${d.rule.role}#${d.rule.index}`] ??= {});
      const k = what(a);
      per[k] = (per[k] ?? 0) + 1;
      return;
    }
    this.usage.denied.push({
      user: a.user.username,
      verb: a.verb,
      ...(a.resourceRequest
        ? {
            resource: a.subresource ? `${a.resource}/${a.subresource}` : a.resource,
            namespace: a.namespace || undefined,
            name: a.name || undefined,
          }
        : { path: a.path }),
      reason: d.reason,
    });
    if (this.usage.denied.length > this.maxDenials)
      this.usage.denied.splice(0, this.usage.denied.length - this.maxDenials);
  }

  snapshot(): AuthzUsage {
    return structuredClone(this.usage);
  }

  clear(): void {
    this.usage.allowed = {};
    this.usage.denied = [];
  }
}
