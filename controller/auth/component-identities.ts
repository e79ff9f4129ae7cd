// The control plane's own loops under their own users, as upstream's kube-scheduler and
// kube-controller-manager run with their own credentials: each gets an in-process client
// that asks RBAC before every call, with the user's bootstrap role (bootstrap-policy.ts),
// and passes the user along with writes so that checks on the requester (RBAC escalation)
// apply to them as to anyone. A denial is a 403 like over HTTP, and is logged.
import type { KubeObject } from '../../protocol/kube/types.js';
import type { ClusterClient, DeleteOptions, ListOptions, ResourceRef, WatchEvent, WatchHandle, WatchOptions } from '../apiserver/client.js';
import type { UserInfo } from '../apiserver/http/server.js';
import { resourceOf } from '../apiserver/resources.js';
import type { RequestAttributes } from './attributes.js';
import { forbiddenError } from './forbidden.js';

export const SCHEDULER_USER: UserInfo = { username: 'system:kube-scheduler', groups: ['system:authenticated'] };
export const CONTROLLER_MANAGER_USER: UserInfo = { username: 'system:kube-controller-manager', groups: ['system:authenticated'] };
/**
 * The MQTT bridge (controller/bridge/): it reads what the nodes' desired state, Service
 * routing and ingress routes are made of, and writes Node and Pod status and events on
 * the nodes' behalf, as upstream's kubelets do under system:node:<name>. Which node may
 * touch which objects is the bridge's own check (node-restriction.ts, pod-status-sync.ts),
 * made before its writes; this identity bounds what the bridge can do at all.
 */
export const MQTT_BRIDGE_USER: UserInfo = { username: 'system:pikube-bridge', groups: ['system:authenticated'] };
/**
 * The TopicBinding loop (controller/topicbindings/): it reads its bindings and the nodes,
 * and writes the nodes' taints and labels, the bindings' finalizer and status, and events.
 */
export const TOPIC_BINDING_CONTROLLER_USER: UserInfo = { username: 'system:pikube-topicbinding-controller', groups: ['system:authenticated'] };

export interface ComponentClientOptions {
  /** The in-process client for this user (its writes carry the user). */
  client: ClusterClient;
  user: UserInfo;
  authorize: (a: RequestAttributes) => boolean;
  log: { warn: (o: object, m: string) => void };
}

export class AuthorizedClient implements ClusterClient {
  constructor(private readonly o: ComponentClientOptions) {}

  private check(verb: string, ref: ResourceRef, namespace: string | undefined, name = '', subresource = ''): void {
    const info = resourceOf(ref);
    const a: RequestAttributes = {
      user: this.o.user, verb, resourceRequest: true, path: '', apiGroup: info.group, apiVersion: info.version,
      resource: info.resource, subresource, namespace: info.namespaced ? namespace ?? '' : '', name,
    };
    if (this.o.authorize(a)) return;
    this.o.log.warn({ user: this.o.user.username, verb, resource: subresource ? `${info.resource}/${subresource}` : info.resource, namespace: a.namespace || undefined, name: name || undefined }, 'control-plane request forbidden');
    throw forbiddenError(a);
  }

  get<T extends KubeObject = KubeObject>(ref: ResourceRef, namespace: string | undefined, name: string): T | undefined {
    this.check('get', ref, namespace, name);
    return this.o.client.get<T>(ref, namespace, name);
  }

  list<T extends KubeObject = KubeObject>(ref: ResourceRef, opts: ListOptions = {}): { items: T[]; resourceVersion: string } {
    this.check('list', ref, opts.namespace);
    return this.o.client.list<T>(ref, opts);
  }

  watch<T extends KubeObject = KubeObject>(ref: ResourceRef, opts: WatchOptions, onEvent: (e: WatchEvent<T>) => void): WatchHandle {
    this.check('watch', ref, opts.namespace);
    return this.o.client.watch<T>(ref, opts, onEvent);
  }

  async create<T extends KubeObject = KubeObject>(ref: ResourceRef, obj: T): Promise<T> {
    this.check('create', ref, obj.metadata?.namespace);
    return this.o.client.create<T>(ref, obj);
  }

  async update<T extends KubeObject = KubeObject>(ref: ResourceRef, obj: T, subresource?: 'status'): Promise<T> {
    this.check('update', ref, obj.metadata.namespace, obj.metadata.name, subresource);
    return this.o.client.update<T>(ref, obj, subresource);
  }

  async patch<T extends KubeObject = KubeObject>(ref: ResourceRef, namespace: string | undefined, name: string, mergePatch: unknown, subresource?: 'status'): Promise<T> {
    this.check('patch', ref, namespace, name, subresource);
    return this.o.client.patch<T>(ref, namespace, name, mergePatch, subresource);
  }

  async bind(namespace: string, podName: string, nodeName: string): Promise<void> {
    this.check('create', { group: '', resource: 'pods' }, namespace, podName, 'binding');
    return this.o.client.bind(namespace, podName, nodeName);
  }

  async delete(ref: ResourceRef, namespace: string | undefined, name: string, opts?: DeleteOptions): Promise<KubeObject | undefined> {
    this.check('delete', ref, namespace, name);
    return this.o.client.delete(ref, namespace, name, opts);
  }
}
