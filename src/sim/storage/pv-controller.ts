/**
 * @module sim/storage/pv-controller
 * kube-sim's storage controllers, one pass over every claim and volume whenever one of them, a
 * StorageClass or a Pod changes:
 * - the PV controller (pkg/controller/volume/persistentvolume/pv_controller.go): binds each
 *   unbound claim to the smallest matching Available volume, or asks the provisioner; a delayed
 *   class (volumeBindingMode WaitForFirstConsumer) waits for the scheduler's
 *   `volume.kubernetes.io/selected-node`; volumes whose claim is gone are Released and reclaimed
 *   (Delete removes the directory and the PV; Retain keeps them);
 * - the local provisioner (provisioner.ts) for classes whose provisioner is kube-sim's;
 * - the in-use protection controllers (pkg/controller/volume/pvcprotection, pvprotection): a
 *   claim marked for deletion keeps its finalizer while a scheduled, unfinished Pod uses it; a
 *   volume while it is Bound.
 */
import { childLogger } from '../../log.js';
import type { Lifecycle } from '../store/lifecycle.js';
import { defOf } from '../store/resources.js';
import { matchLabelSelectorObject } from '../store/selectors.js';
import { defaultClassOf, PV_PROTECTION, PVC_PROTECTION, quantityBytes } from '../store/storage-api.js';
import type { Store } from '../store/store.js';
import type { KObject } from '../types.js';
import { claimRefOf, claimsOfPod, nodeMatchesVolume, now, SELECTED_NODE, volumeFitsClaim } from './common.js';
import { LocalProvisioner, PROVISIONER } from './provisioner.js';

type Obj = Record<string, any>;

const PVC = defOf({ group: '', resource: 'persistentvolumeclaims' });
const PV = defOf({ group: '', resource: 'persistentvolumes' });
const SC = defOf({ group: 'storage.k8s.io', resource: 'storageclasses' });
const PODS = defOf({ group: '', resource: 'pods' });
const NODES = defOf({ group: '', resource: 'nodes' });
const SOURCE = 'persistentvolume-controller';

export class StorageController {
  private readonly log = childLogger({ component: 'kube-sim-storage' });
  private readonly unsubs: Array<() => void> = [];
  private scheduled = false;
  /** The last event told about each object (uid -> reason): a state is reported once, not at every pass. */
  private readonly told = new Map<string, string>();
  private readonly provisioner: LocalProvisioner;
  /** Volumes whose directory is being removed (uid). */
  private readonly reclaiming = new Set<string>();

  constructor(
    private readonly store: Store,
    private readonly lifecycle: Lifecycle,
    stateDir: string,
  ) {
    this.provisioner = new LocalProvisioner(store, stateDir);
  }

  start(): void {
    for (const def of [PVC, PV, SC, PODS]) this.unsubs.push(this.store.subscribe(def, () => this.soon()));
    this.soon();
  }

  stop(): void {
    for (const u of this.unsubs.splice(0)) u();
  }

