/**
 * @module engine/model/record
 * A container's durable record: one ConfigMap per container, labelled with the instance and the
 * short ID. Annotations hold the Docker identity (full ID, name, creation time), the original
 * create body (msgpackr, base64: compact, and exact for every JSON value), and the small mutable
 * state (JSON, readable with kubectl). The ConfigMap's `data`/`binaryData` stay free for what later
 * issues stage before start (archives, network and port settings).
 */
import { Packr } from 'msgpackr';
import type { ContainerRecord, CreateBody, RecordState } from './types.js';
import { shortId } from './ids.js';
import type { KObject } from '../../kube/cache.js';
import { podOwnerRefs } from './owner.js';

export const LABEL_INSTANCE = 'kuber-api.io/instance';
export const LABEL_CONTAINER = 'kuber-api.io/container';
export const LABEL_KIND = 'kuber-api.io/kind';
export const LABEL_MANAGED_BY = 'app.kubernetes.io/managed-by';

export const ANN_ID = 'kuber-api.io/id';
export const ANN_NAME = 'kuber-api.io/name';
export const ANN_CREATED = 'kuber-api.io/created';
export const ANN_CONFIG = 'kuber-api.io/config';
export const ANN_STATE = 'kuber-api.io/state';
export const ANN_RUN = 'kuber-api.io/run';
export const ANN_LABELS = 'kuber-api.io/docker-labels';
export const ANN_STOP_SIGNAL = 'kuber-api.io/stop-signal';
/** JSON `{id, defaults}`: the image the container was made from (engine/images/service.ts). */
export const ANN_IMAGE = 'kuber-api.io/image';

// Plain maps, no shared record structures: any msgpackr version decodes what any other wrote.
const packr = new Packr({ useRecords: false, variableMapSize: true });

export function encodeConfig(config: CreateBody): string {
  return Buffer.from(packr.pack(config)).toString('base64');
}

export function decodeConfig(b64: string): CreateBody {
  return packr.unpack(Buffer.from(b64, 'base64')) as CreateBody;
}

export interface RecordContext {
  namespace: string;
  instance: string;
  /** Owner of every record (kuber-api's own Pod) when running in a cluster. */
  owner?: { apiVersion: 'v1'; kind: 'Pod'; name: string; uid: string };
}

export function selectorFor(instance: string, kind: 'container' = 'container'): string {
  return `${LABEL_INSTANCE}=${instance},${LABEL_KIND}=${kind}`;
}

/** The ConfigMap for a new container. */
export function recordObject(ctx: RecordContext, r: Omit<ContainerRecord, 'object'>, objectName: string): KObject {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: {
      name: objectName,
      namespace: ctx.namespace,
      labels: {
        [LABEL_INSTANCE]: ctx.instance,
        [LABEL_KIND]: 'container',
        [LABEL_CONTAINER]: shortId(r.id),
        [LABEL_MANAGED_BY]: 'kuber-api',
      },
      annotations: {
        [ANN_ID]: r.id,
        [ANN_NAME]: r.name,
        [ANN_CREATED]: r.created,
        [ANN_CONFIG]: encodeConfig(r.config),
        [ANN_STATE]: JSON.stringify(r.state),
        ...(r.image ? { [ANN_IMAGE]: JSON.stringify(r.image) } : {}),
      },
      ...podOwnerRefs(ctx.owner),
    },
  };
}

/** Decode a ConfigMap into a record; undefined if it is not one of ours (or is damaged). */
export function decodeRecord(cm: KObject): ContainerRecord | undefined {
  const a = cm.metadata.annotations ?? {};
  const id = a[ANN_ID];
  if (!id || !a[ANN_NAME] || !a[ANN_CONFIG]) return undefined;
  let config: CreateBody;
  let state: RecordState;
  let image: ContainerRecord['image'];
  try {
    config = decodeConfig(a[ANN_CONFIG]!);
    state = { run: 0, restartCount: 0, ...(a[ANN_STATE] ? (JSON.parse(a[ANN_STATE]!) as RecordState) : {}) };
    image = a[ANN_IMAGE] ? (JSON.parse(a[ANN_IMAGE]!) as ContainerRecord['image']) : undefined;
  } catch {
    return undefined;
  }
  return {
    id,
    name: a[ANN_NAME]!,
    created: a[ANN_CREATED] ?? cm.metadata.creationTimestamp ?? new Date(0).toISOString(),
    config,
    state,
    ...(image ? { image } : {}),
    object: { name: cm.metadata.name, uid: cm.metadata.uid ?? '', resourceVersion: cm.metadata.resourceVersion ?? '' },
  };
}

/**
 * A merge patch that replaces the record's state (and optionally its name) only if nobody changed
 * the record since we read it: a resourceVersion in a patch is a precondition (apiserver
 * patch.go applyPatch), so a stale write fails with 409 Conflict instead of losing an update.
 */
export function statePatch(r: ContainerRecord, state: RecordState, name?: string): unknown {
  const annotations: Record<string, string> = { [ANN_STATE]: JSON.stringify(state) };
  if (name !== undefined) annotations[ANN_NAME] = name;
  return { metadata: { resourceVersion: r.object.resourceVersion, annotations } };
}
