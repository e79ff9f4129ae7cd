// The in-process client that the scheduler, the controllers and the MQTT bridge use.
// It runs the same admission, validation, defaulting and deletion rules as the HTTP API
// (it is the same code path, minus HTTP), and reads straight from the store's memory.
import type { KubeObject } from '../../protocol/kube/types.js';

/** Identifies a served resource: group '' is core/v1. */
export interface ResourceRef { group: string; resource: string }

export const R = {
  pods: { group: '', resource: 'pods' },
  nodes: { group: '', resource: 'nodes' },
  namespaces: { group: '', resource: 'namespaces' },
  services: { group: '', resource: 'services' },
  endpoints: { group: '', resource: 'endpoints' },
  configmaps: { group: '', resource: 'configmaps' },
  secrets: { group: '', resource: 'secrets' },
  serviceaccounts: { group: '', resource: 'serviceaccounts' },
  events: { group: '', resource: 'events' },
  deployments: { group: 'apps', resource: 'deployments' },
  replicasets: { group: 'apps', resource: 'replicasets' },
  daemonsets: { group: 'apps', resource: 'daemonsets' },
  controllerrevisions: { group: 'apps', resource: 'controllerrevisions' },
  statefulsets: { group: 'apps', resource: 'statefulsets' },
  persistentvolumes: { group: '', resource: 'persistentvolumes' },
  persistentvolumeclaims: { group: '', resource: 'persistentvolumeclaims' },
  storageclasses: { group: 'storage.k8s.io', resource: 'storageclasses' },
  leases: { group: 'coordination.k8s.io', resource: 'leases' },
  endpointslices: { group: 'discovery.k8s.io', resource: 'endpointslices' },
  jobs: { group: 'batch', resource: 'jobs' },
  cronjobs: { group: 'batch', resource: 'cronjobs' },
  poddisruptionbudgets: { group: 'policy', resource: 'poddisruptionbudgets' },
  horizontalpodautoscalers: { group: 'autoscaling', resource: 'horizontalpodautoscalers' },
  roles: { group: 'rbac.authorization.k8s.io', resource: 'roles' },
  rolebindings: { group: 'rbac.authorization.k8s.io', resource: 'rolebindings' },
  clusterroles: { group: 'rbac.authorization.k8s.io', resource: 'clusterroles' },
  clusterrolebindings: { group: 'rbac.authorization.k8s.io', resource: 'clusterrolebindings' },
  ingresses: { group: 'networking.k8s.io', resource: 'ingresses' },
  ingressclasses: { group: 'networking.k8s.io', resource: 'ingressclasses' },
} as const satisfies Record<string, ResourceRef>;

export interface ListOptions {
  /** Omit for all namespaces (or cluster-scoped resources). */
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
}

export interface WatchEvent<T extends KubeObject = KubeObject> {
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  object: T;
}

export interface WatchOptions extends ListOptions {
  /** Absent or '0': synthetic ADDED for every current object, then live events. */
  resourceVersion?: string;
}

export interface WatchHandle { stop(): void }

export interface DeleteOptions {
  propagationPolicy?: 'Background' | 'Foreground' | 'Orphan';
  gracePeriodSeconds?: number;
  preconditions?: { uid?: string; resourceVersion?: string };
}

export type Subresource = 'status' | 'scale' | 'binding';

/** Errors are thrown as ApiError (see errors.ts) carrying a Kubernetes Status. */
export interface ClusterClient {
  /** Objects returned are shared and frozen: clone before changing (structuredClone). */
  get<T extends KubeObject = KubeObject>(ref: ResourceRef, namespace: string | undefined, name: string): T | undefined;
  list<T extends KubeObject = KubeObject>(ref: ResourceRef, opts?: ListOptions): { items: T[]; resourceVersion: string };
  watch<T extends KubeObject = KubeObject>(ref: ResourceRef, opts: WatchOptions, onEvent: (e: WatchEvent<T>) => void): WatchHandle;
  create<T extends KubeObject = KubeObject>(ref: ResourceRef, obj: T): Promise<T>;
  /** Optimistic concurrency: a set metadata.resourceVersion must match (409 otherwise). */
  update<T extends KubeObject = KubeObject>(ref: ResourceRef, obj: T, subresource?: 'status'): Promise<T>;
  /** JSON merge patch (RFC 7386). */
  patch<T extends KubeObject = KubeObject>(ref: ResourceRef, namespace: string | undefined, name: string, mergePatch: unknown, subresource?: 'status'): Promise<T>;
  /** Binds a pod to a node (pods/binding). */
  bind(namespace: string, podName: string, nodeName: string): Promise<void>;
  delete(ref: ResourceRef, namespace: string | undefined, name: string, opts?: DeleteOptions): Promise<KubeObject | undefined>;
}
