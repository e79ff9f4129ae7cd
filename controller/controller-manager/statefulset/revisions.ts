// StatefulSet history in ControllerRevisions (upstream's history package): one revision per
// distinct template, named NAME-HASH, numbered in order of use. `kubectl rollout history`
// lists them and `rollout undo` applies a revision's data as a patch.
import { R, type ClusterClient } from '../../apiserver/client.js';
import { ignoreNotFound, isAlreadyExists } from '../../client/api-errors.js';
import { controllerRefOf, newControllerRef } from '../controller-ref.js';
import type { Informer } from '../../client/informer.js';
import { canonicalJson, computeTemplateHash } from '../template-hash.js';
import { REVISION_LABEL } from './identity.js';
import type { ControllerRevision, PodTemplate, StatefulSet } from './statefulset-types.js';

export interface Revisions {
  current: ControllerRevision;
  update: ControllerRevision;
  history: ControllerRevision[];
}

const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';

export function templateOf(cr: ControllerRevision): PodTemplate | undefined {
  const t = cr.data?.spec?.template;
  if (!t) return undefined;
  const copy = structuredClone(t) as PodTemplate & { $patch?: string };
  delete copy.$patch;
  return copy;
}

export class StatefulSetHistory {
  constructor(private readonly client: ClusterClient, private readonly revisions: Informer<ControllerRevision>) {}

  owned(set: StatefulSet): ControllerRevision[] {
    return this.revisions.list((cr) => cr.metadata.namespace === set.metadata.namespace && controllerRefOf(cr)?.uid === set.metadata.uid)
      .sort((a, b) => (a.revision ?? 0) - (b.revision ?? 0));
  }

  /** Records the set's template as the update revision and finds the current one. */
  async sync(set: StatefulSet): Promise<Revisions> {
    const ns = set.metadata.namespace!;
    const history = this.owned(set);
    const hash = computeTemplateHash(set.spec.template, set.status?.collisionCount);
    const name = `${set.metadata.name}-${hash}`;
    const data = { spec: { template: { ...structuredClone(set.spec.template), $patch: 'replace' } } };
    const maxRevision = Math.max(0, ...history.map((cr) => cr.revision ?? 0));
    let update = history.find((cr) => cr.metadata.name === name);
    if (!update) {
      const annotations = { ...(set.metadata.annotations ?? {}) };
      delete annotations[LAST_APPLIED];
      const cr: ControllerRevision = {
        apiVersion: 'apps/v1', kind: 'ControllerRevision',
        metadata: {
          name, namespace: ns,
          labels: { ...(set.spec.template.metadata?.labels ?? {}), [REVISION_LABEL]: hash },
          ...(Object.keys(annotations).length ? { annotations } : {}),
          ownerReferences: [newControllerRef(set, 'apps/v1', 'StatefulSet')],
        },
        data, revision: maxRevision + 1,
      };
      try {
        update = await this.client.create<ControllerRevision>(R.controllerrevisions, cr);
      } catch (err) {
        if (!isAlreadyExists(err)) throw err;
        const other = this.client.get<ControllerRevision>(R.controllerrevisions, ns, name);
        if (!other || controllerRefOf(other)?.uid !== set.metadata.uid || canonicalJson(other.data) !== canonicalJson(data)) {
          const copy = structuredClone(set);
          copy.status = { ...(copy.status ?? {}), collisionCount: (set.status?.collisionCount ?? 0) + 1 };
          await this.client.update(R.statefulsets, copy, 'status');
        }
        throw err;
      }
    } else if ((update.revision ?? 0) < maxRevision) {
      // Back to an older template (rollout undo): it becomes the newest revision again.
      const copy = structuredClone(update);
      copy.revision = maxRevision + 1;
      update = await this.client.update<ControllerRevision>(R.controllerrevisions, copy);
    }
    const current = history.find((cr) => cr.metadata.name === set.status?.currentRevision) ?? update;
    return { current, update, history: [...history.filter((cr) => cr.metadata.name !== update.metadata.name), update] };
  }

  /** Keeps revisionHistoryLimit revisions besides those in use. */
  async truncate(set: StatefulSet, revs: Revisions, inUse: Set<string>): Promise<void> {
    const limit = set.spec.revisionHistoryLimit ?? 10;
    const live = new Set([...inUse, revs.current.metadata.name!, revs.update.metadata.name!]);
    const removable = revs.history.filter((cr) => !live.has(cr.metadata.name!)).sort((a, b) => (a.revision ?? 0) - (b.revision ?? 0));
    for (const cr of removable.slice(0, Math.max(0, removable.length - limit))) {
      await ignoreNotFound(this.client.delete(R.controllerrevisions, cr.metadata.namespace, cr.metadata.name!));
    }
  }
}
