// The strategic-merge metadata of a kind: declared in its module under kinds/ (or, for
// kinds not yet declared there, in the table below). Kinds with nothing declared have
// only their object metadata treated specially.
import { kindNamed } from '../kinds/index.js';
import { conditionsByType, mergeBy, METADATA_ONLY, nested, objectMeta, podSpec, type StructPatchMeta } from './patch-meta.js';

export { hasStrategy, type FieldPatchMeta, type StructPatchMeta } from './patch-meta.js';

const podStatus: StructPatchMeta = {
  conditions: mergeBy('type'),
  hostIPs: mergeBy('ip'),
  podIPs: mergeBy('ip'),
  resourceClaimStatuses: { strategy: 'merge,retainKeys', mergeKey: 'name' },
};

const KINDS: Readonly<Record<string, StructPatchMeta>> = {
  '/Pod': { metadata: nested(objectMeta), spec: nested(podSpec), status: nested(podStatus) },
  '/Service': { metadata: nested(objectMeta), spec: nested({ ports: mergeBy('port') }), status: nested(conditionsByType) },
  '/Node': {
    metadata: nested(objectMeta),
    spec: nested({ podCIDRs: { strategy: 'merge' } }),
    status: nested({ conditions: mergeBy('type'), addresses: mergeBy('type') }),
  },
  '/Namespace': { metadata: nested(objectMeta), status: nested(conditionsByType) },
  '/ServiceAccount': { metadata: nested(objectMeta), secrets: mergeBy('name') },
  '/ConfigMap': { metadata: nested(objectMeta) },
  '/Secret': { metadata: nested(objectMeta) },
  '/Endpoints': { metadata: nested(objectMeta) },
  '/Event': { metadata: nested(objectMeta) },
  '/PersistentVolumeClaim': { metadata: nested(objectMeta), status: nested(conditionsByType) },
};

function declared(group: string, kind: string): StructPatchMeta | undefined {
  const g = group === 'core' ? '' : group;
  const k = kindNamed(g, kind);
  return k ? k.patch : KINDS[`${g}/${kind}`];
}

/** The patch metadata of a kind of a group ('' = core). */
export function patchMetaFor(group: string, kind: string): StructPatchMeta {
  return declared(group, kind) ?? METADATA_ONLY;
}

/** Whether strategic merge knows this kind's lists (otherwise only metadata is special). */
export function hasPatchMeta(group: string, kind: string): boolean {
  return declared(group, kind) !== undefined;
}
