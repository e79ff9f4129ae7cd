// How strategic merge patch treats each list and map of the kinds pikube serves: the
// patch strategy and merge key that upstream's OpenAPI publishes as
// x-kubernetes-patch-strategy / x-kubernetes-patch-merge-key. Fields not listed here
// are plain: maps merge key by key and lists are replaced whole.

/** Patch metadata of one field; for lists, `fields` describes the elements. */
export interface FieldPatchMeta {
  /** 'merge', 'retainKeys', 'merge,retainKeys' or 'replace'; absent = default. */
  strategy?: string;
  mergeKey?: string;
  fields?: StructPatchMeta;
}

export type StructPatchMeta = Readonly<Record<string, FieldPatchMeta>>;

const mergeBy = (mergeKey: string, fields?: StructPatchMeta): FieldPatchMeta => ({ strategy: 'merge', mergeKey, ...(fields ? { fields } : {}) });
const nested = (fields: StructPatchMeta): FieldPatchMeta => ({ fields });

const objectMeta: StructPatchMeta = {
  ownerReferences: mergeBy('uid'),
  finalizers: { strategy: 'merge' },
};

const container: StructPatchMeta = {
  ports: mergeBy('containerPort'),
  env: mergeBy('name'),
  volumeMounts: mergeBy('mountPath'),
  volumeDevices: mergeBy('devicePath'),
};

const podSpec: StructPatchMeta = {
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

const podStatus: StructPatchMeta = {
  conditions: mergeBy('type'),
  hostIPs: mergeBy('ip'),
  podIPs: mergeBy('ip'),
  resourceClaimStatuses: { strategy: 'merge,retainKeys', mergeKey: 'name' },
};

const podTemplateSpec: StructPatchMeta = { metadata: nested(objectMeta), spec: nested(podSpec) };
const conditionsByType: StructPatchMeta = { conditions: mergeBy('type') };

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
  'coordination.k8s.io/Lease': { metadata: nested(objectMeta) },
  'apps/Deployment': {
    metadata: nested(objectMeta),
    spec: nested({ template: nested(podTemplateSpec), strategy: { strategy: 'retainKeys' } }),
    status: nested(conditionsByType),
  },
  'apps/ReplicaSet': { metadata: nested(objectMeta), spec: nested({ template: nested(podTemplateSpec) }), status: nested(conditionsByType) },
  'apps/DaemonSet': { metadata: nested(objectMeta), spec: nested({ template: nested(podTemplateSpec) }), status: nested(conditionsByType) },
  'apps/StatefulSet': { metadata: nested(objectMeta), spec: nested({ template: nested(podTemplateSpec) }), status: nested(conditionsByType) },
  '/PersistentVolumeClaim': { metadata: nested(objectMeta), status: nested(conditionsByType) },
};

/** Every kind has object metadata; kinds without their own entry have nothing else special. */
const GENERIC: StructPatchMeta = { metadata: nested(objectMeta) };

/** The patch metadata of a kind of a group ('' = core). */
export function patchMetaFor(group: string, kind: string): StructPatchMeta {
  return KINDS[`${group === 'core' ? '' : group}/${kind}`] ?? GENERIC;
}

/** Whether strategic merge knows this kind's lists (otherwise only metadata is special). */
export function hasPatchMeta(group: string, kind: string): boolean {
  return `${group === 'core' ? '' : group}/${kind}` in KINDS;
}

export function hasStrategy(meta: FieldPatchMeta | undefined, strategy: 'merge' | 'replace' | 'retainKeys'): boolean {
  return meta?.strategy?.split(',').includes(strategy) ?? false;
}
