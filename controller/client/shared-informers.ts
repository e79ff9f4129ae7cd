// One informer per resource, shared by every controller in the manager, so a Pi holds
// one cache of pods rather than one per controller. The client it is built on is the
// component's own (upstream's informer factory takes the component's clientset), so what
// the caches may hold is what that component's role lets it list and watch.
import type { KubeObject } from '../../protocol/kube/types.js';
import type { ClusterClient, ResourceRef } from '../apiserver/client.js';
import { Informer } from './informer.js';

/** Reading a single object, as from the API or from a cache (a lister's Get). */
export type ObjectReader = Pick<ClusterClient, 'get'>;

export class SharedInformers {
  private readonly informers = new Map<string, Informer>();
  /** Reads from the caches; the informers read must have been started. */
  readonly reader: ObjectReader = {
    get: <T extends KubeObject = KubeObject>(ref: ResourceRef, namespace: string | undefined, name: string) => this.get<T>(ref).get(namespace, name),
  };

  constructor(private readonly client: ClusterClient) {}

  /** The shared informer for a resource; call start() on it once handlers are attached. */
  get<T extends KubeObject = KubeObject>(ref: ResourceRef): Informer<T> {
    const key = `${ref.group}/${ref.resource}`;
    let informer = this.informers.get(key);
    if (!informer) {
      informer = new Informer(this.client, ref);
      this.informers.set(key, informer);
    }
    return informer as unknown as Informer<T>;
  }

  stop(): void {
    for (const i of this.informers.values()) i.stop();
    this.informers.clear();
  }
}
