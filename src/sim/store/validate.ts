/**
 * @module sim/store/validate
 * The validation real apiservers do that clients actually hit (pkg/apis/core/validation): names,
 * required pod fields, and the pod spec update rules (ValidatePodUpdate).
 */
import { StatusError, invalid } from '../status.js';
import type { KObject } from '../types.js';
import { deepEqual } from './patch.js';
import type { ResourceDef } from './resources.js';
import { validateStorageCreate, validateStorageUpdate } from './storage-api.js';

type Obj = Record<string, any>;
type Cause = { field: string; message: string; reason?: string };

const SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1035 = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;

const SUBDOMAIN_MSG =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
const LABEL_MSG =
  "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
const DNS1035_MSG =
  "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')";

const q = (v: unknown) => JSON.stringify(v);

function checkName(name: string, field: string, def: ResourceDef | 'label' | 'subdomain', causes: Cause[]): void {
  const kind =
    def === 'label'
      ? 'label'
      : def === 'subdomain'
        ? 'subdomain'
        : def.resource === 'services'
          ? 'dns1035'
          : def.nameIsLabel
            ? 'label'
            : def.group === 'rbac.authorization.k8s.io'
              ? 'path'
              : 'subdomain';
  if (kind === 'path') {
    // RBAC names are path segments (pkg/apis/rbac/validation: ValidateRBACName), so `system:basic-user` is valid.
    if (name === '.' || name === '..')
      causes.push({ field, message: `Invalid value: ${q(name)}: may not be '${name}'` });
    else
      for (const bad of ['/', '%'])
        if (name.includes(bad)) causes.push({ field, message: `Invalid value: ${q(name)}: may not contain '${bad}'` });
  } else if (kind === 'dns1035') {
    if (!DNS1035.test(name) || name.length > 63)
      causes.push({
        field,
        message: `Invalid value: ${q(name)}: ${name.length > 63 ? 'must be no more than 63 characters' : DNS1035_MSG}`,
      });
  } else if (kind === 'label') {
    if (!LABEL.test(name) || name.length > 63)
      causes.push({
        field,
        message: `Invalid value: ${q(name)}: ${name.length > 63 ? 'must be no more than 63 characters' : LABEL_MSG}`,
      });
  } else if (!SUBDOMAIN.test(name) || name.length > 253) {
    causes.push({
      field,
      message: `Invalid value: ${q(name)}: ${name.length > 253 ? 'must be no more than 253 characters' : SUBDOMAIN_MSG}`,
    });
  }
}

const LABEL_KEY =
  /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

function checkMeta(obj: KObject, def: ResourceDef, causes: Cause[]): void {
  const m = obj.metadata;
  if (!m.name)
    causes.push({
      field: 'metadata.name',
      message: 'Required value: name or generateName is required',
      reason: 'FieldValueRequired',
    });
  else checkName(m.name, 'metadata.name', def, causes);
  for (const [k, v] of Object.entries(m.labels ?? {})) {
    if (!LABEL_KEY.test(k) || k.length > 317)
      causes.push({
        field: 'metadata.labels',
        message: `Invalid value: ${q(k)}: name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character`,
      });
    if (typeof v !== 'string' || !LABEL_VALUE.test(v) || v.length > 63)
      causes.push({
        field: 'metadata.labels',
        message: `Invalid value: ${q(v)}: a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character`,
      });
  }
}

function checkContainers(
  list: Obj[] | undefined,
  field: string,
  required: boolean,
  seen: Set<string>,
  causes: Cause[],
): void {
  if (!Array.isArray(list) || list.length === 0) {
    if (required) causes.push({ field, message: 'Required value', reason: 'FieldValueRequired' });
    return;
  }
  list.forEach((c, i) => {
    const f = `${field}[${i}]`;
    if (!c.name) causes.push({ field: `${f}.name`, message: 'Required value', reason: 'FieldValueRequired' });
    else {
      checkName(c.name, `${f}.name`, 'label', causes);
      if (seen.has(c.name))
        causes.push({ field: `${f}.name`, message: `Duplicate value: ${q(c.name)}`, reason: 'FieldValueDuplicate' });
      seen.add(c.name);
    }
    if (!c.image) causes.push({ field: `${f}.image`, message: 'Required value', reason: 'FieldValueRequired' });
  });
}

