// Defaults for storage kinds and StatefulSets as upstream's SetDefaults_* and the
// DefaultStorageClass admission plugin (plugin/pkg/admission/storage/storageclass/setdefault)
// apply them.
import type { KubeObject, PersistentVolumeClaimSpec, PersistentVolumeSpec, StatefulSetSpec } from '../../../protocol/kube/types.js';
import type { StoreBackend } from '../../store/backend.js';
import { defaultPodTemplate } from './pod-defaults.js';

export const DEFAULT_CLASS_ANNOTATION = 'storageclass.kubernetes.io/is-default-class';

/** The default StorageClass: the newest of those annotated, like upstream. */
export function defaultStorageClass(store: StoreBackend): KubeObject | undefined {
  const marked = store.list('storageclasses.storage.k8s.io')
    .filter((sc) => sc.metadata.annotations?.[DEFAULT_CLASS_ANNOTATION] === 'true' && !sc.metadata.deletionTimestamp);
  marked.sort((a, b) => (Date.parse(b.metadata.creationTimestamp ?? '') || 0) - (Date.parse(a.metadata.creationTimestamp ?? '') || 0)
    || (a.metadata.name ?? '').localeCompare(b.metadata.name ?? ''));
  return marked[0];
}

export function defaultClaimSpec(spec: PersistentVolumeClaimSpec): void {
  spec.volumeMode ??= 'Filesystem';
}

/** A claim without storageClassName (not ""), created while a default class exists, gets it. */
export function defaultClaim(store: StoreBackend, obj: KubeObject, old: KubeObject | undefined): void {
  const spec = (obj.spec ??= {}) as PersistentVolumeClaimSpec;
  defaultClaimSpec(spec);
  if (!old) addFinalizer(obj, 'kubernetes.io/pvc-protection');
  if (!old && spec.storageClassName === undefined) {
    const sc = defaultStorageClass(store);
    if (sc) spec.storageClassName = sc.metadata.name;
  }
}

/** The StorageObjectInUseProtection admission: claims and volumes carry their protection finalizer. */
function addFinalizer(obj: KubeObject, finalizer: string): void {
  const list = (obj.metadata.finalizers ??= []);
  if (!list.includes(finalizer)) list.push(finalizer);
}

export function defaultVolume(obj: KubeObject, old: KubeObject | undefined): void {
  if (!old) addFinalizer(obj, 'kubernetes.io/pv-protection');
  const spec = (obj.spec ??= {}) as Partial<PersistentVolumeSpec>;
  spec.volumeMode ??= 'Filesystem';
  spec.persistentVolumeReclaimPolicy ??= 'Retain';
}

export function defaultStorageClassObject(obj: KubeObject): void {
  obj.reclaimPolicy ??= 'Delete';
  obj.volumeBindingMode ??= 'Immediate';
}

export function defaultStatefulSet(obj: KubeObject): void {
  const spec = (obj.spec ??= {}) as Partial<StatefulSetSpec>;
  spec.replicas ??= 1;
  spec.podManagementPolicy ??= 'OrderedReady';
  spec.updateStrategy ??= { type: 'RollingUpdate' };
  spec.updateStrategy.type ??= 'RollingUpdate';
  if (spec.updateStrategy.type === 'RollingUpdate') spec.updateStrategy.rollingUpdate = { partition: 0, ...(spec.updateStrategy.rollingUpdate ?? {}) };
  spec.revisionHistoryLimit ??= 10;
  spec.persistentVolumeClaimRetentionPolicy = { whenDeleted: 'Retain', whenScaled: 'Retain', ...(spec.persistentVolumeClaimRetentionPolicy ?? {}) };
  for (const t of spec.volumeClaimTemplates ?? []) {
    if (t && typeof t === 'object') {
      defaultClaimSpec((t.spec ??= {}));
      t.apiVersion ??= 'v1';
      t.kind ??= 'PersistentVolumeClaim';
    }
  }
  defaultPodTemplate(spec.template);
}
