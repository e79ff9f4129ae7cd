// Namespace controller: a namespace marked for deletion (phase Terminating, the
// `kubernetes` finalizer in spec.finalizers) is emptied of every namespaced resource,
// then released by removing that finalizer, which lets the API layer remove it.
import type { Namespace } from '../../protocol/kube/types.js';
import { R } from '../apiserver/client.js';
import { ignoreNotFound } from '../client/api-errors.js';
import { objectKey } from '../client/informer.js';
import { QueueController, type ControllerDeps } from './queue-controller.js';
import { namespacedResources } from './resource-kinds.js';

export const NAMESPACE_FINALIZER = 'kubernetes';

export class NamespaceController extends QueueController {
  readonly name = 'namespace';
  /** How long to wait before looking again at content that is still going away. */
  private readonly recheckMs: number;
  /** Rechecks so far per namespace: content stuck on an offline node is polled ever more slowly. */
  private readonly rechecks = new Map<string, number>();

  constructor(deps: ControllerDeps & { recheckMs?: number }) {
    super(deps, 'namespace-controller');
    this.recheckMs = deps.recheckMs ?? 1000;
  }

  private get namespaces() { return this.informers.get<Namespace>(R.namespaces); }

  protected register(): void {
    this.namespaces.on((type, ns) => { if (type !== 'DELETED' && ns.metadata.deletionTimestamp) this.queue.add(objectKey(ns)); });
    this.namespaces.start();
    for (const ns of this.namespaces.list((n) => !!n.metadata.deletionTimestamp)) this.queue.add(objectKey(ns));
  }

  protected async reconcile(name: string): Promise<void> {
    const ns = this.client.get<Namespace>(R.namespaces, undefined, name);
    if (!ns || !ns.metadata.deletionTimestamp) { this.rechecks.delete(name); return; }
    if (ns.status?.phase !== 'Terminating') {
      await ignoreNotFound(this.client.patch(R.namespaces, undefined, name, { status: { phase: 'Terminating' } }, 'status'));
    }
    const remaining = await this.deleteContent(name);
    if (remaining > 0) {
      // Graceful pods and finalizers take time: look again shortly.
      const n = this.rechecks.get(name) ?? 0;
      this.rechecks.set(name, n + 1);
      this.queue.addAfter(name, Math.min(30_000, this.recheckMs * 2 ** Math.min(n, 5)));
      return;
    }
    this.rechecks.delete(name);
    const fresh = this.client.get<Namespace>(R.namespaces, undefined, name);
    if (!fresh) return;
    const finalizers: string[] = fresh.spec?.finalizers ?? [];
    if (!finalizers.includes(NAMESPACE_FINALIZER)) return;
    const copy: Namespace = structuredClone(fresh);
    copy.spec = { ...(copy.spec ?? {}), finalizers: finalizers.filter((f) => f !== NAMESPACE_FINALIZER) };
    await ignoreNotFound(this.client.update(R.namespaces, copy));
    this.log.info({ namespace: name }, 'namespace emptied and finalized');
  }

  /** Deletes everything in the namespace; returns how many objects are still there. */
  private async deleteContent(namespace: string): Promise<number> {
    let remaining = 0;
    for (const ref of namespacedResources()) {
      const { items } = this.client.list(ref, { namespace });
      remaining += items.length;
      for (const obj of items) {
        if (obj.metadata.deletionTimestamp) continue;
        await ignoreNotFound(this.client.delete(ref, namespace, obj.metadata.name!, { propagationPolicy: 'Background' }));
      }
    }
    if (remaining === 0) return 0;
    // Count again: most deletions are immediate.
    return namespacedResources().reduce((n, ref) => n + this.client.list(ref, { namespace }).items.length, 0);
  }
}
