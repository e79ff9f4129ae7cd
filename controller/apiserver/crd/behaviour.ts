// What a resource defined by a CustomResourceDefinition adds to the generic API path:
// its schema (pruning, defaults, validation), its printer columns and its scale paths.
import type { KubeObject } from '../../../protocol/kube/types.js';
import type { TablePrinter } from '../tables/columns.js';
import type { FieldCause } from '../validation/field-cause.js';

export interface ScalePaths { specReplicasPath: string; statusReplicasPath: string; labelSelectorPath?: string }

export interface CustomResourceBehaviour {
  /** metadata.name of the CustomResourceDefinition. */
  crdName: string;
  /** This version is the one objects are stored in. */
  storage: boolean;
  /** The CRD is being deleted: no new objects (upstream answers 405). */
  terminating: boolean;
  /** Fields the schema does not know, as paths (`spec.bogus`); nothing is changed. */
  unknownFields(obj: KubeObject): string[];
  /** Drops unknown fields and fills schema defaults, in place (upstream's pruning and defaulting). */
  normalize(obj: KubeObject): void;
  /** Schema problems of the object; [] when valid. */
  validate(obj: KubeObject): FieldCause[];
  printer: TablePrinter;
  scale?: ScalePaths;
  /** The version's openAPIV3Schema as published in /openapi/v3. */
  openapiSchema: Record<string, unknown>;
}
