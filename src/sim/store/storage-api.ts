/**
 * @module sim/store/storage-api
 * What the apiserver does to PersistentVolumes, PersistentVolumeClaims and StorageClasses on the way
 * in: defaulting (pkg/apis/core/v1/defaults.go SetDefaults_PersistentVolume{,Claim}Spec,
 * pkg/apis/storage/v1/defaults.go), the admission plugins every cluster runs on them
 * (plugin/pkg/admission/storage/storageclass/setdefault "DefaultStorageClass",
 * plugin/pkg/admission/storage/storageobjectinuseprotection), and validation
 * (pkg/apis/core/validation ValidatePersistentVolume{,Claim}{,Update},
 * pkg/apis/storage/validation ValidateStorageClass{,Update}). The controllers that act on them
 * are src/sim/storage.
 */
import type { KObject } from '../types.js';
import { deepEqual } from './patch.js';
import { quantityNumber } from '../../kube/quantity.js';

type Obj = Record<string, any>;
export type Cause = { field: string; message: string; reason?: string };

export const DEFAULT_CLASS_ANNOTATION = 'storageclass.kubernetes.io/is-default-class';
const BETA_DEFAULT_CLASS_ANNOTATION = 'storageclass.beta.kubernetes.io/is-default-class';
export const PVC_PROTECTION = 'kubernetes.io/pvc-protection';
export const PV_PROTECTION = 'kubernetes.io/pv-protection';
const ACCESS_MODES = ['ReadOnlyMany', 'ReadWriteMany', 'ReadWriteOnce', 'ReadWriteOncePod'];
const q = (v: unknown) => JSON.stringify(v);

/** storageutil.IsDefaultAnnotation */
export const isDefaultClass = (sc: KObject) =>
  sc.metadata.annotations?.[DEFAULT_CLASS_ANNOTATION] === 'true' ||
  sc.metadata.annotations?.[BETA_DEFAULT_CLASS_ANNOTATION] === 'true';

/** The default class: the newest of those annotated default, ties by name (volume/util GetDefaultClass). */
export function defaultClassOf(classes: KObject[]): KObject | undefined {
  const defaults = classes.filter(isDefaultClass);
  defaults.sort(
    (a, b) =>
      (b.metadata.creationTimestamp ?? '').localeCompare(a.metadata.creationTimestamp ?? '') ||
      (a.metadata.name! < b.metadata.name! ? -1 : 1),
  );
  return defaults[0];
}

/** Create-time defaulting plus admission. `classes` lists the StorageClasses (for DefaultStorageClass). */
export function admitStorageObject(resource: string, obj: Obj, classes: () => KObject[]): void {
  const meta = obj.metadata;
  if (resource === 'persistentvolumeclaims') {
    const spec = (obj.spec ??= {});
    spec.volumeMode ??= 'Filesystem';
    // DefaultStorageClass: only a claim with no class at all gets one ("" means "no class").
    if (
      spec.storageClassName === undefined &&
      meta.annotations?.['volume.beta.kubernetes.io/storage-class'] === undefined
    ) {
      const def = defaultClassOf(classes());
      if (def) spec.storageClassName = def.metadata.name;
    }
    obj.status = { phase: 'Pending' };
    addFinalizer(meta, PVC_PROTECTION);
  } else if (resource === 'persistentvolumes') {
    const spec = (obj.spec ??= {});
    spec.persistentVolumeReclaimPolicy ??= 'Retain';
    spec.volumeMode ??= 'Filesystem';
    if (spec.hostPath) spec.hostPath.type ??= '';
    obj.status = { phase: 'Pending' };
    addFinalizer(meta, PV_PROTECTION);
  } else if (resource === 'storageclasses') {
    obj.reclaimPolicy ??= 'Delete';
    obj.volumeBindingMode ??= 'Immediate';
  }
}

function addFinalizer(meta: Obj, f: string): void {
  const fins: string[] = (meta.finalizers ??= []);
  if (!fins.includes(f)) fins.push(f);
}

// ------------------------------------------------------------------ validation

/** resource.Quantity syntax (apimachinery/pkg/api/resource): a number and an optional suffix. */
const QUANTITY = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+|Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E)?$/;

