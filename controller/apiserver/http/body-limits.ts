// Limits on request bodies that hold before anything walks them recursively: nesting
// depth (a body 3,000 levels deep must be a 400, not a stack overflow) and the media
// types the API decodes (others are 415, like upstream's NegotiateInputSerializer).
import { ApiError, badRequest } from '../errors.js';

/**
 * Deepest nesting accepted. Upstream's decoders stop at 10,000 levels, but clients in
 * other languages recurse and fail far earlier (Python's json at about 1,000), so a
 * stored object must stay well below that; real objects (CRD schemas included) nest
 * fewer than 100 levels.
 */
export const MAX_NESTING_DEPTH = 256;

/** Nesting depth of JSON text, counted without parsing (brackets outside strings). */
export function jsonTextDepth(text: string, limit = MAX_NESTING_DEPTH): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash escapes the next character
      else if (c === 0x22) inString = false;
      continue;
    }
    if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) { if (++depth > max) { max = depth; if (max > limit) return max; } }
    else if (c === 0x7d || c === 0x5d) depth--;
  }
  return max;
}

/** Nesting depth of a decoded value, without recursion; stops counting past the limit. */
export function valueDepth(value: unknown, limit = MAX_NESTING_DEPTH): number {
  let max = 0;
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length) {
    const [v, d] = stack.pop()!;
    if (v === null || typeof v !== 'object') continue;
    const depth = d + 1;
    if (depth > max) { max = depth; if (max > limit) return max; }
    for (const child of Array.isArray(v) ? v : Object.values(v)) if (child !== null && typeof child === 'object') stack.push([child, depth]);
  }
  return max;
}

export function tooDeep(): ApiError {
  return badRequest(`the request body is nested too deeply: the limit is ${MAX_NESTING_DEPTH} levels`);
}

/** Media types a request body may have, by what the request does. */
export const OBJECT_MEDIA = ['application/json', 'application/yaml', 'application/vnd.kubernetes.protobuf'];
export const PATCH_MEDIA = ['application/json-patch+json', 'application/merge-patch+json', 'application/strategic-merge-patch+json', 'application/apply-patch+yaml'];

export function mediaTypeOf(contentType: string | undefined): string {
  return (contentType ?? '').split(';')[0]!.trim().toLowerCase();
}

/** 415 unless the body's media type is one of `accepted`; a missing type is read as JSON. */
export function requireMediaType(contentType: string | undefined, accepted: readonly string[]): void {
  const media = mediaTypeOf(contentType);
  if (media === '' || accepted.includes(media)) return;
  throw new ApiError(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: ${accepted.join(', ')}`);
}
