/**
 * @module engine/volumes/volume-pod
 * What a container's storage adds to its Pod (pure): the volumes, the main container's mounts and
 * the init containers, from the staged archives (engine/archive/plan.ts), the bind-mount snapshots
 * (engine/volumes/bind-stage.ts) and the Docker volumes/tmpfs mounts of the create body
 * (engine/volumes/spec.ts); plus the labels and pod affinity that keep the users of a ReadWriteOnce
 * claim on one node. translate.ts appends volumes/mounts/init containers to the Pod it builds, and
 * start.ts lays `labels`/`affinity` over it ({@link applyPodStorage}); this is the one seam.
 *
 * Copy-up (moby daemon/volumes_unix.go copyExistingContents): a volume mounted over image content
 * gets that content first when it is empty, unless `nocopy`. An init container of the container's
 * own image, as the container's own user (Pod Security: nothing more privileged than the
 * container), mounts each such claim aside and copies the image's directory into it with a static
 * busybox that another init container (the helper image) puts into an emptyDir, so that it works
 * in images without a shell.
 */
import type { V1Affinity, V1Container, V1PodAffinityTerm, V1SecurityContext } from '@kubernetes/client-node';
import type { PodStorage } from '../model/translate.js';
import type { Level } from '../../kube/pod-security/index.js';
import {
  stagedMounts,
  stagingPodParts,
  STAGE_VOLUME,
  type StagedManifest,
  type StagedSource,
} from '../archive/plan.js';
import type { StagedBind } from './bind-stage.js';
import { bindSidecar } from './bind-sync.js';
import type { MountPoint } from './spec.js';

export type { PodStorage };

export const NO_STORAGE: PodStorage = Object.freeze({ volumes: [], mounts: [], initContainers: [] }) as PodStorage;

/** A Docker volume mount with its claim. */
export interface ClaimMount {
  mount: MountPoint;
  claim: string;
  /** ReadWriteOnce: users are co-scheduled by pod affinity on this label key. */
  affinityKey?: string;
}

export interface StorageInput {
  /** The staged archives (engine/archive/stage.ts) and their chunk objects. */
  manifest: StagedManifest;
  sources: StagedSource[];
  helperImage: string;
  imagePullPolicy: string;
  /** The Pod Security level the Pod must pass, and the user helpers run as when not root (engine/model/security.ts). */
  securityLevel?: Level;
  helperUid?: number;
  binds?: StagedBind[];
  claims?: ClaimMount[];
  tmpfs?: MountPoint[];
  /** For copy-up: the container's image and security context. */
  image?: string;
  securityContext?: V1SecurityContext;
}

const TOOLS_VOLUME = 'kapi-vtools';
const TOOLS_DIR = '/.kapi-vtools';
const COPY_DIR = '/.kapi-copyup';
const sh = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

export function podStorage(input: StorageInput): PodStorage {
  const out: PodStorage = { volumes: [], mounts: [], initContainers: [] };
  const binds = input.binds ?? [];
  const parts = stagingPodParts(
    [...input.sources, ...binds.map((b) => b.source)],
    input.helperImage,
    input.imagePullPolicy,
    input.securityLevel ?? 'baseline',
    input.helperUid,
  );
  if (parts) {
    out.volumes.push(...parts.volumes);
    out.initContainers.push(parts.initContainer);
    for (const m of stagedMounts(input.manifest.archives).mounts)
      out.mounts.push({ name: STAGE_VOLUME, mountPath: m.mountPath, subPath: m.subPath });
    for (const b of binds)
      out.mounts.push({
        name: STAGE_VOLUME,
        mountPath: b.mount.target,
        subPath: b.subPath,
        ...(b.mount.readOnly ? { readOnly: true } : {}),
      });
    if (binds.some((b) => !b.mount.readOnly)) out.sidecars = [bindSidecar(input.helperImage, input.imagePullPolicy)];
  }
  (input.tmpfs ?? []).forEach((m, i) => {
    out.volumes.push({
      name: `kapi-mtmpfs-${i}`,
      emptyDir: { medium: 'Memory', ...(m.tmpfsSize ? { sizeLimit: String(m.tmpfsSize) } : {}) },
    });
    out.mounts.push({ name: `kapi-mtmpfs-${i}`, mountPath: m.target, ...(m.readOnly ? { readOnly: true } : {}) });
  });
  claimParts(input, out);
  out.mounts.sort((a, b) => a.mountPath.localeCompare(b.mountPath)); // parents before what is mounted inside them
  return out;
}

