// One informer per resource, shared by every controller in the manager, so a Pi holds
// one cache of pods rather than one per controller.
import type { KubeObject } from '../../protocol/kube/types.js';
import type { ClusterClient, ResourceRef } from '../apiserver/client.js';
import { Informer } from './informer.js';

export class SharedInformers {
  private readonly informers = new Map<string, Informer>();

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
