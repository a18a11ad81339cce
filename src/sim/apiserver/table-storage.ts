/**
 * @module sim/apiserver/table-storage
 * Server-side printers of the storage kinds (pkg/printers/internalversion/printers.go
 * printPersistentVolume, printPersistentVolumeClaim, printStorageClass), kept apart from table.ts
 * so the storage simulation (src/sim/storage) stays one delimited addition.
 */
type Obj = Record<string, any>;
export interface StorageColumn {
  name: string;
  type: string;
  format: string;
  description: string;
  priority: number;
}
const col = (name: string, description = '', priority = 0, format = ''): StorageColumn => ({
  name,
  type: 'string',
  format,
  description,
  priority,
});

/** helper.GetAccessModesAsString: a fixed order, whatever the order of the list. */
export function accessModesString(modes: string[] | undefined): string {
  const m = modes ?? [];
  const out: string[] = [];
  if (m.includes('ReadWriteOnce')) out.push('RWO');
  if (m.includes('ReadOnlyMany')) out.push('ROX');
  if (m.includes('ReadWriteMany')) out.push('RWX');
  if (m.includes('ReadWriteOncePod')) out.push('RWOP');
  return out.join(',');
}

/** helper.GetPersistentVolume{,Claim}Class: the beta annotation wins, else spec.storageClassName. */
const classOf = (o: Obj) =>
  o.metadata.annotations?.['volume.beta.kubernetes.io/storage-class'] ?? o.spec?.storageClassName ?? '';

export function storagePrinters(
  name: StorageColumn,
  age: StorageColumn,
  since: (t: string | undefined) => string,
): Record<string, { columns: StorageColumn[]; row: (o: Obj) => { cells: unknown[] } }> {
  return {
    persistentvolumeclaims: {
      columns: [
        name,
        col('Status', 'phase represents the current phase of PersistentVolumeClaim.'),
        col('Volume', 'volumeName is the binding reference to the PersistentVolume backing this claim.'),
        col('Capacity', 'capacity represents the actual resources of the underlying volume.'),
        col('Access Modes', 'accessModes contains the actual access modes the volume backing the PVC has.'),
        col('StorageClass', 'StorageClass of the pvc'),
        col('VolumeAttributesClass', 'VolumeAttributesClass of the pvc'),
        age,
        col('VolumeMode', 'volumeMode defines what type of volume is required by the claim.', 1),
      ],
      row: (o) => {
        const bound = !!o.spec?.volumeName;
        return {
          cells: [
            o.metadata.name,
            o.metadata.deletionTimestamp ? 'Terminating' : (o.status?.phase ?? ''),
            o.spec?.volumeName ?? '',
            bound ? (o.status?.capacity?.storage ?? '') : '',
            bound ? accessModesString(o.status?.accessModes) : '',
            classOf(o),
            o.spec?.volumeAttributesClassName ?? '<unset>',
            since(o.metadata.creationTimestamp),
            o.spec?.volumeMode ?? '<unset>',
          ],
        };
      },
    },
    persistentvolumes: {
      columns: [
        name,
        col('Capacity', "capacity is the description of the persistent volume's resources and capacity."),
        col('Access Modes', 'accessModes contains all ways the volume can be mounted.'),
        col(
          'Reclaim Policy',
          'persistentVolumeReclaimPolicy defines what happens to a persistent volume when released from its claim.',
        ),
        col('Status', 'phase indicates if a volume is available, bound to a claim, or released by a claim.'),
        col(
          'Claim',
          'claimRef is part of a bi-directional binding between PersistentVolume and PersistentVolumeClaim.',
        ),
        col('StorageClass', 'StorageClass of the pv'),
        col('VolumeAttributesClass', 'VolumeAttributesClass of the pv'),
        col(
          'Reason',
          'reason is a brief CamelCase string that describes any failure and is meant for machine parsing and tidy display in the CLI.',
        ),
        age,
        col(
          'VolumeMode',
          'volumeMode defines if a volume is intended to be used with a formatted filesystem or to remain in raw block state.',
          1,
        ),
      ],
      row: (o) => {
        const ref = o.spec?.claimRef;
        return {
          cells: [
            o.metadata.name,
            o.spec?.capacity?.storage ?? '0',
            accessModesString(o.spec?.accessModes),
            o.spec?.persistentVolumeReclaimPolicy ?? '',
            o.metadata.deletionTimestamp ? 'Terminating' : (o.status?.phase ?? ''),
            ref ? `${ref.namespace ?? ''}/${ref.name ?? ''}` : '',
            classOf(o),
            o.spec?.volumeAttributesClassName ?? '<unset>',
            o.status?.reason ?? '',
            since(o.metadata.creationTimestamp),
            o.spec?.volumeMode ?? '<unset>',
          ],
        };
      },
    },
    storageclasses: {
      columns: [
        name,
        col('Provisioner', 'provisioner indicates the type of the provisioner.'),
        col(
          'ReclaimPolicy',
          'reclaimPolicy controls the reclaimPolicy for dynamically provisioned PersistentVolumes of this storage class.',
        ),
        col(
          'VolumeBindingMode',
          'volumeBindingMode indicates how PersistentVolumeClaims should be provisioned and bound.',
        ),
        col('AllowVolumeExpansion', 'allowVolumeExpansion shows whether the storage class allow volume expand.'),
        age,
      ],
      row: (o) => {
        const ann = o.metadata.annotations ?? {};
        const isDefault =
          ann['storageclass.kubernetes.io/is-default-class'] === 'true' ||
          ann['storageclass.beta.kubernetes.io/is-default-class'] === 'true';
        return {
          cells: [
            isDefault ? `${o.metadata.name} (default)` : o.metadata.name,
            o.provisioner ?? '',
            o.reclaimPolicy ?? 'Delete',
            o.volumeBindingMode ?? 'Immediate',
            o.allowVolumeExpansion ?? false,
            since(o.metadata.creationTimestamp),
          ],
        };
      },
    },
  };
}
