// Strategic merge patch, the format `kubectl apply` sends. Like a JSON merge patch, but
// lists that have a merge key merge element by element (containers by name, ports by
// containerPort, ...), and the patch may carry directives:
//   $patch: replace | delete | merge       on a map, or as an element of a merged list
//   $retainKeys: [...]                     keep only these keys of the map
//   $setElementOrder/<list>: [...]         the order the merged list should have
//   $deleteFromPrimitiveList/<list>: [...] values to drop from a list of scalars
// Directives steer the merge and are never stored in the result.

import { PatchError } from './patch-errors.js';
import { clone, deepEqual, isObject, type JsonObject } from './json-value.js';
import { hasStrategy, patchMetaFor, type FieldPatchMeta, type StructPatchMeta } from './merge-keys.js';

const PATCH_DIRECTIVE = '$patch';
const RETAIN_KEYS = '$retainKeys';
const SET_ELEMENT_ORDER = '$setElementOrder/';
const DELETE_FROM_PRIMITIVE_LIST = '$deleteFromPrimitiveList/';

/** The target with the strategic merge patch applied; the inputs are left untouched. */
export function applyStrategicMergePatch(target: unknown, patch: unknown, group: string, kind: string): unknown {
  if (!isObject(patch)) throw new PatchError('a strategic merge patch must be a JSON object');
  if (!isObject(target)) throw new PatchError('a strategic merge patch applies only to a JSON object');
  return mergeMap(clone(target), clone(patch), patchMetaFor(group, kind), '');
}

function fieldMeta(fields: StructPatchMeta | undefined, key: string): FieldPatchMeta | undefined {
  return fields && Object.prototype.hasOwnProperty.call(fields, key) ? fields[key] : undefined;
}

function where(path: string): string {
  return path === '' ? 'the object' : path;
}

/** Merges `patch` into `original`; both are private copies and may be changed. */
function mergeMap(original: JsonObject, patch: JsonObject, fields: StructPatchMeta | undefined, path: string): JsonObject {
  if (Object.prototype.hasOwnProperty.call(patch, PATCH_DIRECTIVE)) {
    const directive = patch[PATCH_DIRECTIVE];
    delete patch[PATCH_DIRECTIVE];
    if (directive === 'replace') return fresh(patch, { fields }, path) as JsonObject;
    if (directive === 'delete') return {};
    if (directive !== 'merge') throw new PatchError(`${where(path)}: unknown $patch directive ${JSON.stringify(directive)}`);
  }

  applyRetainKeys(original, patch, path);
  applyElementOrders(original, patch, fields, path);

  // Deletions from primitive lists first, so that additions in the same patch stay.
  for (const key of Object.keys(patch)) {
    if (!key.startsWith(DELETE_FROM_PRIMITIVE_LIST)) continue;
    const field = key.slice(DELETE_FROM_PRIMITIVE_LIST.length);
    const values = patch[key];
    delete patch[key];
    if (!Array.isArray(values)) throw new PatchError(`${path}/${key}: must be a list`);
    const current = original[field];
    if (Array.isArray(current)) original[field] = current.filter((item) => !values.some((v) => deepEqual(v, item)));
  }

  for (const [key, value] of Object.entries(patch)) {
    if (key.startsWith('$')) throw new PatchError(`${path}/${key}: unknown patch directive`);
    const childPath = `${path}/${key}`;
    if (value === null) {
      delete original[key];
      continue;
    }
    const meta = fieldMeta(fields, key);
    const current = original[key];
    if (!Object.prototype.hasOwnProperty.call(original, key)) {
      original[key] = fresh(value, meta, childPath);
    } else if (isObject(current) && isObject(value)) {
      original[key] = hasStrategy(meta, 'replace') ? fresh(value, meta, childPath) : mergeMap(current, value, meta?.fields, childPath);
    } else if (Array.isArray(current) && Array.isArray(value)) {
      original[key] = mergeListField(current, value, meta, childPath);
    } else {
      original[key] = fresh(value, meta, childPath);
    }
  }
  return original;
}

/** A value taken from the patch where there is nothing to merge it with, directives and nulls removed. */
function fresh(value: unknown, meta: FieldPatchMeta | undefined, path: string): unknown {
  if (isObject(value)) return mergeMap({}, value, meta?.fields, path);
  if (Array.isArray(value)) {
    if (hasStrategy(meta, 'merge')) return mergeList([], value, meta!, path);
    return value.map((item, i) => (isObject(item) || Array.isArray(item) ? fresh(item, { fields: meta?.fields }, `${path}/${i}`) : item));
  }
  return value;
}

