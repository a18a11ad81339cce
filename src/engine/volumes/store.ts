/**
 * @module engine/volumes/store
 * A Docker volume is a PersistentVolumeClaim (`kapi-vol-<hash of instance and name>`: the name
 * decides the object name, so two concurrent creates of one name make one claim). Labels
 * `kuber-api.io/instance`, `kuber-api.io/kind=volume` (a watch cache selects them); annotations
 * hold the Docker name, creation time, labels and driver options (JSON, readable with kubectl).
 * In a cluster the claim is owned by kuber-api's Pod like every other object (GC deletes it with
 * the job). The claim's spec comes from the named options (--volume-storage-class, --volume-size,
 * --volume-access-mode), each overridable per volume by the driver options `storageclass`, `size`
 * and `accessmode` (`docker volume create -o size=5Gi`).
 */
import { createHash } from 'node:crypto';
import type { KObject } from '../../kube/cache.js';
import { LABEL_INSTANCE, LABEL_KIND, LABEL_MANAGED_BY } from '../model/record.js';
import { podOwnerRefs } from '../model/owner.js';

export const ANN_VOLUME_NAME = 'kuber-api.io/volume-name';
export const ANN_VOLUME_CREATED = 'kuber-api.io/created';
export const ANN_VOLUME_LABELS = 'kuber-api.io/docker-labels';
export const ANN_VOLUME_OPTIONS = 'kuber-api.io/driver-options';
/** moby volume/service/service.go AnonymousLabel: marks volumes created for one container. */
export const ANONYMOUS_LABEL = 'com.docker.volume.anonymous';

export interface ClaimDefaults {
  storageClass: string;
  size: string;
  accessMode: string;
}

export interface PvcObject extends KObject {
  spec?: {
    accessModes?: string[];
    storageClassName?: string;
    volumeName?: string;
    resources?: { requests?: Record<string, string> };
  };
  status?: { phase?: string; capacity?: Record<string, string>; accessModes?: string[] };
}

/** A Docker volume as read from its claim. */
export interface VolumeRecord {
  name: string;
  created: string;
  labels: Record<string, string>;
  options: Record<string, string>;
  claim: PvcObject;
}

export function claimName(instance: string, name: string): string {
  return `kapi-vol-${createHash('sha256').update(`${instance}\0${name}`).digest('hex').slice(0, 20)}`;
}

export function volumeSelector(instance: string): string {
  return `${LABEL_INSTANCE}=${instance},${LABEL_KIND}=volume`;
}

/** The claim of a new volume. Driver options storageclass/size/accessmode override the defaults. */
export function claimObject(
  ctx: { namespace: string; instance: string; owner?: { name: string; uid: string } },
  v: { name: string; created: string; labels: Record<string, string>; options: Record<string, string> },
  d: ClaimDefaults,
): PvcObject {
  const storageClass = v.options.storageclass ?? d.storageClass;
  return {
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: {
      name: claimName(ctx.instance, v.name),
      namespace: ctx.namespace,
      labels: { [LABEL_INSTANCE]: ctx.instance, [LABEL_KIND]: 'volume', [LABEL_MANAGED_BY]: 'kuber-api' },
      annotations: {
        [ANN_VOLUME_NAME]: v.name,
        [ANN_VOLUME_CREATED]: v.created,
        [ANN_VOLUME_LABELS]: JSON.stringify(v.labels),
        [ANN_VOLUME_OPTIONS]: JSON.stringify(v.options),
      },
      ...podOwnerRefs(ctx.owner),
    },
    spec: {
      accessModes: [v.options.accessmode ?? d.accessMode],
      resources: { requests: { storage: v.options.size ?? d.size } },
      ...(storageClass ? { storageClassName: storageClass } : {}),
    },
  };
}

const json = (s: string | undefined): Record<string, string> => {
  try {
    const v = s ? (JSON.parse(s) as unknown) : {};
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, string>) : {};
  } catch {
    return {};
  }
};

export function decodeVolume(c: PvcObject): VolumeRecord | undefined {
  const a = c.metadata.annotations ?? {};
  const name = a[ANN_VOLUME_NAME];
  if (!name || c.metadata.deletionTimestamp) return undefined;
  return {
    name,
    created: a[ANN_VOLUME_CREATED] ?? c.metadata.creationTimestamp ?? '',
    labels: json(a[ANN_VOLUME_LABELS]),
    options: json(a[ANN_VOLUME_OPTIONS]),
    claim: c,
  };
}

/** Whether the claim's users must share a node (ReadWriteOnce and ReadWriteOncePod). */
export function isSingleNode(c: PvcObject): boolean {
  const modes = c.spec?.accessModes ?? [];
  return !modes.includes('ReadWriteMany') && !modes.includes('ReadOnlyMany');
}

/** `docker volume inspect` (moby api/types/volume Volume). Mountpoint names the claim; Status says where it is. */
export function volumeView(v: VolumeRecord, namespace: string): Record<string, unknown> {
  const c = v.claim;
  const created = v.created ? v.created.replace(/\.\d+Z$/, 'Z') : '';
  return {
    CreatedAt: created,
    Driver: 'local',
    Labels: Object.keys(v.labels).length ? v.labels : null,
    Mountpoint: `kubernetes:${namespace}/persistentvolumeclaims/${c.metadata.name}`,
    Name: v.name,
    Options: Object.keys(v.options).length ? v.options : null,
    Scope: 'local',
    Status: {
      PersistentVolumeClaim: c.metadata.name,
      Phase: c.status?.phase ?? 'Pending',
      StorageClass: c.spec?.storageClassName ?? '',
      AccessModes: (c.spec?.accessModes ?? []).join(','),
      Requested: c.spec?.resources?.requests?.storage ?? '',
      ...(c.spec?.volumeName ? { PersistentVolume: c.spec.volumeName } : {}),
    },
  };
}
