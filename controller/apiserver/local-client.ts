// ClusterClient for code running inside the controller process: the same ApiCore as
// the HTTP API, without serialisation or TLS.
import type { KubeObject } from '../../protocol/kube/types.js';
import type { ApiCore } from './api-core.js';
import type { ClusterClient, DeleteOptions, ListOptions, ResourceRef, WatchEvent, WatchHandle, WatchOptions } from './client.js';
import { resourceOf } from './resources.js';
import { applyMergePatch } from './patch/json-merge.js';
import { bindPod } from './subresources.js';
import type { UserInfo } from './http/server.js';

export class LocalClient implements ClusterClient {
  /** `user`: whose writes these are, for admission checks on the requester (none: the cluster's own). */
  constructor(private readonly core: ApiCore, private readonly user?: UserInfo) {}

  get<T extends KubeObject = KubeObject>(ref: ResourceRef, namespace: string | undefined, name: string): T | undefined {
    return this.core.tryGet(resourceOf(ref), namespace, name) as T | undefined;
  }

  list<T extends KubeObject = KubeObject>(ref: ResourceRef, opts: ListOptions = {}): { items: T[]; resourceVersion: string } {
    const r = this.core.list(resourceOf(ref), opts.namespace, opts);
    return { items: r.items as T[], resourceVersion: r.resourceVersion };
  }

  watch<T extends KubeObject = KubeObject>(ref: ResourceRef, opts: WatchOptions, onEvent: (e: WatchEvent<T>) => void): WatchHandle {
    const stop = this.core.watch(resourceOf(ref), opts.namespace, opts, onEvent as (e: WatchEvent) => void);
    return { stop };
  }

  create<T extends KubeObject = KubeObject>(ref: ResourceRef, obj: T): Promise<T> {
    return this.core.create(resourceOf(ref), obj.metadata?.namespace, obj, { user: this.user }) as Promise<T>;
  }

  update<T extends KubeObject = KubeObject>(ref: ResourceRef, obj: T, subresource?: 'status'): Promise<T> {
    return this.core.update(resourceOf(ref), obj.metadata.namespace, obj.metadata.name!, obj, subresource, { user: this.user }) as Promise<T>;
  }

  patch<T extends KubeObject = KubeObject>(ref: ResourceRef, namespace: string | undefined, name: string, mergePatch: unknown, subresource?: 'status'): Promise<T> {
    return this.core.mutate(resourceOf(ref), namespace, name, (draft) => applyMergePatch(draft, mergePatch) as KubeObject, subresource, { user: this.user }) as Promise<T>;
  }

  async bind(namespace: string, podName: string, nodeName: string): Promise<void> {
    await bindPod(this.core, namespace, podName, nodeName);
  }

  async delete(ref: ResourceRef, namespace: string | undefined, name: string, opts: DeleteOptions = {}): Promise<KubeObject | undefined> {
    const { object, gone } = await this.core.delete(resourceOf(ref), namespace, name, opts);
    return gone ? undefined : object;
  }
}
