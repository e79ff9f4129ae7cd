/** metadata checks shared by every kind: name, generateName, namespace, labels, annotations, immutables. */
import { FieldPath, invalid, required, tooLong, type FieldCause } from './field-cause.js';
import { dns1123Label, labelValue, qualifiedName } from './names.js';

export type NameRule = (name: string) => string[];

const TOTAL_ANNOTATION_BYTES = 256 * 1024;

type Meta = Record<string, unknown>;

function asRecord(value: unknown): Record<string, unknown> | undefined {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

export function validateLabels(labels: unknown, path: FieldPath): FieldCause[] {
  const map = asRecord(labels);
  if (!map) return [];
  const causes: FieldCause[] = [];
  for (const [key, value] of Object.entries(map)) {
    for (const e of qualifiedName(key)) causes.push(invalid(path.toString(), key, e));
    if (typeof value === 'string') for (const e of labelValue(value)) causes.push(invalid(path.toString(), value, e));
  }
  return causes;
}

function validateAnnotations(annotations: unknown, path: FieldPath): FieldCause[] {
  const map = asRecord(annotations);
  if (!map) return [];
  const causes: FieldCause[] = [];
  let total = 0;
  for (const [key, value] of Object.entries(map)) {
    for (const e of qualifiedName(key.toLowerCase())) causes.push(invalid(path.toString(), key, e));
    total += Buffer.byteLength(key) + (typeof value === 'string' ? Buffer.byteLength(value) : 0);
  }
  if (total > TOTAL_ANNOTATION_BYTES) causes.push(tooLong(path.toString(), TOTAL_ANNOTATION_BYTES));
  return causes;
}

/** `nameRule` is DNS-1123 subdomain for most kinds, label for namespaces and services. */
export function validateObjectMeta(metadata: unknown, nameRule: NameRule, path = new FieldPath('metadata')): FieldCause[] {
  const meta = asRecord(metadata);
  if (!meta) return [required(path.child('name').toString(), 'name or generateName is required')];
  const causes: FieldCause[] = [];
  const name = meta.name;
  const generateName = meta.generateName;
  if (typeof generateName === 'string' && generateName) {
    // A generated name appends random characters, so the prefix may end in "-".
    for (const e of nameRule(generateName.replace(/-+$/, '') || 'a')) causes.push(invalid(path.child('generateName').toString(), generateName, e));
  }
  if (name === undefined || name === '' || name === null) {
    if (!(typeof generateName === 'string' && generateName)) causes.push(required(path.child('name').toString(), 'name or generateName is required'));
  } else if (typeof name === 'string') {
    for (const e of nameRule(name)) causes.push(invalid(path.child('name').toString(), name, e));
  }
  const ns = meta.namespace;
  if (typeof ns === 'string' && ns !== '') {
    for (const e of dns1123Label(ns)) causes.push(invalid(path.child('namespace').toString(), ns, e));
  }
  causes.push(...validateLabels(meta.labels, path.child('labels')));
  causes.push(...validateAnnotations(meta.annotations, path.child('annotations')));
  return causes;
}

/** On update: identity fields may not change. */
export function validateObjectMetaUpdate(metadata: unknown, oldMetadata: unknown, path = new FieldPath('metadata')): FieldCause[] {
  const meta = asRecord(metadata) ?? {};
  const old: Meta = asRecord(oldMetadata) ?? {};
  const causes: FieldCause[] = [];
  for (const field of ['name', 'namespace', 'uid', 'creationTimestamp']) {
    const before = old[field];
    if (before === undefined || before === '') continue;
    if (meta[field] !== before) causes.push(invalid(path.child(field).toString(), meta[field], 'field is immutable'));
  }
  return causes;
}