function checkAccessModes(modes: unknown, field: string, causes: Cause[]): void {
  if (!Array.isArray(modes) || !modes.length) {
    causes.push({ field, message: 'Required value: at least 1 access mode is required', reason: 'FieldValueRequired' });
    return;
  }
  for (const m of modes) {
    if (!ACCESS_MODES.includes(m))
      causes.push({
        field,
        message: `Unsupported value: ${q(m)}: supported values: ${ACCESS_MODES.map(q).join(', ')}`,
        reason: 'FieldValueNotSupported',
      });
  }
  if (modes.includes('ReadWriteOncePod') && modes.length > 1)
    causes.push({
      field,
      message: 'Forbidden: may not use ReadWriteOncePod with other access modes',
      reason: 'FieldValueForbidden',
    });
}

function checkStorage(v: unknown, field: string, causes: Cause[]): void {
  if (v === undefined || v === null) causes.push({ field, message: 'Required value', reason: 'FieldValueRequired' });
  else if (typeof v !== 'string' || !QUANTITY.test(v))
    causes.push({
      field,
      message: `Invalid value: ${q(v)}: quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'`,
    });
  else if (quantityBytes(v) <= 0) causes.push({ field, message: `Invalid value: ${q(v)}: must be greater than zero` });
}

function checkClaim(o: Obj, causes: Cause[]): void {
  const spec = o.spec ?? {};
  checkAccessModes(spec.accessModes, 'spec.accessModes', causes);
  checkStorage(spec.resources?.requests?.storage, 'spec.resources[storage]', causes);
  if (spec.volumeMode !== undefined && !['Block', 'Filesystem'].includes(spec.volumeMode))
    causes.push({
      field: 'spec.volumeMode',
      message: `Unsupported value: ${q(spec.volumeMode)}: supported values: "Block", "Filesystem"`,
      reason: 'FieldValueNotSupported',
    });
}

const SOURCES = [
  'hostPath',
  'local',
  'nfs',
  'csi',
  'iscsi',
  'fc',
  'cephfs',
  'rbd',
  'glusterfs',
  'flexVolume',
  'azureFile',
  'azureDisk',
  'gcePersistentDisk',
  'awsElasticBlockStore',
  'cinder',
  'portworxVolume',
  'scaleIO',
  'storageos',
  'vsphereVolume',
  'quobyte',
  'photonPersistentDisk',
  'flocker',
];

function checkVolume(o: Obj, causes: Cause[]): void {
  const spec = o.spec ?? {};
  checkAccessModes(spec.accessModes, 'spec.accessModes', causes);
  if (!spec.capacity || typeof spec.capacity !== 'object' || !Object.keys(spec.capacity).length)
    causes.push({ field: 'spec.capacity', message: 'Required value', reason: 'FieldValueRequired' });
  else checkStorage(spec.capacity.storage, 'spec.capacity[storage]', causes);
  const sources = SOURCES.filter((s) => spec[s] !== undefined);
  if (!sources.length)
    causes.push({ field: 'spec', message: 'Required value: must specify a volume type', reason: 'FieldValueRequired' });
  else if (sources.length > 1)
    causes.push({
      field: `spec.${sources[1]}`,
      message: 'Forbidden: may not specify more than 1 volume type',
      reason: 'FieldValueForbidden',
    });
  if (spec.hostPath && !spec.hostPath.path)
    causes.push({ field: 'spec.hostPath.path', message: 'Required value', reason: 'FieldValueRequired' });
  if (spec.local) {
    if (!spec.local.path)
      causes.push({ field: 'spec.local.path', message: 'Required value', reason: 'FieldValueRequired' });
    if (!spec.nodeAffinity)
      causes.push({
        field: 'spec.nodeAffinity',
        message: 'Required value: Local volume requires node affinity',
        reason: 'FieldValueRequired',
      });
  }
  const rp = spec.persistentVolumeReclaimPolicy;
  if (rp !== undefined && !['Delete', 'Recycle', 'Retain'].includes(rp))
    causes.push({
      field: 'spec.persistentVolumeReclaimPolicy',
      message: `Unsupported value: ${q(rp)}: supported values: "Delete", "Recycle", "Retain"`,
      reason: 'FieldValueNotSupported',
    });
}

