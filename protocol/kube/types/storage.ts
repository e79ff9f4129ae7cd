// The storage kinds: core/v1 PersistentVolume and PersistentVolumeClaim, storage.k8s.io/v1 StorageClass.
import type { KubeObject, LabelSelector, NodeSelectorTerm } from '../types.js';

export interface ClaimRef { kind?: string; apiVersion?: string; namespace?: string; name?: string; uid?: string; resourceVersion?: string }

export interface PersistentVolumeSpec {
  capacity?: { storage?: string };
  accessModes?: string[];
  persistentVolumeReclaimPolicy?: 'Retain' | 'Delete' | 'Recycle';
  storageClassName?: string;
  volumeMode?: string;
  claimRef?: ClaimRef;
  nodeAffinity?: { required?: { nodeSelectorTerms?: NodeSelectorTerm[] } };
  hostPath?: { path: string; type?: string };
  local?: { path: string };
  nfs?: { server: string; path: string; readOnly?: boolean };
  mountOptions?: string[];
}

export interface PersistentVolume extends KubeObject {
  spec: PersistentVolumeSpec;
  status?: { phase?: string; reason?: string; message?: string; lastPhaseTransitionTime?: string };
}

export interface PersistentVolumeClaimSpec {
  accessModes?: string[];
  resources?: { requests?: { storage?: string }; limits?: { storage?: string } };
  storageClassName?: string;
  volumeName?: string;
  volumeMode?: string;
  selector?: LabelSelector;
}

export interface PersistentVolumeClaim extends KubeObject {
  spec: PersistentVolumeClaimSpec;
  status?: { phase?: string; accessModes?: string[]; capacity?: { storage?: string }; conditions?: unknown[] };
}

export interface StorageClass extends KubeObject {
  provisioner: string;
  reclaimPolicy?: 'Retain' | 'Delete';
  volumeBindingMode?: 'Immediate' | 'WaitForFirstConsumer';
  parameters?: Record<string, string>;
  mountOptions?: string[];
}
