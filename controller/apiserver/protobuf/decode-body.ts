// A protobuf request body → the same JSON-shaped object the JSON path yields, or a clear
// API error: 400 for a malformed body, 415 for a kind (or encoding) pikube cannot decode.
import { ApiError, badRequest } from '../errors.js';
import { decodeMessage } from './decode-message.js';
import { readEnvelope, type Envelope } from './envelope.js';
import { messageForKind } from './kinds.js';
import { WireError } from './wire.js';

export function decodeProtobufBody(buf: Uint8Array): Record<string, unknown> {
  if (buf.length === 0) throw badRequest('the request body is empty');
  let env: Envelope;
  try {
    env = readEnvelope(buf);
  } catch (err) {
    throw malformed(err);
  }
  if (env.contentEncoding) throw unsupported(`protobuf bodies with content encoding "${env.contentEncoding}" are not supported; send application/json`);
  const message = messageForKind(env.apiVersion, env.kind);
  if (!message) {
    const what = env.kind ? `kind ${env.kind} (apiVersion ${env.apiVersion || 'unset'})` : 'an object without a kind';
    throw unsupported(`this server cannot decode ${what} from protobuf; send it as application/json`);
  }
  try {
    return { apiVersion: env.apiVersion, kind: env.kind, ...decodeMessage(message, env.raw, env.kind) };
  } catch (err) {
    throw malformed(err);
  }
}

function malformed(err: unknown): ApiError {
  if (err instanceof WireError) return badRequest(`the protobuf request body is malformed: ${err.message}`);
  throw err;
}

function unsupported(message: string): ApiError {
  return new ApiError(415, 'UnsupportedMediaType', message);
}