/** Claim volumes, their mounts, copy-up and the co-scheduling labels and affinity. */
function claimParts(input: StorageInput, out: PodStorage): void {
  const claims = input.claims ?? [];
  const copies: Array<{ vol: string; target: string; i: number }> = [];
  const labels: Record<string, string> = {};
  const terms: V1PodAffinityTerm[] = [];
  const byClaim = new Map<string, string>();
  claims.forEach((c, i) => {
    let vol = byClaim.get(c.claim);
    if (!vol) {
      vol = `kapi-vol-${i}`;
      byClaim.set(c.claim, vol);
      out.volumes.push({ name: vol, persistentVolumeClaim: { claimName: c.claim } });
      if (c.affinityKey && !labels[c.affinityKey]) {
        labels[c.affinityKey] = 'true';
        terms.push({
          labelSelector: { matchExpressions: [{ key: c.affinityKey, operator: 'Exists' }] },
          topologyKey: 'kubernetes.io/hostname',
        });
      }
    }
    out.mounts.push({ name: vol, mountPath: c.mount.target, ...(c.mount.readOnly ? { readOnly: true } : {}) });
    if (!c.mount.noCopy) copies.push({ vol, target: c.mount.target, i });
  });
  if (Object.keys(labels).length) {
    out.labels = labels;
    out.affinity = { podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: terms } };
  }
  if (!copies.length || !input.image) return;
  out.volumes.push({ name: TOOLS_VOLUME, emptyDir: {} });
  out.initContainers.push({
    name: 'kapi-vtools',
    image: input.helperImage,
    imagePullPolicy: input.imagePullPolicy,
    command: ['sh', '-c', `cp /bin/busybox ${TOOLS_DIR}/busybox`],
    volumeMounts: [{ name: TOOLS_VOLUME, mountPath: TOOLS_DIR }],
  });
  const b = `${TOOLS_DIR}/busybox`;
  // As dockerd: the volume's root takes the image directory's owner and mode, then its content.
  // A failure (a non-root user and a root-owned volume) is reported in the log, never fatal.
  const lines = copies.map((c) => {
    const dst = `${COPY_DIR}/${c.i}`;
    const t = sh(c.target);
    return (
      `if [ -d ${t} ] && [ -z "$(${b} ls -A ${dst})" ]; then ` +
      `${b} chown "$(${b} stat -c %u:%g ${t})" ${dst} 2>/dev/null; ${b} chmod "$(${b} stat -c %a ${t})" ${dst} 2>/dev/null; ` +
      `${b} cp -a ${t}/. ${dst}/ || echo "kuber-api: copying ${c.target} of the image into its new volume failed" >&2; fi`
    );
  });
  out.initContainers.push({
    name: 'kapi-copyup',
    image: input.image,
    imagePullPolicy: input.imagePullPolicy,
    command: [b, 'sh', '-c', lines.join('\n')],
    volumeMounts: [
      { name: TOOLS_VOLUME, mountPath: TOOLS_DIR, readOnly: true },
      ...copies.map((c) => ({ name: c.vol, mountPath: `${COPY_DIR}/${c.i}` })),
    ],
    terminationMessagePolicy: 'FallbackToLogsOnError',
    ...(input.securityContext ? { securityContext: input.securityContext } : {}),
  });
}

/** Lay the storage's labels and affinity over a built Pod (start.ts, after translate.ts buildPod). */
export function applyPodStorage(
  pod: { metadata: { labels?: Record<string, string> }; spec?: { affinity?: V1Affinity; containers: V1Container[] } },
  storage: PodStorage,
): void {
  if (storage.labels) pod.metadata.labels = { ...pod.metadata.labels, ...storage.labels };
  if (storage.affinity && pod.spec) pod.spec.affinity = storage.affinity;
  if (storage.sidecars && pod.spec) pod.spec.containers.push(...storage.sidecars);
}
