/**
 * @module kube/pod-security/evaluate
 * The check registry and the admission decision (k8s.io/pod-security-admission/policy/registry.go,
 * checks.go AggregateCheckResults, admission/admission.go EvaluatePod). Checks run in a fixed
 * order (baseline ids sorted, then restricted ids sorted) so messages are stable; a version newer
 * than the newest check version (and `latest`) evaluates as the newest.
 */
import { levelVersionString, type LevelVersion, type Policy } from './api.js';
import { CHECKS, type Check, type CheckFn, type CheckResult, type VersionedCheck } from './checks.js';

type Obj = Record<string, any>;

/** The newest minimum version any check has: what `latest` means for this policy library. */
export const MAX_POLICY_MINOR = Math.max(...CHECKS.flatMap((c) => c.versions.map((v) => v.minVersion)));

const ORDER = [
  ...CHECKS.filter((c) => c.level === 'baseline')
    .map((c) => c.id)
    .sort(),
  ...CHECKS.filter((c) => c.level === 'restricted')
    .map((c) => c.id)
    .sort(),
];
const BY_ID = new Map(CHECKS.map((c) => [c.id, c]));

/** The implementation of a check at a policy minor version, if the check exists there yet. */
function at(check: Check, minor: number): VersionedCheck | undefined {
  let found: VersionedCheck | undefined;
  for (const v of check.versions) if (v.minVersion <= minor) found = v;
  return found;
}

const cache = new Map<string, CheckFn[]>();

/** The checks a level runs at a version (restricted: its own plus the baseline ones it does not override). */
export function checksFor(lv: LevelVersion): CheckFn[] {
  if (lv.level === 'privileged') return [];
  const minor = lv.version.latest ? MAX_POLICY_MINOR : Math.min(lv.version.minor, MAX_POLICY_MINOR);
  const key = `${lv.level}:${minor}`;
  const hit = cache.get(key);
  if (hit) return hit;
  const active = new Map<string, VersionedCheck>();
  for (const id of ORDER) {
    const c = BY_ID.get(id)!;
    if (lv.level === 'baseline' && c.level !== 'baseline') continue;
    const v = at(c, minor);
    if (v) active.set(id, v);
  }
  if (lv.level === 'restricted') {
    for (const id of ORDER)
      for (const o of BY_ID.get(id)!.level === 'restricted' ? (active.get(id)?.overrides ?? []) : []) active.delete(o);
  }
  const fns = ORDER.filter((id) => active.has(id)).map((id) => active.get(id)!.check);
  cache.set(key, fns);
  return fns;
}

export interface AggregateResult {
  allowed: boolean;
  reasons: string[];
  details: string[];
}

export function evaluate(lv: LevelVersion, meta: Obj, spec: Obj): AggregateResult {
  const results: CheckResult[] = checksFor(lv).map((f) => f(meta ?? {}, spec ?? {}));
  const failed = results.filter((r) => !r.allowed);
  return {
    allowed: !failed.length,
    reasons: failed.map((r) => r.reason || 'unknown forbidden reason'),
    details: failed.map((r) => r.detail ?? ''),
  };
}

/** "host namespaces (hostNetwork=true), privileged (container "main" must ...)" */
export const forbiddenDetail = (r: AggregateResult) =>
  r.reasons.map((reason, i) => (r.details[i] ? `${reason} (${r.details[i]})` : reason)).join(', ');
/** "host namespaces, privileged" */
export const forbiddenReason = (r: AggregateResult) => r.reasons.join(', ');

export interface PodSecurityDecision {
  allowed: boolean;
  /** Why enforce refused: `violates PodSecurity "baseline:latest": ...` (the 403's message after "is forbidden: "). */
  denial?: string;
  /** What `warn` says (the Warning headers). */
  warnings: string[];
  /** What `audit` would record (`pod-security.kubernetes.io/audit-violations`). */
  auditViolation?: string;
}

/**
 * EvaluatePod: enforce (when asked: pods, not their controllers), audit, and warn — warnings only
 * when the pod is admitted. Results are shared between modes with the same level and version.
 */
export function decidePod(policy: Policy, meta: Obj, spec: Obj, enforce = true): PodSecurityDecision {
  const results = new Map<string, AggregateResult>();
  const run = (lv: LevelVersion) => {
    const k = levelVersionString(lv);
    let r = results.get(k);
    if (!r) results.set(k, (r = evaluate(lv, meta, spec)));
    return r;
  };
  const out: PodSecurityDecision = { allowed: true, warnings: [] };
  if (enforce) {
    const r = run(policy.enforce);
    if (!r.allowed) {
      out.allowed = false;
      out.denial = `violates PodSecurity ${JSON.stringify(levelVersionString(policy.enforce))}: ${forbiddenDetail(r)}`;
    }
  }
  const audit = run(policy.audit);
  if (!audit.allowed)
    out.auditViolation = `would violate PodSecurity ${JSON.stringify(levelVersionString(policy.audit))}: ${forbiddenDetail(audit)}`;
  if (out.allowed) {
    const w = run(policy.warn);
    if (!w.allowed)
      out.warnings.push(
        `would violate PodSecurity ${JSON.stringify(levelVersionString(policy.warn))}: ${forbiddenDetail(w)}`,
      );
  }
  return out;
}

/**
 * EvaluatePodsInNamespace: the warnings a namespace update that tightens `enforce` returns about
 * the pods already there ("existing pods in namespace ... violate ...", then one line per reason
 * with the first pod's name and how many others share it). `maxPods` bounds the pods checked.
 */
export function existingPodWarnings(
  namespace: string,
  enforce: LevelVersion,
  pods: Array<{ metadata: Obj; spec?: Obj }>,
  maxPods: number,
): string[] {
  const checked = pods.slice(0, maxPods);
  const counts = new Map<string, { pod: string; n: number }>();
  const order: string[] = [];
  for (const p of checked) {
    const r = evaluate(enforce, p.metadata, p.spec ?? {});
    if (r.allowed) continue;
    const reason = forbiddenReason(r);
    const c = counts.get(reason);
    if (!c) {
      counts.set(reason, { pod: p.metadata.name, n: 1 });
      order.push(reason);
    } else {
      c.n++;
      if (p.metadata.name < c.pod) c.pod = p.metadata.name;
    }
  }
  const out: string[] = [];
  if (checked.length < pods.length)
    out.push(
      `new PodSecurity enforce level only checked against the first ${checked.length} of ${pods.length} existing pods`,
    );
  if (order.length)
    out.push(
      `existing pods in namespace ${JSON.stringify(namespace)} violate the new PodSecurity enforce level ${JSON.stringify(levelVersionString(enforce))}`,
    );
  const lines = order.map((reason) => {
    const c = counts.get(reason)!;
    if (c.n === 1) return `${c.pod}: ${reason}`;
    if (c.n === 2) return `${c.pod} (and 1 other pod): ${reason}`;
    return `${c.pod} (and ${c.n - 1} other pods): ${reason}`;
  });
  return [...out, ...lines.sort()];
}
