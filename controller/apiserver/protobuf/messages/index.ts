// Every message table the decoder knows, by qualified name ('core/v1.Pod'): the shared
// ones in this folder and those a kind's module brings.
import type { MessageTable } from '../message-table.js';
import { kindMessages } from '../../kinds/index.js';
import { appsV1Messages } from './apps-v1.js';
import { batchV1Messages } from './batch-v1.js';
import { authenticationV1Messages } from './authentication-v1.js';
import { autoscalingV1Messages } from './autoscaling-v1.js';
import { coordinationV1Messages } from './coordination-v1.js';
import { coreV1Messages } from './core-v1.js';
import { discoveryV1Messages } from './discovery-v1.js';
import { metaV1Messages } from './meta-v1.js';
import { networkingV1Messages } from './networking-v1.js';
import { policyV1Messages } from './policy-v1.js';
import { authorizationV1Messages, rbacV1Messages } from './rbac-v1.js';

export const MESSAGES: Readonly<Record<string, MessageTable>> = {
  ...metaV1Messages, ...coreV1Messages, ...appsV1Messages, ...autoscalingV1Messages,
  ...authenticationV1Messages, ...policyV1Messages, ...coordinationV1Messages, ...discoveryV1Messages,
  ...batchV1Messages,
  ...rbacV1Messages, ...authorizationV1Messages,
  ...networkingV1Messages,
  ...kindMessages(),
};
