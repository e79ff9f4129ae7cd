// The shape of a kind's validation hooks (upstream's strategy Validate / ValidateUpdate),
// and adapters that point a spec validator at `spec`.
import { FieldPath, type FieldCause } from './field-cause.js';
import type { NameRule } from './object-meta.js';
import { asObj, type Obj } from './shape.js';

export interface KindRules {
  /** Syntax of metadata.name. */
  name: NameRule;
  create?: (obj: Obj) => FieldCause[];
  update?: (obj: Obj, old: Obj) => FieldCause[];
}

const SPEC = new FieldPath('spec');

/** Runs a validator of `spec` on the object's spec. */
export const spec = (validate: (spec: unknown, path: FieldPath) => FieldCause[]) => (obj: Obj) => validate(obj.spec, SPEC);

/** Runs an update validator of `spec` on the new and the stored spec. */
export const specUpdate = (validate: (spec: unknown, old: unknown, path: FieldPath) => FieldCause[]) => (obj: Obj, old: Obj) => validate(obj.spec, asObj(old)?.spec, SPEC);
