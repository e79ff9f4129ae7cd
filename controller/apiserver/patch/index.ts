// PATCH request bodies by content type. Server-side apply (application/apply-patch+yaml)
// is not handled here: it raises UnsupportedPatchType like any other unknown type.

import { PatchError, UnsupportedPatchType } from './patch-errors.js';
import { applyJsonPatch } from './json-patch.js';
import { applyMergePatch } from './json-merge.js';
import { applyStrategicMergePatch } from './strategic-merge.js';

export { PatchError, UnsupportedPatchType } from './patch-errors.js';
export { applyJsonPatch, parsePointer, type JsonPatchOperation } from './json-patch.js';
export { applyMergePatch } from './json-merge.js';
export { applyStrategicMergePatch } from './strategic-merge.js';
export { patchMetaFor, type FieldPatchMeta, type StructPatchMeta } from './merge-keys.js';

export const JSON_PATCH = 'application/json-patch+json';
export const MERGE_PATCH = 'application/merge-patch+json';
export const STRATEGIC_MERGE_PATCH = 'application/strategic-merge-patch+json';

/** The media type without parameters, lower case (`application/merge-patch+json; charset=utf-8` → `application/merge-patch+json`). */
export function patchMediaType(contentType: string): string {
  return contentType.split(';')[0]!.trim().toLowerCase();
}

/**
 * Applies a decoded PATCH body to the current object; returns the new object and leaves
 * both inputs untouched. Throws PatchError for a bad patch, UnsupportedPatchType for other
 * content types.
 */
export function applyPatch(contentType: string, target: unknown, patchBody: unknown, group: string, kind: string): unknown {
  switch (patchMediaType(contentType)) {
    case JSON_PATCH:
      return applyJsonPatch(target, patchBody);
    case MERGE_PATCH:
      return applyMergePatch(target, patchBody);
    case STRATEGIC_MERGE_PATCH:
      return applyStrategicMergePatch(target, patchBody, group, kind);
    default:
      throw new UnsupportedPatchType(contentType);
  }
}

export function isPatchError(error: unknown): error is PatchError {
  return error instanceof PatchError;
}
