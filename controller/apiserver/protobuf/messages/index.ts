// Every message table the decoder knows, by qualified name ('core/v1.Pod'): the ones in
// this folder (structures several kinds share, and bodies that are not stored kinds:
// Scale, Eviction, TokenRequest, reviews) and those each kind's module brings.
import type { MessageTable } from '../message-table.js';
import { kindMessages } from '../../kinds/index.js';
import { authenticationV1Messages } from './authentication-v1.js';
import { autoscalingV1Messages } from './autoscaling-v1.js';
import { coreV1Messages } from './core-v1.js';
import { metaV1Messages } from './meta-v1.js';
import { policyV1Messages } from './policy-v1.js';
import { authorizationV1Messages, rbacV1Messages } from './rbac-v1.js';

export const MESSAGES: Readonly<Record<string, MessageTable>> = {
  ...metaV1Messages, ...coreV1Messages, ...autoscalingV1Messages,
  ...authenticationV1Messages, ...policyV1Messages,
  ...rbacV1Messages, ...authorizationV1Messages,
  ...kindMessages(),
};
