// apiextensions.k8s.io/v1 CustomResourceDefinition, the fields the API server reads to serve one.
import type { KubeObject } from '../types.js';

export interface CustomResourceDefinitionNames {
  plural: string; singular?: string; kind: string; listKind?: string; shortNames?: string[]; categories?: string[];
}

export interface CustomResourceDefinitionVersion {
  name: string; served?: boolean; storage?: boolean;
  [extra: string]: unknown;
}

export interface CustomResourceDefinitionCondition { type: string; status: string; reason?: string; message?: string; lastTransitionTime?: string }

export interface CustomResourceDefinition extends KubeObject {
  spec: { group: string; names: CustomResourceDefinitionNames; scope?: 'Namespaced' | 'Cluster'; versions: CustomResourceDefinitionVersion[]; [extra: string]: unknown };
  status?: { conditions?: CustomResourceDefinitionCondition[]; acceptedNames?: CustomResourceDefinitionNames; storedVersions?: string[] };
}
