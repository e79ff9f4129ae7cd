// Field numbers of the authentication/v1 protobuf messages that request bodies may carry.
// Each row: field number → [JSON name ('' when inlined), type, flags].
import { type MessageTable, REP, PTR } from '../message-table.js';

export const authenticationV1Messages: Record<string, MessageTable> = {
  'authentication/v1.BoundObjectReference': {
    1: ['kind', 'string'],
    2: ['apiVersion', 'string'],
    3: ['name', 'string'],
    4: ['uid', 'string'],
  },
  'authentication/v1.TokenRequest': {
    1: ['metadata', 'meta/v1.ObjectMeta'],
    2: ['spec', 'authentication/v1.TokenRequestSpec'],
    3: ['status', 'authentication/v1.TokenRequestStatus'],
  },
  'authentication/v1.TokenRequestSpec': {
    1: ['audiences', 'string', REP],
    3: ['boundObjectRef', 'authentication/v1.BoundObjectReference', PTR],
    4: ['expirationSeconds', 'int64', PTR],
    5: ['attestations', 'map:string'],
  },
  'authentication/v1.TokenRequestStatus': {
    1: ['token', 'string'],
    2: ['expirationTimestamp', 'Time'],
  },
};
