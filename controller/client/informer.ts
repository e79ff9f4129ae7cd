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

  /**
   * Lists, then watches from the list's resourceVersion, as client-go's reflector does
   * (tools/cache/reflector.go ListAndWatch): the cache is filled synchronously (ADDED for
   * each object listed), then follows live changes. Both calls run in one tick, so no
   * change falls between them; they are the two rights a reader's role needs.
   */
  start(): void {
    if (this.handle) return;
    const listed = this.client.list<T>(this.ref, this.opts);
    for (const obj of listed.items) this.apply('ADDED', obj);
    this.handle = this.client.watch<T>(this.ref, { ...this.opts, resourceVersion: listed.resourceVersion }, (e) => this.apply(e.type, e.object));
  }

  private apply(type: 'ADDED' | 'MODIFIED' | 'DELETED', obj: T): void {
    const key = objectKey(obj);
    const old = this.cache.get(key);
    if (type === 'DELETED') this.cache.delete(key);
    else this.cache.set(key, obj);
    for (const h of this.handlers) h(type, obj, old);
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
