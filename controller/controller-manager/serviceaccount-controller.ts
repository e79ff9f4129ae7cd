// ServiceAccount controller: every active namespace has a `default` ServiceAccount,
// recreated if someone deletes it.
import { R } from '../apiserver/client.js';
import { isAlreadyExists, isNotFound } from '../client/api-errors.js';
import { QueueController, type ControllerDeps } from './queue-controller.js';

export const DEFAULT_SERVICE_ACCOUNT = 'default';

export class ServiceAccountController extends QueueController {
  readonly name = 'serviceaccount';

  constructor(deps: ControllerDeps) {
    super(deps, 'serviceaccount-controller');
  }

  protected register(): void {
    const namespaces = this.informers.get(R.namespaces);
    const accounts = this.informers.get(R.serviceaccounts);
    namespaces.on((type, ns) => { if (type !== 'DELETED') this.queue.add(ns.metadata.name!); });
    accounts.on((type, sa) => { if (type === 'DELETED' && sa.metadata.name === DEFAULT_SERVICE_ACCOUNT) this.queue.add(sa.metadata.namespace!); });
    namespaces.start();
    accounts.start();
    for (const ns of namespaces.list()) this.queue.add(ns.metadata.name!);
  }

  protected async reconcile(namespace: string): Promise<void> {
    const ns = this.client.get(R.namespaces, undefined, namespace);
    if (!ns || ns.metadata.deletionTimestamp) return;
    if (this.client.get(R.serviceaccounts, namespace, DEFAULT_SERVICE_ACCOUNT)) return;
    try {
      await this.client.create(R.serviceaccounts, { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: DEFAULT_SERVICE_ACCOUNT, namespace } });
    } catch (err) {
      // Raced with someone else, or the namespace went away meanwhile.
      if (isAlreadyExists(err) || isNotFound(err)) return;
      if (this.client.get(R.namespaces, undefined, namespace)?.metadata.deletionTimestamp) return;
      throw err;
    }
  }
}
