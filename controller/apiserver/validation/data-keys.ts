/** ConfigMap and Secret keys: they become file names when mounted. */
import { FieldPath, invalid, type FieldCause } from './field-cause.js';
import { configMapKey } from './names.js';
import { asObj } from './shape.js';

export function validateDataKeys(obj: Record<string, unknown>, fields: readonly string[]): FieldCause[] {
  const causes: FieldCause[] = [];
  const seen = new Set<string>();
  for (const field of fields) {
    const map = asObj(obj[field]);
    if (!map) continue;
    for (const key of Object.keys(map)) {
      const path = new FieldPath(field).key(key).toString();
      for (const e of configMapKey(key)) causes.push(invalid(path, key, e));
      if (seen.has(key)) causes.push(invalid(path, key, 'duplicate of key present in another data field'));
      seen.add(key);
    }
  }
  return causes;
}
