// A StatefulSet pod's identity (upstream's stateful_set_utils.go): the name NAME-ORDINAL,
// its hostname and subdomain for DNS, its labels, and the claims NAME-OF-TEMPLATE-POD
// that follow it across restarts.
import type { Pod, Volume } from '../../../protocol/kube/types.js';
import { newControllerRef } from '../controller-ref.js';
import type { PersistentVolumeClaim } from '../../storage/storage-types.js';
import type { PodTemplate, StatefulSet } from './statefulset-types.js';

export const POD_NAME_LABEL = 'statefulset.kubernetes.io/pod-name';
export const POD_INDEX_LABEL = 'apps.kubernetes.io/pod-index';
export const REVISION_LABEL = 'controller-revision-hash';

export const podName = (set: StatefulSet, ordinal: number): string => `${set.metadata.name}-${ordinal}`;
export const claimName = (set: StatefulSet, template: PersistentVolumeClaim, ordinal: number): string => `${template.metadata.name}-${podName(set, ordinal)}`;
export const startOrdinal = (set: StatefulSet): number => set.spec.ordinals?.start ?? 0;

/** The ordinal in a pod's name, or -1 when the name is not NAME-N of this set. */
export function ordinalOf(set: StatefulSet, pod: Pod): number {
  const prefix = `${set.metadata.name}-`;
  const name = pod.metadata.name ?? '';
  if (!name.startsWith(prefix)) return -1;
  const rest = name.slice(prefix.length);
  return /^(0|[1-9]\d*)$/.test(rest) ? Number(rest) : -1;
}

/** The claims a pod of this ordinal mounts, as they should be created. */
export function claimsFor(set: StatefulSet, ordinal: number): PersistentVolumeClaim[] {
  return (set.spec.volumeClaimTemplates ?? []).map((t) => ({
    apiVersion: 'v1', kind: 'PersistentVolumeClaim',
    metadata: {
      name: claimName(set, t, ordinal), namespace: set.metadata.namespace,
      labels: { ...(set.spec.selector.matchLabels ?? {}), ...(t.metadata.labels ?? {}) },
      ...(t.metadata.annotations ? { annotations: { ...t.metadata.annotations } } : {}),
      ...(set.spec.persistentVolumeClaimRetentionPolicy?.whenDeleted === 'Delete'
        ? { ownerReferences: [{ apiVersion: 'apps/v1', kind: 'StatefulSet', name: set.metadata.name!, uid: set.metadata.uid!, controller: true, blockOwnerDeletion: true }] }
        : {}),
    },
    spec: structuredClone(t.spec),
  }));
}

/** A new pod of the given ordinal from a template revision. */
export function newPod(set: StatefulSet, template: PodTemplate, revision: string, ordinal: number): Pod {
  const name = podName(set, ordinal);
  const spec = structuredClone(template.spec);
  // Claim templates replace pod volumes of the same name.
  const claimVolumes: Volume[] = (set.spec.volumeClaimTemplates ?? []).map((t) => ({
    name: t.metadata.name!, persistentVolumeClaim: { claimName: claimName(set, t, ordinal) },
  }));
  const names = new Set(claimVolumes.map((v) => v.name));
  spec.volumes = [...(spec.volumes ?? []).filter((v) => !names.has(v.name)), ...claimVolumes];
  spec.hostname = name;
  if (set.spec.serviceName) spec.subdomain = set.spec.serviceName;
  return {
    apiVersion: 'v1', kind: 'Pod',
    metadata: {
      name, namespace: set.metadata.namespace,
      labels: { ...(template.metadata?.labels ?? {}), [POD_NAME_LABEL]: name, [POD_INDEX_LABEL]: String(ordinal), [REVISION_LABEL]: revision },
      ...(template.metadata?.annotations ? { annotations: { ...template.metadata.annotations } } : {}),
      ownerReferences: [newControllerRef(set, 'apps/v1', 'StatefulSet')],
    },
    spec,
  };
}

export const revisionOf = (pod: Pod): string | undefined => pod.metadata.labels?.[REVISION_LABEL];
