/**
 * @module sim/admission/quota-validation
 * ResourceQuota spec validation (pkg/apis/core/validation/validation.go ValidateResourceQuotaSpec):
 * resource names a quota can limit, non-negative amounts, and scopes that exist, do not conflict
 * and apply to the limited resources — the 422 `ResourceQuota "q" is invalid: ...` a typo such as
 * `limit.cpu` gets. Checked with the quota plugin, right after kube-sim's own validation.
 * (The integer check of count resources is left out: upstream words it with a Go struct dump.)
 */
import { formatQuantity, parseQuantity } from '../../kube/quantity.js';
import { StatusError } from '../status.js';

type Obj = Record<string, any>;

const STANDARD = new Set([
  'cpu',
  'memory',
  'ephemeral-storage',
  'requests.cpu',
  'requests.memory',
  'requests.ephemeral-storage',
  'limits.cpu',
  'limits.memory',
  'limits.ephemeral-storage',
  'pods',
  'resourcequotas',
  'services',
  'replicationcontrollers',
  'secrets',
  'configmaps',
  'persistentvolumeclaims',
  'storage',
  'requests.storage',
  'services.nodeports',
  'services.loadbalancers',
]);
const QUOTA = new Set([...STANDARD].filter((r) => r !== 'storage'));
const hugePages = (r: string) => r.startsWith('hugepages-') || r.startsWith('requests.hugepages-');
const SCOPES = new Set(['Terminating', 'NotTerminating', 'BestEffort', 'NotBestEffort', 'PriorityClass']);
const POD_COUNT = new Set(['pods']);
const POD_COMPUTE = new Set(['cpu', 'memory', 'limits.cpu', 'limits.memory', 'requests.cpu', 'requests.memory']);

/** IsResourceQuotaScopeValidForResource. */
function scopeFits(scope: string, resource: string): boolean {
  if (scope === 'BestEffort') return POD_COUNT.has(resource);
  if (['Terminating', 'NotTerminating', 'NotBestEffort', 'PriorityClass'].includes(scope))
    return POD_COUNT.has(resource) || POD_COMPUTE.has(resource);
  return true;
}

interface FieldError {
  field: string;
  value: string;
  detail: string;
}

/** Go's %#v of the scopes slice, as field.Invalid prints it. */
const goScopes = (scopes: string[]) => `[]core.ResourceQuotaScope{${scopes.map((s) => JSON.stringify(s)).join(', ')}}`;

export function validateQuotaSpec(spec: Obj | undefined): FieldError[] {
  const errs: FieldError[] = [];
  const hard: Record<string, unknown> = spec?.hard ?? {};
  for (const [k, v] of Object.entries(hard)) {
    const field = `spec.hard[${k}]`;
    if (!k.includes('/')) {
      if (!STANDARD.has(k) && !hugePages(k))
        errs.push({ field, value: JSON.stringify(k), detail: 'must be a standard resource type or fully qualified' });
      if (!QUOTA.has(k) && !hugePages(k))
        errs.push({ field, value: JSON.stringify(k), detail: 'must be a standard resource for quota' });
    }
    try {
      const q = parseQuantity(v);
      if (q.nano < 0n)
        errs.push({ field, value: JSON.stringify(formatQuantity(q)), detail: 'must be greater than or equal to 0' });
    } catch {
      /* the decoder refused it already */
    }
  }
  const scopes: string[] = spec?.scopes ?? [];
  const names = Object.keys(hard).sort();
  for (const s of scopes) {
    if (!SCOPES.has(s)) errs.push({ field: 'spec.scopes', value: goScopes(scopes), detail: 'unsupported scope' });
    for (const k of names)
      if ((QUOTA.has(k) || hugePages(k)) && !scopeFits(s, k))
        errs.push({ field: 'spec.scopes', value: goScopes(scopes), detail: 'unsupported scope applied to resource' });
  }
  for (const [a, b] of [
    ['BestEffort', 'NotBestEffort'],
    ['Terminating', 'NotTerminating'],
  ]) {
    if (scopes.includes(a!) && scopes.includes(b!))
      errs.push({ field: 'spec.scopes', value: goScopes(scopes), detail: 'conflicting scopes' });
  }
  return errs;
}

/** errors.NewInvalid(ResourceQuota, name, errs). */
export function invalidQuota(name: string, errs: FieldError[]): StatusError {
  const causes = errs.map((e) => ({
    reason: 'FieldValueInvalid',
    message: `Invalid value: ${e.value}: ${e.detail}`,
    field: e.field,
  }));
  const texts = [...new Set(causes.map((c) => `${c.field}: ${c.message}`))];
  return new StatusError(
    422,
    'Invalid',
    `ResourceQuota ${JSON.stringify(name)} is invalid: ${texts.length === 1 ? texts[0] : `[${texts.join(', ')}]`}`,
    { name, kind: 'ResourceQuota', causes },
  );
}
