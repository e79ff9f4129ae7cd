// List + watch + local cache over the in-process client, like client-go's informer.
// Handlers get every change; a controller enqueues keys and reconciles from the cache,
// so a missed event is healed on the next pass.
import type { KubeObject } from '../../protocol/kube/types.js';
import type { ClusterClient, ResourceRef, WatchHandle, ListOptions } from '../apiserver/client.js';

export type InformerHandler<T> = (type: 'ADDED' | 'MODIFIED' | 'DELETED', obj: T, old?: T) => void;

export function objectKey(obj: KubeObject): string {
  return obj.metadata.namespace ? `${obj.metadata.namespace}/${obj.metadata.name}` : `${obj.metadata.name}`;
}

export class Informer<T extends KubeObject = KubeObject> {
  private readonly cache = new Map<string, T>();
  private readonly handlers: InformerHandler<T>[] = [];
  private handle?: WatchHandle;

  constructor(private readonly client: ClusterClient, readonly ref: ResourceRef, private readonly opts: ListOptions = {}) {}

  on(handler: InformerHandler<T>): this {
    this.handlers.push(handler);
    return this;
  }

  /**
   * A handler that joins at any time, as client-go's AddEventHandler: on an informer
   * already running it first gets every cached object as ADDED, so a late consumer sees
   * the same world as an early one. Returns the call that detaches it.
   */
  addEventHandler(handler: InformerHandler<T>): () => void {
    this.handlers.push(handler);
    if (this.handle) for (const obj of [...this.cache.values()]) handler('ADDED', obj);
    return () => {
      const i = this.handlers.indexOf(handler);
      if (i >= 0) this.handlers.splice(i, 1);
    };
  }

  get started(): boolean {
    return this.handle !== undefined;
  }

  /** Fills the cache synchronously (synthetic ADDED events), then follows live changes. */
  start(): void {
    if (this.handle) return;
    this.handle = this.client.watch<T>(this.ref, { ...this.opts, resourceVersion: '0' }, (e) => {
      const key = objectKey(e.object);
      const old = this.cache.get(key);
      if (e.type === 'DELETED') this.cache.delete(key);
      else this.cache.set(key, e.object);
      for (const h of this.handlers) h(e.type, e.object, old);
    });
  }

  stop(): void {
    this.handle?.stop();
    this.handle = undefined;
  }

  get(namespace: string | undefined, name: string): T | undefined {
    return this.cache.get(namespace ? `${namespace}/${name}` : name);
  }

  getByKey(key: string): T | undefined {
    return this.cache.get(key);
  }

  list(filter?: (obj: T) => boolean): T[] {
    const all = [...this.cache.values()];
    return filter ? all.filter(filter) : all;
  }
}
