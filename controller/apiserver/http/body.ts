// Request bodies: size-limited, JSON or YAML, with the parser's position on errors.
import type { IncomingMessage } from 'node:http';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import { ApiError, badRequest } from '../errors.js';
import { decodeProtobufBody } from '../protobuf/decode-body.js';
import { jsonTextDepth, MAX_NESTING_DEPTH, OBJECT_MEDIA, PATCH_MEDIA, requireMediaType, tooDeep, valueDepth } from './body-limits.js';

export const MAX_BODY_BYTES = 3 * 1024 * 1024;

export async function readBody(req: IncomingMessage, limit = MAX_BODY_BYTES): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > limit) {
    req.resume();
    throw new ApiError(413, 'RequestEntityTooLarge', `Request entity too large: limit is ${limit}`);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new ApiError(413, 'RequestEntityTooLarge', `Request entity too large: limit is ${limit}`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/** Parses JSON, YAML when the content type says so (server-side apply sends YAML types), or Kubernetes protobuf. */
export function decodeBody(buf: Buffer, contentType: string | undefined): unknown {
  requireMediaType(contentType, [...OBJECT_MEDIA, ...PATCH_MEDIA]);
  let value: unknown;
  try {
    value = decodeUnlimited(buf, contentType);
  } catch (err) {
    if (err instanceof RangeError) throw tooDeep(); // a decoder recursed too deep
    throw err;
  }
  if (valueDepth(value) > MAX_NESTING_DEPTH) throw tooDeep();
  return value;
}

function decodeUnlimited(buf: Buffer, contentType: string | undefined): unknown {
  const ct = (contentType ?? '').toLowerCase();
  // kubectl's typed commands (create namespace/deployment/...) send protobuf and never fall back.
  if (ct.includes('protobuf')) return decodeProtobufBody(buf);
  if (ct.includes('cbor')) {
    throw new ApiError(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: application/json, application/yaml`);
  }
  const text = buf.toString('utf8');
  if (!text.trim()) throw badRequest('the request body is empty');
  if (ct.includes('yaml') && !text.trimStart().startsWith('{')) {
    // Flow collections ([[[...]]]) nest like JSON; block nesting is bounded by indentation.
    if (jsonTextDepth(text) > MAX_NESTING_DEPTH) throw tooDeep();
    try {
      return parseYaml(text, { uniqueKeys: true });
    } catch (err) {
      const where = err instanceof YAMLParseError && err.linePos ? ` at line ${err.linePos[0].line}, column ${err.linePos[0].col}` : '';
      throw badRequest(`error decoding YAML${where}: ${(err as Error).message.split('\n')[0]}`);
    }
  }
  if (jsonTextDepth(text) > MAX_NESTING_DEPTH) throw tooDeep();
  try {
    return JSON.parse(text);
  } catch (err) {
    throw badRequest(`the request body is not valid JSON: ${(err as Error).message}`);
  }
}