function mergeListField(original: unknown[], patch: unknown[], meta: FieldPatchMeta | undefined, path: string): unknown[] {
  return hasStrategy(meta, 'merge') ? mergeList(original, patch, meta!, path) : (fresh(patch, meta, path) as unknown[]);
}

type ElementKind = 'map' | 'scalar';

function elementKind(lists: unknown[][], path: string): ElementKind {
  let kind: ElementKind | undefined;
  for (const list of lists) {
    for (const item of list) {
      if (item === null) continue;
      if (Array.isArray(item)) throw new PatchError(`${path}: lists of lists cannot be merged`);
      const k: ElementKind = isObject(item) ? 'map' : 'scalar';
      if (kind !== undefined && kind !== k) throw new PatchError(`${path}: list mixes objects and scalars`);
      kind = k;
    }
  }
  return kind ?? 'scalar';
}

/** Whether two elements are the same element: same merge key value for maps, equal for scalars. */
function sameElement(a: unknown, b: unknown, mergeKey: string | undefined): boolean {
  if (mergeKey !== undefined && isObject(a) && isObject(b)) return deepEqual(a[mergeKey], b[mergeKey]);
  return deepEqual(a, b);
}

function indexIn(list: unknown[], item: unknown, mergeKey: string | undefined): number {
  return list.findIndex((x) => sameElement(x, item, mergeKey));
}

/** Merges a list whose strategy is merge: by merge key for maps, as a set for scalars. */
function mergeList(original: unknown[], patch: unknown[], meta: FieldPatchMeta, path: string): unknown[] {
  if (original.length === 0 && patch.length === 0) return original;
  const kind = elementKind([original, patch], path);

  if (kind === 'scalar') {
    const merged: unknown[] = [];
    for (const item of [...original, ...patch]) if (indexIn(merged, item, undefined) < 0) merged.push(item);
    const inPatch = merged.filter((x) => indexIn(patch, x, undefined) >= 0);
    const serverOnly = merged.filter((x) => indexIn(patch, x, undefined) < 0);
    return normalizeOrder(inPatch, serverOnly, patch, original, undefined);
  }

  const mergeKey = meta.mergeKey;
  if (mergeKey === undefined) throw new PatchError(`${path}: cannot merge a list of objects that has no merge key`);

  // Elements carrying $patch act on the list rather than being merged into it.
  let replace = false;
  let patchItems: JsonObject[] = [];
  let current = original;
  for (const item of patch) {
    if (!isObject(item)) throw new PatchError(`${path}: every element must be an object`);
    if (!Object.prototype.hasOwnProperty.call(item, PATCH_DIRECTIVE)) {
      patchItems.push(item);
      continue;
    }
    const directive = item[PATCH_DIRECTIVE];
    if (directive === 'delete') {
      if (!Object.prototype.hasOwnProperty.call(item, mergeKey)) throw new PatchError(`${path}: $patch delete element has no merge key "${mergeKey}"`);
      current = current.filter((x) => !sameElement(x, item, mergeKey));
    } else if (directive === 'replace') {
      replace = true;
    } else if (directive === 'merge') {
      const { [PATCH_DIRECTIVE]: _ignored, ...rest } = item;
      if (Object.prototype.hasOwnProperty.call(rest, mergeKey)) patchItems.push(rest);
    } else {
      throw new PatchError(`${path}: unknown $patch directive ${JSON.stringify(directive)}`);
    }
  }
  if (replace) {
    // The list becomes exactly the patch's other elements.
    current = patchItems.map((item, i) => mergeMap({}, item, meta.fields, `${path}/${i}`));
    patchItems = [];
  }

  const serverOrder = [...current];
  const merged = [...current];
  for (const item of patchItems) {
    if (!Object.prototype.hasOwnProperty.call(item, mergeKey)) throw new PatchError(`${path}: element has no merge key "${mergeKey}"`);
    const at = indexIn(merged, item, mergeKey);
    const childPath = `${path}[${mergeKey}=${JSON.stringify(item[mergeKey])}]`;
    if (at >= 0 && isObject(merged[at])) merged[at] = mergeMap(merged[at] as JsonObject, item, meta.fields, childPath);
    else if (at >= 0) merged[at] = mergeMap({}, item, meta.fields, childPath);
    else merged.push(mergeMap({}, item, meta.fields, childPath));
  }
  const inPatch = merged.filter((x) => indexIn(patchItems, x, mergeKey) >= 0);
  const serverOnly = merged.filter((x) => indexIn(patchItems, x, mergeKey) < 0);
  return normalizeOrder(inPatch, serverOnly, patchItems, serverOrder, mergeKey);
}

