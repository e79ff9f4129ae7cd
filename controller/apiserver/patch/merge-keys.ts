// The strategic-merge metadata of a kind, as declared in its module under kinds/. Kinds
// with nothing declared (and custom resources) have only their object metadata treated
// specially, as upstream does for CRDs.
import { kindNamed } from '../kinds/index.js';
import { METADATA_ONLY, type StructPatchMeta } from './patch-meta.js';

export { hasStrategy, type FieldPatchMeta, type StructPatchMeta } from './patch-meta.js';

function declared(group: string, kind: string): StructPatchMeta | undefined {
  const g = group === 'core' ? '' : group;
  return kindNamed(g, kind)?.patch;
}

/** The patch metadata of a kind of a group ('' = core). */
export function patchMetaFor(group: string, kind: string): StructPatchMeta {
  return declared(group, kind) ?? METADATA_ONLY;
}

/** Whether strategic merge knows this kind's lists (otherwise only metadata is special). */
export function hasPatchMeta(group: string, kind: string): boolean {
  return declared(group, kind) !== undefined;
}