function checkClass(o: Obj, causes: Cause[]): void {
  if (!o.provisioner) causes.push({ field: 'provisioner', message: 'Required value', reason: 'FieldValueRequired' });
  if (o.reclaimPolicy !== undefined && !['Delete', 'Retain'].includes(o.reclaimPolicy))
    causes.push({
      field: 'reclaimPolicy',
      message: `Unsupported value: ${q(o.reclaimPolicy)}: supported values: "Delete", "Retain"`,
      reason: 'FieldValueNotSupported',
    });
  if (o.volumeBindingMode !== undefined && !['Immediate', 'WaitForFirstConsumer'].includes(o.volumeBindingMode))
    causes.push({
      field: 'volumeBindingMode',
      message: `Unsupported value: ${q(o.volumeBindingMode)}: supported values: "Immediate", "WaitForFirstConsumer"`,
      reason: 'FieldValueNotSupported',
    });
}

export function validateStorageCreate(resource: string, o: Obj): Cause[] {
  const causes: Cause[] = [];
  if (resource === 'persistentvolumeclaims') checkClaim(o, causes);
  else if (resource === 'persistentvolumes') checkVolume(o, causes);
  else if (resource === 'storageclasses') checkClass(o, causes);
  return causes;
}

/**
 * ValidatePersistentVolumeClaimUpdate: the spec is immutable but for binding fields (and resizes,
 * which kube-sim's classes do not allow).
 */
function checkClaimUpdate(next: Obj, prev: Obj, causes: Cause[]): void {
  const a = structuredClone(next.spec ?? {}),
    b = structuredClone(prev.spec ?? {});
  if (!b.volumeName && a.volumeName) b.volumeName = a.volumeName; // the binder sets it once
  if (b.storageClassName === undefined && a.storageClassName !== undefined) b.storageClassName = a.storageClassName; // retroactive default class
  const ar = a.resources?.requests?.storage,
    br = b.resources?.requests?.storage;
  if (ar !== br) {
    causes.push({
      field: 'spec.resources.requests.storage',
      reason: 'FieldValueForbidden',
      message:
        'Forbidden: only dynamically provisioned pvc can be resized and the storageclass that provisions the pvc must support resize',
    });
    a.resources = b.resources;
  }
  if (!deepEqual(JSON.parse(JSON.stringify(a)), JSON.parse(JSON.stringify(b))))
    causes.push({
      field: 'spec',
      reason: 'FieldValueForbidden',
      message:
        'Forbidden: spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims',
    });
}

/** ValidatePersistentVolumeUpdate: the volume source is immutable; claimRef, capacity... may change. */
function checkVolumeUpdate(next: Obj, prev: Obj, causes: Cause[]): void {
  const a = next.spec ?? {},
    b = prev.spec ?? {};
  for (const s of SOURCES) {
    if (b[s] !== undefined && !deepEqual(JSON.parse(JSON.stringify(a[s] ?? null)), b[s]))
      causes.push({
        field: 'spec.persistentvolumesource',
        reason: 'FieldValueForbidden',
        message: 'Forbidden: spec.persistentvolumesource is forbidden.',
      });
  }
  if (b.nodeAffinity && !deepEqual(JSON.parse(JSON.stringify(a.nodeAffinity ?? null)), b.nodeAffinity))
    causes.push({
      field: 'spec.nodeAffinity',
      reason: 'FieldValueForbidden',
      message: 'Forbidden: field is immutable',
    });
}

function checkClassUpdate(next: Obj, prev: Obj, causes: Cause[]): void {
  for (const f of ['parameters', 'provisioner', 'reclaimPolicy', 'volumeBindingMode']) {
    if (!deepEqual(JSON.parse(JSON.stringify(next[f] ?? null)), prev[f] ?? null))
      causes.push({ field: f, reason: 'FieldValueForbidden', message: `Forbidden: updates to ${f} are forbidden.` });
  }
}

export function validateStorageUpdate(resource: string, next: Obj, prev: Obj): Cause[] {
  const causes = validateStorageCreate(resource, next);
  if (resource === 'persistentvolumeclaims') checkClaimUpdate(next, prev, causes);
  else if (resource === 'persistentvolumes') checkVolumeUpdate(next, prev, causes);
  else if (resource === 'storageclasses') checkClassUpdate(next, prev, causes);
  return causes;
}

/** A storage quantity in bytes (NaN when malformed). */
export const quantityBytes = (v: unknown): number => quantityNumber(v);
