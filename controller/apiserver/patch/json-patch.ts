// JSON Patch (RFC 6902) with JSON Pointers (RFC 6901). Operations apply in order to a
// copy of the document; the first failing one aborts the whole patch.

import { PatchError } from './patch-errors.js';
import { clone, deepEqual, isObject, type JsonObject } from './json-value.js';

export interface JsonPatchOperation {
  op: 'add' | 'remove' | 'replace' | 'move' | 'copy' | 'test';
  path: string;
  value?: unknown;
  from?: string;
}

/** The decoded tokens of a JSON Pointer: `/a~1b/0` → ['a/b', '0']; '' is the whole document. */
export function parsePointer(pointer: string): string[] {
  if (pointer === '') return [];
  if (!pointer.startsWith('/')) throw new PatchError(`JSON pointer ${JSON.stringify(pointer)} must be empty or start with "/"`);
  return pointer.slice(1).split('/').map((token) => {
    if (/~[^01]|~$/.test(token)) throw new PatchError(`JSON pointer ${JSON.stringify(pointer)} has an invalid "~" escape`);
    return token.replace(/~1/g, '/').replace(/~0/g, '~');
  });
}

function arrayIndex(token: string, length: number, pointer: string, allowEnd: boolean): number {
  if (allowEnd && token === '-') return length;
  if (!/^(0|[1-9][0-9]*)$/.test(token)) throw new PatchError(`${pointer}: ${JSON.stringify(token)} is not an array index`);
  const index = Number(token);
  if (index > length || (!allowEnd && index === length)) throw new PatchError(`${pointer}: index ${index} is out of range (length ${length})`);
  return index;
}

/** The container holding the last token of the pointer, which must exist. */
function parentOf(doc: unknown, tokens: string[], pointer: string): unknown {
  let node = doc;
  for (const token of tokens.slice(0, -1)) {
    if (Array.isArray(node)) node = node[arrayIndex(token, node.length, pointer, false)];
    else if (isObject(node) && Object.prototype.hasOwnProperty.call(node, token)) node = node[token];
    else throw new PatchError(`${pointer}: path does not exist`);
  }
  if (!Array.isArray(node) && !isObject(node)) throw new PatchError(`${pointer}: parent is not an object or array`);
  return node;
}

function get(doc: unknown, pointer: string): unknown {
  const tokens = parsePointer(pointer);
  if (tokens.length === 0) return doc;
  const parent = parentOf(doc, tokens, pointer);
  const last = tokens[tokens.length - 1]!;
  if (Array.isArray(parent)) return parent[arrayIndex(last, parent.length, pointer, false)];
  const obj = parent as JsonObject;
  if (!Object.prototype.hasOwnProperty.call(obj, last)) throw new PatchError(`${pointer}: path does not exist`);
  return obj[last];
}

function add(doc: unknown, pointer: string, value: unknown): unknown {
  const tokens = parsePointer(pointer);
  if (tokens.length === 0) return value;
  const parent = parentOf(doc, tokens, pointer);
  const last = tokens[tokens.length - 1]!;
  if (Array.isArray(parent)) parent.splice(arrayIndex(last, parent.length, pointer, true), 0, value);
  else (parent as JsonObject)[last] = value;
  return doc;
}

function remove(doc: unknown, pointer: string): unknown {
  const tokens = parsePointer(pointer);
  if (tokens.length === 0) throw new PatchError('cannot remove the whole document');
  const parent = parentOf(doc, tokens, pointer);
  const last = tokens[tokens.length - 1]!;
  if (Array.isArray(parent)) {
    parent.splice(arrayIndex(last, parent.length, pointer, false), 1);
  } else {
    const obj = parent as JsonObject;
    if (!Object.prototype.hasOwnProperty.call(obj, last)) throw new PatchError(`${pointer}: path does not exist`);
    delete obj[last];
  }
  return doc;
}

function requireValue(op: JsonObject, index: number): unknown {
  if (!Object.prototype.hasOwnProperty.call(op, 'value')) throw new PatchError(`operation ${index} (${String(op.op)}) has no "value"`);
  return op.value;
}

function requireString(op: JsonObject, field: 'path' | 'from', index: number): string {
  const value = op[field];
  if (typeof value !== 'string') throw new PatchError(`operation ${index} (${String(op.op)}) needs a string "${field}"`);
  return value;
}

/** The document with the JSON Patch applied; the inputs are left untouched. */
export function applyJsonPatch(target: unknown, patch: unknown): unknown {
  if (!Array.isArray(patch)) throw new PatchError('a JSON patch must be an array of operations');
  let doc = clone(target);
  patch.forEach((raw, index) => {
    if (!isObject(raw)) throw new PatchError(`operation ${index} is not an object`);
    const path = requireString(raw, 'path', index);
    switch (raw.op) {
      case 'add':
        doc = add(doc, path, clone(requireValue(raw, index)));
        break;
      case 'remove':
        doc = remove(doc, path);
        break;
      case 'replace': {
        const value = clone(requireValue(raw, index));
        get(doc, path); // the target must exist
        doc = path === '' ? value : add(remove(doc, path), path, value);
        break;
      }
      case 'move': {
        const from = requireString(raw, 'from', index);
        if (path !== from && path.startsWith(`${from}/`)) throw new PatchError(`operation ${index}: cannot move ${from} into its own child ${path}`);
        const value = get(doc, from);
        if (path === from) break;
        doc = add(remove(doc, from), path, value);
        break;
      }
      case 'copy': {
        const from = requireString(raw, 'from', index);
        doc = add(doc, path, clone(get(doc, from)));
        break;
      }
      case 'test': {
        const expected = requireValue(raw, index);
        const actual = get(doc, path);
        if (!deepEqual(actual, expected)) {
          throw new PatchError(`test operation ${index} failed: ${path} is ${JSON.stringify(actual)}, not ${JSON.stringify(expected)}`);
        }
        break;
      }
      default:
        throw new PatchError(`operation ${index} has unknown op ${JSON.stringify(raw.op)}`);
    }
  });
  return doc;
}
