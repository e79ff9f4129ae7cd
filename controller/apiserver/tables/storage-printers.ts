// Rows for storage and stateful workloads: persistent volumes and claims, storage classes
// and stateful sets, with upstream's columns (pkg/printers/internalversion/printers.go).

import { AGE_COLUMN, column, NAME_COLUMN, wide, type TablePrinter } from './columns.js';
import { since } from './duration.js';
import { containerCells, int, isRecord, str } from './format.js';

const ACCESS_MODE_SHORT: Record<string, string> = {
  ReadWriteOnce: 'RWO', ReadOnlyMany: 'ROX', ReadWriteMany: 'RWX', ReadWriteOncePod: 'RWOP',
};

/** "RWO,ROX" in upstream's fixed order, each mode once. */
export function accessModesText(modes: unknown): string {
  const list = Array.isArray(modes) ? modes.map(String) : [];
  return ['ReadWriteOnce', 'ReadOnlyMany', 'ReadWriteMany', 'ReadWriteOncePod'].filter((m) => list.includes(m)).map((m) => ACCESS_MODE_SHORT[m]).join(',');
}

const DEFAULT_CLASS = 'storageclass.kubernetes.io/is-default-class';

const rec = (v: unknown): Record<string, unknown> => (isRecord(v) ? v : {});

export const persistentVolumePrinter: TablePrinter = {
  columns: [
    NAME_COLUMN,
    column('Capacity', 'string', 'Storage the volume offers.'),
    column('Access Modes', 'string', 'Ways the volume can be mounted.'),
    column('Reclaim Policy', 'string', 'What happens to the volume when its claim is released.'),
    column('Status', 'string', 'Phase of the volume.'),
    column('Claim', 'string', 'The claim bound to the volume.'),
    column('StorageClass', 'string', 'Storage class of the volume.'),
    column('VolumeAttributesClass', 'string', 'Volume attributes class of the volume.'),
    column('Reason', 'string', 'Why the volume is in its phase.'),
    AGE_COLUMN,
    wide('VolumeMode', 'string', 'Filesystem or Block.'),
  ],
  print(obj, now) {
    const meta = rec(obj.metadata), spec = rec(obj.spec), status = rec(obj.status);
    const ref = rec(spec.claimRef);
    const claim = ref.name ? `${str(ref.namespace)}/${str(ref.name)}` : '';
    return {
      cells: [
        str(meta.name), str(rec(spec.capacity).storage), accessModesText(spec.accessModes), str(spec.persistentVolumeReclaimPolicy),
        str(status.phase), claim, str(spec.storageClassName), str(spec.volumeAttributesClassName, '<unset>'), str(status.reason),
        since(meta.creationTimestamp, now), str(spec.volumeMode, 'Filesystem'),
      ],
    };
  },
};

export const persistentVolumeClaimPrinter: TablePrinter = {
  columns: [
    NAME_COLUMN,
    column('Status', 'string', 'Phase of the claim.'),
    column('Volume', 'string', 'The volume bound to the claim.'),
    column('Capacity', 'string', 'Storage of the bound volume.'),
    column('Access Modes', 'string', 'Ways the bound volume can be mounted.'),
    column('StorageClass', 'string', 'Storage class of the claim.'),
    column('VolumeAttributesClass', 'string', 'Volume attributes class of the claim.'),
    AGE_COLUMN,
    wide('VolumeMode', 'string', 'Filesystem or Block.'),
  ],
  print(obj, now) {
    const meta = rec(obj.metadata), spec = rec(obj.spec), status = rec(obj.status);
    const bound = !!spec.volumeName && status.phase === 'Bound';
    return {
      cells: [
        str(meta.name), str(status.phase), str(spec.volumeName),
        bound ? str(rec(status.capacity).storage) : '', bound ? accessModesText(status.accessModes) : '',
        str(spec.storageClassName), str(spec.volumeAttributesClassName, '<unset>'),
        since(meta.creationTimestamp, now), str(spec.volumeMode, 'Filesystem'),
      ],
    };
  },
};

export const storageClassPrinter: TablePrinter = {
  columns: [
    NAME_COLUMN,
    column('Provisioner', 'string', 'What creates volumes of this class.'),
    column('ReclaimPolicy', 'string', 'What happens to released volumes of this class.'),
    column('VolumeBindingMode', 'string', 'When claims of this class are bound.'),
    column('AllowVolumeExpansion', 'string', 'Whether claims of this class may grow.'),
    AGE_COLUMN,
  ],
  print(obj, now) {
    const meta = rec(obj.metadata);
    const isDefault = rec(meta.annotations)[DEFAULT_CLASS] === 'true';
    return {
      cells: [
        `${str(meta.name)}${isDefault ? ' (default)' : ''}`, str(obj.provisioner), str(obj.reclaimPolicy, 'Delete'),
        str(obj.volumeBindingMode, 'Immediate'), obj.allowVolumeExpansion === true ? 'true' : 'false', since(meta.creationTimestamp, now),
      ],
    };
  },
};

export const statefulSetPrinter: TablePrinter = {
  columns: [
    NAME_COLUMN,
    column('Ready', 'string', 'Ready pods out of desired pods.'),
    AGE_COLUMN,
    wide('Containers', 'string', 'Names of each container in the template.'),
    wide('Images', 'string', 'Images referenced by each container in the template.'),
  ],
  print(obj, now) {
    const meta = rec(obj.metadata), spec = rec(obj.spec), status = rec(obj.status);
    const [names, images] = containerCells(rec(rec(spec.template).spec).containers);
    return { cells: [str(meta.name), `${int(status.readyReplicas)}/${int(spec.replicas, 1)}`, since(meta.creationTimestamp, now), names, images] };
  },
};
