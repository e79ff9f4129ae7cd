// Every built-in kind the API server serves, one module each, in discovery order. To add
// a kind: write its module under kinds/<group>/ and list it here.
import { kindApiVersion, type KindDefinition } from './kind-definition.js';
import type { MessageTable } from '../protobuf/message-table.js';
import { customResourceDefinition } from './apiextensions/custom-resource-definition.js';
import { controllerRevision } from './apps/controller-revision.js';
import { daemonSet } from './apps/daemon-set.js';
import { deployment } from './apps/deployment.js';
import { replicaSet } from './apps/replica-set.js';
import { statefulSet } from './apps/stateful-set.js';
import { horizontalPodAutoscaler } from './autoscaling/horizontal-pod-autoscaler.js';
import { cronJob } from './batch/cron-job.js';
import { job } from './batch/job.js';
import { lease } from './coordination/lease.js';
import { configMap } from './core/config-map.js';
import { endpoints } from './core/endpoints.js';
import { event } from './core/event.js';
import { namespace } from './core/namespace.js';
import { node } from './core/node.js';
import { persistentVolumeClaim } from './core/persistent-volume-claim.js';
import { persistentVolume } from './core/persistent-volume.js';
import { pod } from './core/pod.js';
import { secret } from './core/secret.js';
import { serviceAccount } from './core/service-account.js';
import { service } from './core/service.js';
import { endpointSlice } from './discovery/endpoint-slice.js';
import { ingressClass } from './networking/ingress-class.js';
import { ingress } from './networking/ingress.js';
import { podDisruptionBudget } from './policy/pod-disruption-budget.js';
import { clusterRoleBinding } from './rbac/cluster-role-binding.js';
import { clusterRole } from './rbac/cluster-role.js';
import { roleBinding } from './rbac/role-binding.js';
import { role } from './rbac/role.js';
import { priorityClass } from './scheduling/priority-class.js';
import { storageClass } from './storage/storage-class.js';

export type { KindDefinition, KindStrategy } from './kind-definition.js';

export const KINDS: readonly KindDefinition[] = [
  namespace, pod, node, service, endpoints, configMap, secret, serviceAccount, event,
  deployment, replicaSet, daemonSet, controllerRevision, statefulSet,
  persistentVolume, persistentVolumeClaim, storageClass,
  lease,
  endpointSlice,
  job, cronJob,
  podDisruptionBudget,
  horizontalPodAutoscaler,
  customResourceDefinition,
  role, roleBinding, clusterRole, clusterRoleBinding,
  ingress, ingressClass,
  priorityClass,
];

const core = (group: string) => (group === 'core' ? '' : group);
const byKind = new Map(KINDS.map((k) => [`${k.group}/${k.kind}`, k]));
const byResource = new Map(KINDS.map((k) => [`${k.group}/${k.resource}`, k]));
const byApiVersion = new Map(KINDS.map((k) => [`${kindApiVersion(k)}/${k.kind}`, k]));

/** The kind of a group ('' or 'core' for the core group) by its kind name. */
export function kindNamed(group: string, kind: string): KindDefinition | undefined {
  return byKind.get(`${core(group)}/${kind}`);
}

/** The kind served as this resource of a group. */
export function kindOfResource(group: string, resource: string): KindDefinition | undefined {
  return byResource.get(`${core(group)}/${resource}`);
}

/** The kind a body's apiVersion and kind name (`batch/v1`, `Job`) stand for. */
export function kindOfApiVersion(apiVersion: string, kind: string): KindDefinition | undefined {
  return byApiVersion.get(`${apiVersion}/${kind}`);
}

/** The protobuf field tables the kinds bring with them. */
export function kindMessages(): Record<string, MessageTable> {
  const all: Record<string, MessageTable> = {};
  for (const k of KINDS) Object.assign(all, k.protobuf?.messages);
  return all;
}
