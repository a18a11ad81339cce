/**
 * @module sim/storage/provisioner
 * kube-sim's dynamic provisioner, after rancher's local-path-provisioner (the default class of kind):
 * a directory per volume under `<stateDir>/volumes/pvc-<uid>_<namespace>_<claim>`, served as a
 * hostPath PersistentVolume. A volume provisioned for a node (WaitForFirstConsumer, the scheduler's
 * `volume.kubernetes.io/selected-node`) carries a required node affinity to it, as a local disk
 * does, so every Pod that uses it is scheduled there. A volume of an Immediate class is not tied
 * to a node (all simulated nodes share this host's disk). Delete removes the directory.
 */
import { chmodSync, mkdirSync, promises as fsp } from 'node:fs';
import { join, resolve, sep } from 'node:path';
import { defOf } from '../store/resources.js';
import { claimRefOf } from './common.js';
import { DEFAULT_CLASS_ANNOTATION } from '../store/storage-api.js';
import type { Store } from '../store/store.js';
import type { KObject } from '../types.js';

type Obj = Record<string, any>;

/** The provisioner name kube-sim's own classes carry. */
export const PROVISIONER = 'kube-sim.io/local-path';
const PV = defOf({ group: '', resource: 'persistentvolumes' });

/** The class every kube-sim has, as kind's `standard` (local-path, delayed binding, Delete). */
export function defaultStorageClass(): Obj {
  return {
    metadata: { name: 'standard', annotations: { [DEFAULT_CLASS_ANNOTATION]: 'true' } },
    provisioner: PROVISIONER,
    reclaimPolicy: 'Delete',
    volumeBindingMode: 'WaitForFirstConsumer',
  };
}

export class LocalProvisioner {
  readonly root: string;

  constructor(
    private readonly store: Store,
    stateDir: string,
  ) {
    this.root = resolve(stateDir, 'volumes');
  }

  /** Make the directory and create the PV, pre-bound to the claim (its claimRef set). */
  provision(c: Obj, sc: Obj, node: string | undefined): KObject {
    const ns = c.metadata.namespace,
      name = c.metadata.name;
    const pvName = `pvc-${c.metadata.uid}`;
    const dir = join(this.root, `${pvName}_${ns}_${name}`);
    mkdirSync(dir, { recursive: true });
    chmodSync(dir, 0o777); // any container user may write, as local-path-provisioner's 0777
    const spec: Obj = {
      capacity: { storage: c.spec.resources.requests.storage },
      accessModes: c.spec.accessModes,
      persistentVolumeReclaimPolicy: sc.reclaimPolicy ?? 'Delete',
      storageClassName: sc.metadata.name,
      volumeMode: c.spec.volumeMode ?? 'Filesystem',
      hostPath: { path: dir, type: 'DirectoryOrCreate' },
      claimRef: claimRefOf(c),
    };
    if (node)
      spec.nodeAffinity = {
        required: {
          nodeSelectorTerms: [
            { matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: [node] }] },
          ],
        },
      };
    if (sc.mountOptions) spec.mountOptions = sc.mountOptions;
    const existing = this.store.get(PV, undefined, pvName);
    if (existing) return existing;
    return this.store.create(PV, undefined, {
      metadata: {
        name: pvName,
        annotations: {
          'pv.kubernetes.io/provisioned-by': PROVISIONER,
          'local.path.provisioner/selected-node': node ?? '',
        },
      },
      spec,
    });
  }

  /** Did this provisioner make the volume (and is its directory inside our root)? */
  owns(v: Obj): boolean {
    const p: string | undefined = v.spec?.hostPath?.path;
    return (
      v.metadata.annotations?.['pv.kubernetes.io/provisioned-by'] === PROVISIONER &&
      !!p &&
      resolve(p).startsWith(this.root + sep)
    );
  }

  async remove(v: Obj): Promise<void> {
    if (!this.owns(v)) throw new Error(`volume ${v.metadata.name} was not provisioned by ${PROVISIONER}`);
    await fsp.rm(resolve(v.spec.hostPath.path), { recursive: true, force: true });
  }
}
