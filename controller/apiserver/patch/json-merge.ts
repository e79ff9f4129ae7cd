// JSON Merge Patch (RFC 7386): objects merge key by key, null deletes a key, anything
// else (arrays included) replaces. Used by kubectl label/annotate/scale.

import { clone, isObject, type JsonObject } from './json-value.js';

/**
 * The target with the merge patch applied. The result shares nothing with the inputs, so
 * callers may change it freely (set a resourceVersion, ...) without touching either.
 */
export function applyMergePatch(target: unknown, patch: unknown): unknown {
  return mergeInto(clone(target), patch);
}

/** Merges the patch into a private copy of the target. */
function mergeInto(target: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return clone(patch);
  const result: JsonObject = isObject(target) ? target : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else result[key] = mergeInto(result[key], value);
  }
  return result;
}
