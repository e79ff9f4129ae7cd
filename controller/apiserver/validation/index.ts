/**
 * Admission-time validation of API objects: the upstream schemas (types, required
 * fields, enums, unknown fields, quantities) plus the rules upstream writes in code
 * (names, pods, workloads, services, data keys, immutable fields).
 */
import type { FieldCause } from './field-cause.js';
import { rulesFor } from './kind-rules.js';
import { validateObjectMeta, validateObjectMetaUpdate } from './object-meta.js';
import { loadKind } from './schema-catalog.js';
import { schemaCauses } from './schema-validators.js';
import { walkObject } from './schema-walk.js';
import { asObj } from './shape.js';

export type { FieldCause, FieldCauseReason } from './field-cause.js';

/** The schema definition of a kind, or undefined when the models package lacks it. */
function definitionOf(group: string, version: string, kind: string): string | undefined {
  try {
    return loadKind(group, version, kind);
  } catch {
    return undefined;
  }
}

/** Every problem with obj; [] when valid. `old` is the stored object on update (immutable-field checks). */
export function validateObject(group: string, version: string, kind: string, obj: unknown, old?: unknown): FieldCause[] {
  const o = asObj(obj);
  if (!o) return [{ reason: 'FieldValueTypeInvalid', field: '', message: `Invalid value: ${JSON.stringify(obj) ?? 'null'}: must be an object` }];
  const rules = rulesFor(group, kind);
  const causes: FieldCause[] = [];
  causes.push(...validateObjectMeta(o.metadata, rules.name));
  const oldObj = old === undefined ? undefined : asObj(old);
  if (oldObj) causes.push(...validateObjectMetaUpdate(o.metadata, oldObj.metadata));
  if (rules.create) causes.push(...rules.create(o));
  if (oldObj && rules.update) causes.push(...rules.update(o, oldObj));

  const definition = definitionOf(group, version, kind);
  if (!definition) return unique(causes);
  causes.push(...walkObject(definition, o).quantityCauses);
  // The compiled validator wants apiVersion and kind; the URL has already decided them.
  const typed = { ...o, apiVersion: o.apiVersion ?? (group ? `${group}/${version}` : version), kind: o.kind ?? kind };
  // A hand-written rule's message is more precise than the schema's for the same field.
  const ruled = new Set(causes.map((c) => c.field));
  const fromSchema = schemaCauses(definition, typed).filter((c) => !ruled.has(c.field));
  return unique([...causes, ...fromSchema]);
}

function unique(causes: FieldCause[]): FieldCause[] {
  const seen = new Set<string>();
  return causes.filter((c) => {
    const key = `${c.field}\u0000${c.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** Paths of fields the schema does not know, e.g. "spec.containers[0].imagePullPolcy" (kubectl's strict decoding wording). */
export function unknownFields(group: string, version: string, kind: string, obj: unknown): string[] {
  const definition = definitionOf(group, version, kind);
  if (!definition) return [];
  return walkObject(definition, obj).unknown;
}
