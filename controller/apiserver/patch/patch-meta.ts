// How strategic merge patch treats a list or map: the patch strategy and merge key that
// upstream's OpenAPI publishes as x-kubernetes-patch-strategy /
// x-kubernetes-patch-merge-key. Fields not described are plain: maps merge key by key
// and lists are replaced whole. The structures shared by several kinds (object
// metadata, pod templates) are described here; each kind's own fields in its module.

/** Patch metadata of one field; for lists, `fields` describes the elements. */
export interface FieldPatchMeta {
  /** 'merge', 'retainKeys', 'merge,retainKeys' or 'replace'; absent = default. */
  strategy?: string;
  mergeKey?: string;
  fields?: StructPatchMeta;
}

export type StructPatchMeta = Readonly<Record<string, FieldPatchMeta>>;

export const mergeBy = (mergeKey: string, fields?: StructPatchMeta): FieldPatchMeta => ({ strategy: 'merge', mergeKey, ...(fields ? { fields } : {}) });
export const nested = (fields: StructPatchMeta): FieldPatchMeta => ({ fields });

export const objectMeta: StructPatchMeta = {
  ownerReferences: mergeBy('uid'),
  finalizers: { strategy: 'merge' },
};

const container: StructPatchMeta = {
  ports: mergeBy('containerPort'),
  env: mergeBy('name'),
  volumeMounts: mergeBy('mountPath'),
  volumeDevices: mergeBy('devicePath'),
};

export const podSpec: StructPatchMeta = {
  volumes: { strategy: 'merge,retainKeys', mergeKey: 'name' },
  initContainers: mergeBy('name', container),
  containers: mergeBy('name', container),
  ephemeralContainers: mergeBy('name', container),
  imagePullSecrets: mergeBy('name'),
  hostAliases: mergeBy('ip'),
  topologySpreadConstraints: mergeBy('topologyKey'),
  schedulingGates: mergeBy('name'),
  resourceClaims: { strategy: 'merge,retainKeys', mergeKey: 'name' },
};

export const podTemplateSpec: StructPatchMeta = { metadata: nested(objectMeta), spec: nested(podSpec) };
export const conditionsByType: StructPatchMeta = { conditions: mergeBy('type') };

/** A kind with nothing special beyond its metadata. */
export const METADATA_ONLY: StructPatchMeta = { metadata: nested(objectMeta) };

export function hasStrategy(meta: FieldPatchMeta | undefined, strategy: 'merge' | 'replace' | 'retainKeys'): boolean {
  return meta?.strategy?.split(',').includes(strategy) ?? false;
}