/**
 * Puts patch elements in the patch's order and server-only elements in the server's order,
 * then interleaves them: a server-only element goes before a patch element only when it
 * came before it on the server too.
 */
function normalizeOrder(patchItems: unknown[], serverOnly: unknown[], patchOrder: unknown[], serverOrder: unknown[], mergeKey: string | undefined): unknown[] {
  const byOrder = (order: unknown[]) => (a: unknown, b: unknown) => indexIn(order, a, mergeKey) - indexIn(order, b, mergeKey);
  const right = [...patchItems].sort(byOrder(patchOrder));
  const left = [...serverOnly].sort(byOrder(serverOrder));
  const result: unknown[] = [];
  let i = 0;
  let j = 0;
  while (i < left.length || j < right.length) {
    if (j >= right.length) result.push(left[i++]);
    else if (i >= left.length) result.push(right[j++]);
    else {
      const li = indexIn(serverOrder, left[i], mergeKey);
      const ri = indexIn(serverOrder, right[j], mergeKey);
      if (li >= 0 && ri >= 0 && li < ri) result.push(left[i++]);
      else result.push(right[j++]);
    }
  }
  return result;
}

function applyRetainKeys(original: JsonObject, patch: JsonObject, path: string): void {
  if (!Object.prototype.hasOwnProperty.call(patch, RETAIN_KEYS)) return;
  const keep = patch[RETAIN_KEYS];
  delete patch[RETAIN_KEYS];
  if (!Array.isArray(keep) || !keep.every((k) => typeof k === 'string')) throw new PatchError(`${where(path)}: $retainKeys must be a list of field names`);
  const retained = new Set<string>(keep as string[]);
  for (const [key, value] of Object.entries(patch)) {
    if (value === null || key.startsWith(SET_ELEMENT_ORDER) || key.startsWith(DELETE_FROM_PRIMITIVE_LIST) || key === PATCH_DIRECTIVE) continue;
    if (!retained.has(key)) throw new PatchError(`${where(path)}: field "${key}" is in the patch but not in $retainKeys`);
  }
  for (const key of Object.keys(original)) if (!retained.has(key)) delete original[key];
}

/** Merges each list named by a $setElementOrder directive and orders it as the directive says. */
function applyElementOrders(original: JsonObject, patch: JsonObject, fields: StructPatchMeta | undefined, path: string): void {
  for (const key of Object.keys(patch)) {
    if (!key.startsWith(SET_ELEMENT_ORDER)) continue;
    const field = key.slice(SET_ELEMENT_ORDER.length);
    const order = patch[key];
    delete patch[key];
    const listPath = `${path}/${field}`;
    if (!Array.isArray(order)) throw new PatchError(`${path}/${key}: must be a list`);
    const meta = fieldMeta(fields, field);
    const mergeKey = meta?.mergeKey;

    const hasOriginal = Object.prototype.hasOwnProperty.call(original, field) && original[field] !== null;
    const hasPatch = Object.prototype.hasOwnProperty.call(patch, field) && patch[field] !== null;
    const originalList = hasOriginal ? original[field] : [];
    const patchList = hasPatch ? patch[field] : [];
    if (!Array.isArray(originalList)) throw new PatchError(`${listPath}: is not a list, but the patch orders it as one`);
    if (!Array.isArray(patchList)) throw new PatchError(`${listPath}: the patch gives a non-list next to $setElementOrder`);
    checkOrderCoversPatch(patchList, order, mergeKey, listPath);

    let merged: unknown[];
    if (hasOriginal && hasPatch) merged = mergeListField(originalList, patchList, meta, listPath);
    else if (hasPatch) merged = fresh(patchList, meta, listPath) as unknown[];
    else if (hasOriginal) merged = originalList;
    else continue;

    const ordered = merged.filter((x) => indexIn(order, x, mergeKey) >= 0);
    const serverOnly = merged.filter((x) => indexIn(order, x, mergeKey) < 0);
    original[field] = normalizeOrder(ordered, serverOnly, order, originalList, mergeKey);
    delete patch[field];
  }
}

/** Every element the patch sets must appear in the $setElementOrder list, in the same relative order. */
function checkOrderCoversPatch(patchList: unknown[], order: unknown[], mergeKey: string | undefined, path: string): void {
  const items = patchList.filter((x) => !(isObject(x) && Object.prototype.hasOwnProperty.call(x, PATCH_DIRECTIVE)));
  let o = 0;
  for (const item of items) {
    while (o < order.length && !sameElement(item, order[o], mergeKey)) o++;
    if (o >= order.length) throw new PatchError(`${path}: the patch list does not match the order given by $setElementOrder`);
    o++;
  }
}
