/** StatefulSet, PersistentVolumeClaim and PersistentVolume rules (upstream's apps and core validation). */
import { FieldPath, forbidden, invalid, notSupported, required, type FieldCause } from './field-cause.js';
import { asArray, asObj, canonical, type Obj } from './shape.js';
import { validateReplicaSetSpec, validateSelectorUpdate } from './workload-validation.js';

const ACCESS_MODES = ['ReadOnlyMany', 'ReadWriteMany', 'ReadWriteOnce', 'ReadWriteOncePod'];
const RECLAIM_POLICIES = ['Delete', 'Recycle', 'Retain'];
const VOLUME_SOURCES = ['hostPath', 'local', 'nfs', 'csi', 'iscsi', 'cephfs', 'rbd', 'fc', 'glusterfs'];

function validateAccessModes(value: unknown, path: FieldPath): FieldCause[] {
  const modes = asArray(value);
  if (modes.length === 0) return [required(path.toString(), 'at least 1 access mode is required')];
  return modes.filter((m) => !ACCESS_MODES.includes(String(m))).map((m) => notSupported(path.toString(), m, ACCESS_MODES));
}

export function validateClaimSpec(specValue: unknown, path: FieldPath): FieldCause[] {
  const spec = asObj(specValue) ?? {};
  const causes = validateAccessModes(spec.accessModes, path.child('accessModes'));
  const storage = asObj(asObj(spec.resources)?.requests)?.storage;
  if (storage === undefined || storage === null || storage === '') causes.push(required(`${path.child('resources')}[storage]`));
  return causes;
}

/** A claim's spec is fixed once created, except requests and the volume a binder fills in. */
export function validateClaimSpecUpdate(specValue: unknown, oldValue: unknown, path: FieldPath): FieldCause[] {
  const spec = { ...(asObj(specValue) ?? {}) }, old = { ...(asObj(oldValue) ?? {}) };
  const strip = (s: Obj, volumeFree: boolean) => {
    const resources = asObj(s.resources);
    if (resources) s.resources = { ...resources, requests: undefined };
    if (volumeFree) delete s.volumeName;
  };
  const volumeFree = !old.volumeName;
  strip(spec, volumeFree); strip(old, volumeFree);
  if (canonical(spec) === canonical(old)) return [];
  return [forbidden(path.toString(), 'spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims')];
}

export function validateVolumeSpec(specValue: unknown, path: FieldPath): FieldCause[] {
  const spec = asObj(specValue) ?? {};
  const causes = validateAccessModes(spec.accessModes, path.child('accessModes'));
  if (!asObj(spec.capacity)?.storage) causes.push(required(path.child('capacity').toString()));
  const sources = VOLUME_SOURCES.filter((s) => spec[s] !== undefined && spec[s] !== null);
  if (sources.length === 0) causes.push(required(path.toString(), 'must specify a volume type'));
  if (sources.length > 1) causes.push(forbidden(path.child(sources[1]!).toString(), 'may not specify more than 1 volume type'));
  const policy = spec.persistentVolumeReclaimPolicy;
  if (policy !== undefined && !RECLAIM_POLICIES.includes(String(policy))) causes.push(notSupported(path.child('persistentVolumeReclaimPolicy').toString(), policy, RECLAIM_POLICIES));
  if (spec.local && !spec.nodeAffinity) causes.push(required(path.child('nodeAffinity').toString(), 'Local volume requires node affinity'));
  for (const s of ['hostPath', 'local']) {
    const p = asObj(spec[s])?.path;
    if (spec[s] && (typeof p !== 'string' || !p)) causes.push(required(path.child(s).child('path').toString()));
  }
  const nfs = asObj(spec.nfs);
  if (nfs) {
    if (!nfs.server) causes.push(required(path.child('nfs').child('server').toString()));
    if (typeof nfs.path !== 'string' || !nfs.path.startsWith('/')) causes.push(invalid(path.child('nfs').child('path').toString(), nfs.path ?? '', 'must be an absolute path'));
  }
  return causes;
}

/** Containers may mount the claim templates by name: they become pod volumes. */
function withClaimVolumes(spec: Obj): Obj {
  const names = asArray(spec.volumeClaimTemplates).map((t) => asObj(asObj(t)?.metadata)?.name).filter((n): n is string => typeof n === 'string' && n !== '');
  const template = asObj(spec.template);
  const podSpec = asObj(template?.spec);
  if (names.length === 0 || !template || !podSpec) return spec;
  const volumes = asArray(podSpec.volumes).filter((v) => !names.includes(String(asObj(v)?.name)));
  const claimVolumes = names.map((name) => ({ name, persistentVolumeClaim: { claimName: name } }));
  return { ...spec, template: { ...template, spec: { ...podSpec, volumes: [...volumes, ...claimVolumes] } } };
}

const STS_POLICIES = ['OrderedReady', 'Parallel'];
const STS_STRATEGIES = ['OnDelete', 'RollingUpdate'];
const RETENTION = ['Retain', 'Delete'];

export function validateStatefulSetSpec(specValue: unknown, path: FieldPath): FieldCause[] {
  const spec = asObj(specValue) ?? {};
  const causes = validateReplicaSetSpec(withClaimVolumes(spec), path);
  const policy = spec.podManagementPolicy;
  if (policy !== undefined && !STS_POLICIES.includes(String(policy))) causes.push(notSupported(path.child('podManagementPolicy').toString(), policy, STS_POLICIES));
  const strategy = asObj(spec.updateStrategy);
  if (strategy) {
    const type = strategy.type;
    if (!STS_STRATEGIES.includes(String(type))) causes.push(notSupported(path.child('updateStrategy').child('type').toString(), type, STS_STRATEGIES));
    const partition = asObj(strategy.rollingUpdate)?.partition;
    if (typeof partition === 'number' && partition < 0) causes.push(invalid(path.child('updateStrategy').child('rollingUpdate').child('partition').toString(), partition, 'must be greater than or equal to 0'));
    if (type === 'OnDelete' && strategy.rollingUpdate) causes.push(invalid(path.child('updateStrategy').child('rollingUpdate').toString(), strategy.rollingUpdate, "only allowed for updateStrategy 'RollingUpdate'"));
  }
  const retention = asObj(spec.persistentVolumeClaimRetentionPolicy);
  for (const k of ['whenDeleted', 'whenScaled']) {
    const v = retention?.[k];
    if (v !== undefined && !RETENTION.includes(String(v))) causes.push(notSupported(path.child('persistentVolumeClaimRetentionPolicy').child(k).toString(), v, RETENTION));
  }
  asArray(spec.volumeClaimTemplates).forEach((t, i) => {
    const tp = path.child('volumeClaimTemplates').index(i);
    if (!asObj(asObj(t)?.metadata)?.name) causes.push(required(tp.child('metadata').child('name').toString()));
    causes.push(...validateClaimSpec(asObj(t)?.spec, tp.child('spec')));
  });
  return causes;
}

const STS_MUTABLE = ['replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy', 'minReadySeconds'];

export function validateStatefulSetSpecUpdate(specValue: unknown, oldValue: unknown, path: FieldPath): FieldCause[] {
  const causes = validateStatefulSetSpec(specValue, path);
  const strip = (s: unknown) => Object.fromEntries(Object.entries(asObj(s) ?? {}).filter(([k]) => !STS_MUTABLE.includes(k)));
  if (canonical(strip(specValue)) !== canonical(strip(oldValue))) {
    causes.push(forbidden(path.toString(), "updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden"));
  } else causes.push(...validateSelectorUpdate(specValue, oldValue, path));
  return causes;
}
