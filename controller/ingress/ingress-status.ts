// Ingress status: the ingress-controller's job of publishing where an Ingress answers.
// Every Ingress pikube serves lists the InternalIPs of the Ready nodes that serve
// ingress in status.loadBalancer.ingress (an Ingress of another class is left alone).
import type { Ingress, KubeObject, Node } from '../../protocol/kube/types.js';
import { R } from '../apiserver/client.js';
import { ignoreNotFound } from '../client/api-errors.js';
import { objectKey } from '../client/informer.js';
import { QueueController, type ControllerDeps } from '../controller-manager/queue-controller.js';
import { ourClasses, servesIngress } from './pikube-ingress-class.js';
import { ingressAddresses, nodeSignature } from './ingress-nodes.js';

export class IngressStatusController extends QueueController {
  readonly name = 'ingress-status';

  constructor(deps: ControllerDeps) {
    super(deps, 'ingress-status-controller');
  }

  private get ingresses() { return this.informers.get<Ingress>(R.ingresses); }
  private get classes() { return this.informers.get<KubeObject>(R.ingressclasses); }
  private get nodes() { return this.informers.get<Node>(R.nodes); }

  private enqueueAll(): void {
    for (const ing of this.ingresses.list()) this.queue.add(objectKey(ing));
  }

  protected register(): void {
    this.ingresses.on((_type, ing) => this.queue.add(objectKey(ing)));
    this.classes.on(() => this.enqueueAll());
    this.nodes.on((type, node, old) => {
      if (type === 'MODIFIED' && old && nodeSignature(old) === nodeSignature(node)) return;
      this.enqueueAll();
    });
    this.ingresses.start();
    this.classes.start();
    this.nodes.start();
    this.enqueueAll();
  }

  protected async reconcile(key: string): Promise<void> {
    const ing = this.ingresses.getByKey(key);
    if (!ing || ing.metadata.deletionTimestamp) return;
    if (!servesIngress(ing, ourClasses(this.classes.list()))) return;
    const ingress = ingressAddresses(this.nodes.list()).map((ip) => ({ ip }));
    const current = ing.status?.loadBalancer?.ingress ?? [];
    if (JSON.stringify(current) === JSON.stringify(ingress)) return;
    const copy = structuredClone(ing);
    copy.status = { ...(copy.status ?? {}), loadBalancer: ingress.length > 0 ? { ingress } : {} };
    await ignoreNotFound(this.client.update(R.ingresses, copy, 'status'));
  }
}