function checkPod(pod: Obj, causes: Cause[]): void {
  const spec = pod.spec ?? {};
  const seen = new Set<string>();
  checkContainers(spec.containers, 'spec.containers', true, seen, causes);
  checkContainers(spec.initContainers, 'spec.initContainers', false, seen, causes);
  const rp = spec.restartPolicy;
  if (rp !== undefined && !['Always', 'OnFailure', 'Never'].includes(rp))
    causes.push({
      field: 'spec.restartPolicy',
      message: `Unsupported value: ${q(rp)}: supported values: "Always", "OnFailure", "Never"`,
      reason: 'FieldValueNotSupported',
    });
  const vols = new Set<string>();
  (spec.volumes ?? []).forEach((v: Obj, i: number) => {
    if (vols.has(v.name))
      causes.push({
        field: `spec.volumes[${i}].name`,
        message: `Duplicate value: ${q(v.name)}`,
        reason: 'FieldValueDuplicate',
      });
    vols.add(v.name);
  });
  for (const [field, list] of [
    ['spec.containers', spec.containers],
    ['spec.initContainers', spec.initContainers],
  ] as const) {
    (list ?? []).forEach((c: Obj, i: number) =>
      (c.volumeMounts ?? []).forEach((m: Obj, j: number) => {
        if (!vols.has(m.name))
          causes.push({
            field: `${field}[${i}].volumeMounts[${j}].name`,
            message: `Not found: ${q(m.name)}`,
            reason: 'FieldValueNotFound',
          });
      }),
    );
  }
  if (
    spec.activeDeadlineSeconds !== undefined &&
    !(Number.isInteger(spec.activeDeadlineSeconds) && spec.activeDeadlineSeconds > 0)
  )
    causes.push({
      field: 'spec.activeDeadlineSeconds',
      message: `Invalid value: ${spec.activeDeadlineSeconds}: must be between 1 and 2147483647, inclusive`,
    });
}

/** Validate an object about to be created; throws 422 Invalid. */
export function validateCreate(def: ResourceDef, obj: KObject): void {
  const causes: Cause[] = [];
  checkMeta(obj, def, causes);
  if (def.resource === 'pods') checkPod(obj as Obj, causes);
  causes.push(...validateStorageCreate(def.resource, obj as Obj));
  if (causes.length) throw invalid(obj.kind, obj.metadata.name ?? '', causes, def.group);
}

/**
 * ValidatePodUpdate: only images, activeDeadlineSeconds (set, or lowered), additional
 * tolerations and removed schedulingGates may change.
 */
function checkPodUpdate(next: Obj, prev: Obj, causes: Cause[]): void {
  const a = structuredClone(next.spec ?? {});
  const b = structuredClone(prev.spec ?? {});
  for (const key of ['containers', 'initContainers']) {
    const an: Obj[] = a[key] ?? [],
      bn: Obj[] = b[key] ?? [];
    an.forEach((c, i) => {
      if (bn[i]) c.image = bn[i]!.image;
    });
  }
  const ads = a.activeDeadlineSeconds,
    bds = b.activeDeadlineSeconds;
  if (ads !== bds) {
    if (ads === undefined)
      causes.push({
        field: 'spec.activeDeadlineSeconds',
        message: 'Invalid value: "null": must not update from a positive integer to nil value',
      });
    else if (bds !== undefined && ads > bds)
      causes.push({
        field: 'spec.activeDeadlineSeconds',
        message: `Invalid value: ${ads}: must be less than or equal to previous value`,
      });
  }
  a.activeDeadlineSeconds = b.activeDeadlineSeconds;
  // Tolerations may only be added to.
  const at: Obj[] = a.tolerations ?? [],
    bt: Obj[] = b.tolerations ?? [];
  if (bt.every((t) => at.some((x) => deepEqual(x, t)))) a.tolerations = b.tolerations;
  if ((a.schedulingGates ?? []).length <= (b.schedulingGates ?? []).length) a.schedulingGates = b.schedulingGates;
  if (a.terminationGracePeriodSeconds === 1 && b.terminationGracePeriodSeconds < 0)
    a.terminationGracePeriodSeconds = b.terminationGracePeriodSeconds;
  if (!deepEqual(JSON.parse(JSON.stringify(a)), JSON.parse(JSON.stringify(b)))) {
    causes.push({
      field: 'spec',
      reason: 'FieldValueForbidden',
      message:
        'Forbidden: pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)',
    });
  }
}

/** Validate an update of `prev` into `next`; throws 422 Invalid. */
export function validateUpdate(def: ResourceDef, next: KObject, prev: KObject): void {
  const causes: Cause[] = [];
  checkMeta(next, def, causes);
  if (def.resource === 'pods') {
    checkPod(next as Obj, causes);
    checkPodUpdate(next as Obj, prev as Obj, causes);
  }
  if (def.resource === 'services') {
    const a = (next as Obj).spec?.clusterIP,
      b = (prev as Obj).spec?.clusterIP;
    if (b && a !== b)
      causes.push({
        field: 'spec.clusterIPs[0]',
        message: `Invalid value: ${q(a ?? '')}: may not change once set`,
        reason: 'FieldValueInvalid',
      });
  }
  causes.push(...validateStorageUpdate(def.resource, next as Obj, prev as Obj));
  if (def.resource === 'secrets' || def.resource === 'configmaps') {
    if (
      (prev as Obj).immutable === true &&
      !deepEqual({ ...(next as Obj), metadata: 0 }, { ...(prev as Obj), metadata: 0 })
    )
      causes.push({
        field: 'data',
        message: 'Forbidden: field is immutable when `immutable` is set',
        reason: 'FieldValueForbidden',
      });
  }
  if (causes.length) throw invalid(next.kind, next.metadata.name ?? '', causes, def.group);
}

export { StatusError };
