// v1 Node: a board that runs pods (pkg/registry/core/node).
import { type KindDefinition, WITH_STATUS } from '../kind-definition.js';
import { mergeBy, nested, objectMeta } from '../../patch/patch-meta.js';
import { nodePrinter } from '../../tables/nodes.js';
import { dns1123Subdomain } from '../../validation/names.js';

export const node: KindDefinition = {
  group: '', version: 'v1', kind: 'Node', resource: 'nodes', scope: 'Cluster',
  shortNames: ['no'],
  subresources: ['status'],
  strategy: WITH_STATUS,
  printer: nodePrinter,
  protobuf: { message: 'core/v1.Node' },
  patch: {
    metadata: nested(objectMeta),
    spec: nested({ podCIDRs: { strategy: 'merge' } }),
    status: nested({ conditions: mergeBy('type'), addresses: mergeBy('type') }),
  },
  validation: { name: dns1123Subdomain },
};