  private soon(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      try {
        this.sync();
      } catch (err) {
        this.log.warn({ err }, 'storage controller pass failed');
      }
    });
  }

  /** One pass; every step is idempotent (a write that changes nothing emits nothing). */
  sync(): void {
    const claims = this.store.list(PVC, undefined),
      volumes = this.store.list(PV, undefined);
    // Each object on its own: one that fails (a write racing its deletion) must not stop the others,
    // nor the in-use protection pass, which would otherwise leave a deleted claim stuck on its finalizer.
    for (const c of claims) this.guarded('claim', c, () => this.syncClaim(c as Obj));
    for (const v of volumes) this.guarded('volume', v, () => this.syncVolume(v as Obj));
    this.guarded('protection', undefined, () => this.protect());
    if (this.told.size > claims.length + volumes.length) {
      const live = new Set([...claims, ...volumes].map((o) => o.metadata.uid));
      for (const uid of this.told.keys()) if (!live.has(uid)) this.told.delete(uid);
    }
  }

  private guarded(what: string, obj: KObject | undefined, step: () => void): void {
    try {
      step();
    } catch (err) {
      this.log.warn({ err, what, name: obj?.metadata.name }, 'storage controller step failed');
    }
  }

  private tell(obj: KObject, type: 'Normal' | 'Warning', reason: string, message: string, source = SOURCE): void {
    const key = `${reason}|${message}`;
    if (this.told.get(obj.metadata.uid!) === key) return;
    this.told.set(obj.metadata.uid!, key);
    this.store.recordEvent(obj, type, reason, message, source);
  }

  // ------------------------------------------------------------------ claims

  private syncClaim(c: Obj): void {
    if (c.metadata.deletionTimestamp) return;
    const ns = c.metadata.namespace,
      name = c.metadata.name;
    if (c.spec?.volumeName) {
      const pv = this.store.get(PV, undefined, c.spec.volumeName) as Obj | undefined;
      if (!pv) {
        if (c.status?.phase === 'Bound') {
          this.setClaimStatus(c, { phase: 'Lost' });
          this.tell(
            c as KObject,
            'Warning',
            'ClaimLost',
            'Bound claim has lost its PersistentVolume. Data on the volume is lost!',
          );
        }
        return;
      }
      const ref = pv.spec?.claimRef;
      if (!ref || (ref.namespace === ns && ref.name === name && (!ref.uid || ref.uid === c.metadata.uid)))
        this.bind(pv, c);
      else
        this.tell(
          c as KObject,
          'Warning',
          'FailedBinding',
          `volume "${pv.metadata.name}" already bound to a different claim.`,
        );
      return;
    }
    if (
      c.spec?.storageClassName === undefined &&
      c.metadata.annotations?.['volume.beta.kubernetes.io/storage-class'] === undefined &&
      this.assignDefaultClass(c)
    )
      return;
    const className: string = c.spec?.storageClassName ?? '';
    const sc = className ? (this.store.get(SC, undefined, className) as Obj | undefined) : undefined;
    const node = c.metadata.annotations?.[SELECTED_NODE] as string | undefined;
    if (sc?.volumeBindingMode === 'WaitForFirstConsumer' && !node) {
      this.tell(
        c as KObject,
        'Normal',
        'WaitForFirstConsumer',
        'waiting for first consumer to be created before binding',
      );
      return;
    }
    const nodeObj = node ? (this.store.get(NODES, undefined, node) as Obj | undefined) : undefined;
    const pv = this.findVolume(c, nodeObj);
    if (pv) return this.bind(pv, c);
    if (!className) {
      this.tell(
        c as KObject,
        'Normal',
        'FailedBinding',
        'no persistent volumes available for this claim and no storage class is set',
      );
      return;
    }
    if (!sc) {
      this.tell(c as KObject, 'Warning', 'ProvisioningFailed', `storageclass.storage.k8s.io "${className}" not found`);
      return;
    }
    this.annotateProvisioner(c, sc.provisioner);
    if (sc.provisioner !== PROVISIONER) {
      this.tell(
        c as KObject,
        'Normal',
        'ExternalProvisioning',
        `Waiting for a volume to be created either by the external provisioner '${sc.provisioner}' or manually by the system administrator. If volume creation is delayed, please verify that the provisioner is running and correctly registered.`,
      );
      return;
    }
    this.store.recordEvent(
      c as KObject,
      'Normal',
      'Provisioning',
      `External provisioner is provisioning volume for claim "${ns}/${name}"`,
      PROVISIONER,
    );
    const created = this.provisioner.provision(c, sc, node);
    this.store.recordEvent(
      c as KObject,
      'Normal',
      'ProvisioningSucceeded',
      `Successfully provisioned volume ${created.metadata.name}`,
      PROVISIONER,
    );
    this.bind(created as Obj, this.store.get(PVC, ns, name) as Obj);
  }

  /** RetroactiveDefaultStorageClass (GA in 1.28): a claim created with no class gets the default once there is one. */
  private assignDefaultClass(c: Obj): boolean {
    const def = defaultClassOf(this.store.list(SC, undefined));
    if (!def) return false;
    this.store.mutate(PVC, c.metadata.namespace, c.metadata.name, (o: Obj) => {
      o.spec.storageClassName ??= def.metadata.name;
    });
    return true; // the claim's change brings it back with its class
  }

  private annotateProvisioner(c: Obj, provisioner: string): void {
    const a = c.metadata.annotations ?? {};
    if (a['volume.kubernetes.io/storage-provisioner'] === provisioner) return;
    this.store.mutate(PVC, c.metadata.namespace, c.metadata.name, (o) => {
      o.metadata.annotations = {
        ...(o.metadata.annotations ?? {}),
        'volume.beta.kubernetes.io/storage-provisioner': provisioner,
        'volume.kubernetes.io/storage-provisioner': provisioner,
      };
    });
  }

  /** The smallest Available volume that satisfies the claim (pv_controller findBestMatchForClaim). */
  private findVolume(c: Obj, node: Obj | undefined): Obj | undefined {
    let best: Obj | undefined;
    for (const v of this.store.list(PV, undefined) as Obj[]) {
      if (!volumeFitsClaim(v, c, quantityBytes, matchLabelSelectorObject)) continue;
      if (node && !nodeMatchesVolume(node, v)) continue;
      if (v.spec?.claimRef) return v; // pre-bound to this claim
      if (!best || quantityBytes(v.spec.capacity.storage) < quantityBytes(best.spec.capacity.storage)) best = v;
    }
    return best;
  }

  /** Both halves of the binding, volume first (pv_controller bind). */
  private bind(pv: Obj, c: Obj): void {
    const ns = c.metadata.namespace,
      name = c.metadata.name;
    const pvName = pv.metadata.name;
    this.store.mutate(PV, undefined, pvName, (o: Obj) => {
      const ref = o.spec.claimRef;
      if (!ref || !ref.uid) {
        o.spec.claimRef = claimRefOf(c);
        if (!ref)
          o.metadata.annotations = { ...(o.metadata.annotations ?? {}), 'pv.kubernetes.io/bound-by-controller': 'yes' };
      }
      o.status = {
        ...(o.status ?? {}),
        phase: 'Bound',
        lastPhaseTransitionTime: o.status?.phase === 'Bound' ? o.status.lastPhaseTransitionTime : now(),
      };
    });
    const bound = this.store.get(PV, undefined, pvName) as Obj;
    this.store.mutate(PVC, ns, name, (o: Obj) => {
      const a = (o.metadata.annotations ??= {});
      if (!o.spec.volumeName) a['pv.kubernetes.io/bound-by-controller'] = 'yes';
      a['pv.kubernetes.io/bind-completed'] = 'yes';
      o.spec.volumeName = pvName;
      o.status = {
        ...(o.status ?? {}),
        phase: 'Bound',
        accessModes: bound.spec.accessModes,
        capacity: { ...bound.spec.capacity },
      };
    });
  }

  private setClaimStatus(c: Obj, status: Obj): void {
    this.store.mutate(PVC, c.metadata.namespace, c.metadata.name, (o: Obj) => {
      o.status = { ...(o.status ?? {}), ...status };
    });
  }

  // ------------------------------------------------------------------ volumes

  private syncVolume(v: Obj): void {
    const ref = v.spec?.claimRef;
    const phase = v.status?.phase;
    if (!ref) {
      if (phase !== 'Available' && phase !== 'Failed') this.setVolumePhase(v, 'Available');
      return;
    }
    const c = this.store.get(PVC, ref.namespace, ref.name) as Obj | undefined;
    const claimOk = c && (!ref.uid || ref.uid === c.metadata.uid);
    if (claimOk) {
      if (c.spec?.volumeName === v.metadata.name && phase !== 'Bound') this.setVolumePhase(v, 'Bound');
      else if (!c.spec?.volumeName && phase === 'Pending') this.setVolumePhase(v, 'Available');
      return;
    }
    if (!ref.uid) return; // pre-bound to a claim that does not exist yet: wait for it
    if (phase === 'Bound' || phase === 'Pending' || phase === 'Available') this.setVolumePhase(v, 'Released');
    if (v.metadata.deletionTimestamp || phase === 'Failed') return;
    if (v.spec.persistentVolumeReclaimPolicy !== 'Delete') return;
    if (this.provisioner.owns(v)) {
      const uid = v.metadata.uid;
      if (this.reclaiming.has(uid)) return;
      this.reclaiming.add(uid);
      this.provisioner.remove(v).then(
        () => {
          this.reclaiming.delete(uid);
          const cur = this.store.get(PV, undefined, v.metadata.name);
          if (cur && cur.metadata.uid === uid && !cur.metadata.deletionTimestamp)
            this.lifecycle.delete(PV, undefined, v.metadata.name, {});
        },
        (err) => {
          this.reclaiming.delete(uid);
          this.setVolumePhase(v, 'Failed', String(err));
          this.tell(v as KObject, 'Warning', 'VolumeFailedDelete', String(err));
        },
      );
    } else {
      const msg = `error getting deleter volume plugin for volume "${v.metadata.name}": no deletable volume plugin matched`;
      this.setVolumePhase(v, 'Failed', msg);
      this.tell(v as KObject, 'Warning', 'VolumeFailedDelete', msg);
    }
  }

  private setVolumePhase(v: Obj, phase: string, message?: string): void {
    this.store.mutate(PV, undefined, v.metadata.name, (o: Obj) => {
      if (o.status?.phase === phase) return;
      o.status = { phase, lastPhaseTransitionTime: now(), ...(message ? { message } : {}) };
    });
  }

  // ------------------------------------------------------------------ in-use protection

  private protect(): void {
    let users: Set<string> | undefined;
    for (const c of this.store.list(PVC, undefined)) {
      if (!c.metadata.deletionTimestamp || !c.metadata.finalizers?.includes(PVC_PROTECTION)) continue;
      users ??= this.claimsInUse();
      if (users.has(`${c.metadata.namespace}/${c.metadata.name}`)) continue;
      this.dropFinalizer(PVC, c, PVC_PROTECTION);
    }
    for (const v of this.store.list(PV, undefined)) {
      if (!v.metadata.deletionTimestamp || !v.metadata.finalizers?.includes(PV_PROTECTION)) continue;
      if ((v as Obj).status?.phase === 'Bound') continue;
      this.dropFinalizer(PV, v, PV_PROTECTION);
    }
  }

  /** "ns/claim" of every claim a scheduled Pod that has not finished uses (pvcprotection podUsesPVC). */
  private claimsInUse(): Set<string> {
    const out = new Set<string>();
    for (const p of this.store.list(PODS, undefined) as Obj[]) {
      if (!p.spec?.nodeName || p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed') continue;
      for (const claim of claimsOfPod(p)) out.add(`${p.metadata.namespace}/${claim}`);
    }
    return out;
  }

  private dropFinalizer(def: typeof PV, o: KObject, fin: string): void {
    this.store.mutate(def, o.metadata.namespace, o.metadata.name!, (x) => {
      x.metadata.finalizers = (x.metadata.finalizers ?? []).filter((f) => f !== fin);
      if (!x.metadata.finalizers.length) delete x.metadata.finalizers;
    });
  }
}
