// Subresources that are more than a view of the object: pods/binding, the autoscaling/v1
// Scale of workloads, pods/eviction.
import type { KubeObject, Pod, ScalableWorkload } from '../../protocol/kube/types.js';
import { formatSelector } from '../../protocol/kube/labels.js';
import type { ApiCore } from './api-core.js';
import { ApiError, badRequest, conflict } from './errors.js';
import { findResource, type ResourceInfo } from './resources.js';
import { rfc3339Seconds } from '../../protocol/kube/time.js';

const PODS = findResource('', 'pods')!;

export async function bindPod(core: ApiCore, namespace: string, podName: string, nodeName: string): Promise<KubeObject> {
  if (!nodeName) throw badRequest('binding target node name is required');
  return core.mutate(PODS, namespace, podName, (draft) => {
    const pod = draft as Pod;
    if (pod.metadata.deletionTimestamp) throw conflict('pods', podName, '', 'pod is being deleted, cannot be assigned to a host');
    if (pod.spec.nodeName) throw conflict('pods', podName, '', `pod ${podName} is already assigned to node "${pod.spec.nodeName}"`);
    pod.spec.nodeName = nodeName;
    const now = rfc3339Seconds();
    const status = (pod.status ??= {});
    const conditions = (status.conditions ??= []).filter((c) => c.type !== 'PodScheduled');
    conditions.push({ type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: now });
    status.conditions = conditions;
    return pod;
  }, 'binding');
}

export function toScale(info: ResourceInfo, obj: KubeObject): KubeObject {
  if (info.custom?.scale) return customScale(info, obj);
  const workload = obj as ScalableWorkload;
  return {
    kind: 'Scale', apiVersion: 'autoscaling/v1',
    metadata: {
      name: obj.metadata.name, namespace: obj.metadata.namespace, uid: obj.metadata.uid,
      resourceVersion: obj.metadata.resourceVersion, creationTimestamp: obj.metadata.creationTimestamp,
    },
    spec: { replicas: workload.spec?.replicas ?? 0 },
    status: { replicas: workload.status?.replicas ?? 0, selector: formatSelector(workload.spec?.selector) },
  };
}

export async function applyScale(core: ApiCore, info: ResourceInfo, namespace: string, name: string, change: (scale: KubeObject) => KubeObject): Promise<KubeObject> {
  const updated = await core.mutate(info, namespace, name, (obj) => {
    const scale = change(toScale(info, obj));
    const replicas = (scale?.spec as { replicas?: unknown } | undefined)?.replicas;
    if (typeof replicas !== 'number' || !Number.isInteger(replicas) || replicas < 0) {
      throw new ApiError(422, 'Invalid', `Scale.autoscaling "${name}" is invalid: spec.replicas: Invalid value: ${JSON.stringify(replicas)}: must be greater than or equal to 0`, {
        name, group: 'autoscaling', kind: 'Scale', causes: [{ reason: 'FieldValueInvalid', field: 'spec.replicas', message: `Invalid value: ${JSON.stringify(replicas)}: must be greater than or equal to 0` }],
      });
    }
    if (scale.metadata?.resourceVersion && scale.metadata.resourceVersion !== obj.metadata.resourceVersion) throw conflict(info.resource, name, info.group);
    if (info.custom?.scale) setPath(obj, info.custom.scale.specReplicasPath, replicas);
    else (obj as ScalableWorkload).spec.replicas = replicas;
    return obj;
  });
  return toScale(info, updated);
}

// Custom resources name where their replica counts live (`.spec.replicas`, `.status.replicas`).
function getPath(obj: unknown, path: string | undefined): unknown {
  if (!path) return undefined;
  let at = obj;
  for (const part of path.split('.').filter(Boolean)) at = at !== null && typeof at === 'object' ? (at as Record<string, unknown>)[part] : undefined;
  return at;
}

function setPath(obj: Record<string, unknown>, path: string, value: unknown): void {
  const parts = path.split('.').filter(Boolean);
  let at = obj;
  for (const part of parts.slice(0, -1)) {
    if (at[part] === null || typeof at[part] !== 'object') at[part] = {};
    at = at[part] as Record<string, unknown>;
  }
  at[parts[parts.length - 1]!] = value;
}

function customScale(info: ResourceInfo, obj: KubeObject): KubeObject {
  const paths = info.custom!.scale!;
  const selector = getPath(obj, paths.labelSelectorPath);
  return {
    kind: 'Scale', apiVersion: 'autoscaling/v1',
    metadata: {
      name: obj.metadata.name, namespace: obj.metadata.namespace, uid: obj.metadata.uid,
      resourceVersion: obj.metadata.resourceVersion, creationTimestamp: obj.metadata.creationTimestamp,
    },
    spec: { replicas: Number(getPath(obj, paths.specReplicasPath) ?? 0) },
    status: { replicas: Number(getPath(obj, paths.statusReplicasPath) ?? 0), ...(typeof selector === 'string' ? { selector } : {}) },
  };
}
