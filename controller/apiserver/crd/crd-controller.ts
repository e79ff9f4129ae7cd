// Keeps CustomResourceDefinitions' status (NamesAccepted, Established, Terminating,
// acceptedNames, storedVersions) and, when one is deleted, deletes its objects before
// releasing the CRD (upstream's naming and finalizer controllers in apiextensions-apiserver).
import type { CustomResourceDefinition, CustomResourceDefinitionCondition } from '../../../protocol/kube/types.js';
import type { StoreEvent } from '../../store/backend.js';
import type { ApiCore } from '../api-core.js';
import { ApiError } from '../errors.js';
import { findResource, servedResources } from '../resources.js';
import { CLEANUP_FINALIZER } from './definition-rules.js';
import { acceptedCrds, CRD_GR } from './registry.js';
import { rfc3339Seconds } from '../../../protocol/kube/time.js';

interface Log { warn: (o: object, m: string) => void; info: (o: object, m: string) => void }
interface Condition { type: string; status: string; reason: string; message: string; lastTransitionTime?: string }

const RETRY_MS = 500;

export class CrdController {
  private readonly pending = new Set<string>();
  private running = false;
  private stopWatch?: () => void;
  private stopped = false;
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(private readonly core: ApiCore, private readonly log: Log) {}

  start(): void {
    const store = this.core.store;
    this.stopWatch = store.watch(CRD_GR, store.revision, (e: StoreEvent) => {
      if (e.type !== 'DELETED') this.enqueue(e.name);
      // A freed name may let another CRD's names be accepted.
      else for (const crd of store.list(CRD_GR)) this.enqueue(crd.metadata.name!);
    });
    for (const crd of store.list(CRD_GR)) this.enqueue(crd.metadata.name!);
  }

  stop(): void {
    this.stopped = true;
    this.stopWatch?.();
    for (const t of this.timers) clearTimeout(t);
  }

  private enqueue(name: string): void {
    this.pending.add(name);
    if (!this.running) void this.drain();
  }

  private later(name: string): void {
    const t = setTimeout(() => { this.timers.delete(t); if (!this.stopped) this.enqueue(name); }, RETRY_MS);
    this.timers.add(t);
  }

  private async drain(): Promise<void> {
    this.running = true;
    try {
      while (this.pending.size && !this.stopped) {
        const name = this.pending.values().next().value as string;
        this.pending.delete(name);
        try {
          await this.sync(name);
        } catch (err) {
          if (!(err instanceof ApiError && (err.code === 404 || err.code === 409))) this.log.warn({ crd: name, err: (err as Error).message }, 'custom resource definition sync failed');
          this.later(name);
        }
      }
    } finally {
      this.running = false;
    }
  }

  private crdInfo() {
    return findResource('apiextensions.k8s.io', 'customresourcedefinitions')!;
  }

  private async sync(name: string): Promise<void> {
    const crd = this.core.tryGet(this.crdInfo(), undefined, name) as CustomResourceDefinition | undefined;
    if (!crd) return;
    if (crd.metadata.deletionTimestamp) return this.cleanUp(crd);
    const accepted = acceptedCrds(this.core.store.list(CRD_GR)).has(name);
    await this.writeStatus(crd, accepted);
  }

  private async writeStatus(crd: CustomResourceDefinition, accepted: boolean, terminating = false): Promise<void> {
    const now = rfc3339Seconds();
    const old: CustomResourceDefinitionCondition[] = crd.status?.conditions ?? [];
    const want: Condition[] = accepted
      ? [
        { type: 'NamesAccepted', status: 'True', reason: 'NoConflicts', message: 'no conflicts found' },
        { type: 'Established', status: 'True', reason: 'InitialNamesAccepted', message: 'the initial names have been accepted' },
      ]
      : [
        { type: 'NamesAccepted', status: 'False', reason: 'ResourceConflict', message: `"${crd.spec?.names?.plural}" or kind "${crd.spec?.names?.kind}" is already in use` },
        { type: 'Established', status: 'False', reason: 'NotAccepted', message: 'not all names are accepted' },
      ];
    if (terminating) want.push({ type: 'Terminating', status: 'True', reason: 'InstanceDeletionInProgress', message: 'CustomResource deletion is in progress' });
    const conditions = want.map((c) => {
      const prev = old.find((o) => o.type === c.type);
      return { ...c, lastTransitionTime: prev && prev.status === c.status ? prev.lastTransitionTime ?? now : now };
    });
    const storage = (crd.spec?.versions ?? []).find((v) => v.storage)?.name;
    const stored: string[] = [...(crd.status?.storedVersions ?? [])];
    if (storage && !stored.includes(storage)) stored.push(storage);
    const status = {
      conditions,
      acceptedNames: accepted ? { ...crd.spec.names } : (crd.status?.acceptedNames ?? { plural: '', kind: '' }),
      storedVersions: stored,
    };
    if (JSON.stringify(status) === JSON.stringify({ conditions: crd.status?.conditions, acceptedNames: crd.status?.acceptedNames, storedVersions: crd.status?.storedVersions })) return;
    await this.core.mutate(this.crdInfo(), undefined, crd.metadata.name!, (draft) => { draft.status = status; return draft; }, 'status');
  }

  /** Deletes every object of the CRD's resource, then drops the cleanup finalizer. */
  private async cleanUp(crd: CustomResourceDefinition): Promise<void> {
    const name = crd.metadata.name!;
    if (!(crd.metadata.finalizers ?? []).includes(CLEANUP_FINALIZER)) return;
    if (!(crd.status?.conditions ?? []).some((c) => c.type === 'Terminating')) {
      const accepted = acceptedCrds(this.core.store.list(CRD_GR)).has(name);
      await this.writeStatus(crd, accepted, true);
    }
    const gr = `${crd.spec?.names?.plural}.${crd.spec?.group}`;
    const info = servedResources().find((r) => r.custom?.crdName === name && r.custom.storage) ?? servedResources().find((r) => r.custom?.crdName === name);
    const remaining = this.core.store.list(gr);
    for (const obj of remaining) {
      try {
        if (info) await this.core.delete(info, obj.metadata.namespace, obj.metadata.name!, { propagationPolicy: 'Background' });
        else await this.core.store.delete(gr, obj.metadata.namespace ?? '', obj.metadata.name!);
      } catch (err) {
        if (!(err instanceof ApiError && err.code === 404)) throw err;
      }
    }
    if (this.core.store.list(gr).length) {
      this.later(name); // objects with finalizers of their own go when those are done
      return;
    }
    await this.core.mutate(this.crdInfo(), undefined, name, (draft) => {
      draft.metadata.finalizers = (draft.metadata.finalizers ?? []).filter((f: string) => f !== CLEANUP_FINALIZER);
      return draft;
    });
    this.log.info({ crd: name, deleted: remaining.length }, 'custom resource definition removed with its objects');
  }
}
