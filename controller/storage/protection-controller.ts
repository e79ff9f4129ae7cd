// Storage object in-use protection (upstream's pvcprotection and pvprotection
// controllers): a claim keeps its finalizer while any pod that is not finished still
// mounts it, a volume while it is bound. The admission side adds the finalizers.
import type { Pod } from '../../protocol/kube/types.js';
import { R } from '../apiserver/client.js';
import { ignoreNotFound } from '../client/api-errors.js';
import { objectKey } from '../client/informer.js';
import { QueueController, type ControllerDeps } from '../controller-manager/queue-controller.js';
import { PV_PROTECTION_FINALIZER, PVC_PROTECTION_FINALIZER, type PersistentVolume, type PersistentVolumeClaim } from './storage-types.js';
import { podClaimNames } from './volume-matching.js';

const CLAIM = 'claim:';
const VOLUME = 'volume:';

export class StorageProtectionController extends QueueController {
  readonly name = 'storage-protection';

  constructor(deps: ControllerDeps) {
    super(deps, 'pvc-protection-controller');
  }

  private get claims() { return this.informers.get<PersistentVolumeClaim>(R.persistentvolumeclaims); }
  private get volumes() { return this.informers.get<PersistentVolume>(R.persistentvolumes); }
  private get pods() { return this.informers.get<Pod>(R.pods); }

  protected register(): void {
    this.claims.on((_t, c) => { if (c.metadata.deletionTimestamp) this.queue.add(CLAIM + objectKey(c)); });
    this.volumes.on((_t, v) => { if (v.metadata.deletionTimestamp) this.queue.add(VOLUME + v.metadata.name); });
    this.pods.on((type, pod, old) => {
      const finished = type === 'DELETED' || pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed';
      const wasFinished = old?.status?.phase === 'Succeeded' || old?.status?.phase === 'Failed';
      if (finished && !wasFinished) for (const name of podClaimNames(pod.spec)) this.queue.add(`${CLAIM}${pod.metadata.namespace}/${name}`);
    });
    for (const i of [this.claims, this.volumes, this.pods]) i.start();
    for (const c of this.claims.list((x) => !!x.metadata.deletionTimestamp)) this.queue.add(CLAIM + objectKey(c));
    for (const v of this.volumes.list((x) => !!x.metadata.deletionTimestamp)) this.queue.add(VOLUME + v.metadata.name);
  }

  protected async reconcile(key: string): Promise<void> {
    if (key.startsWith(CLAIM)) {
      const claim = this.claims.getByKey(key.slice(CLAIM.length));
      if (!claim?.metadata.deletionTimestamp || !claim.metadata.finalizers?.includes(PVC_PROTECTION_FINALIZER)) return;
      if (this.claimInUse(claim)) return;
      await this.dropFinalizer(R.persistentvolumeclaims, claim, PVC_PROTECTION_FINALIZER);
    } else if (key.startsWith(VOLUME)) {
      const pv = this.volumes.get(undefined, key.slice(VOLUME.length));
      if (!pv?.metadata.deletionTimestamp || !pv.metadata.finalizers?.includes(PV_PROTECTION_FINALIZER)) return;
      if (pv.status?.phase === 'Bound') return;
      await this.dropFinalizer(R.persistentvolumes, pv, PV_PROTECTION_FINALIZER);
    }
  }

  private claimInUse(claim: PersistentVolumeClaim): boolean {
    const ns = claim.metadata.namespace;
    const name = claim.metadata.name!;
    return this.pods.list((p) => p.metadata.namespace === ns && p.status?.phase !== 'Succeeded' && p.status?.phase !== 'Failed'
      && podClaimNames(p.spec).includes(name)).length > 0;
  }

  private async dropFinalizer(ref: typeof R.persistentvolumes | typeof R.persistentvolumeclaims, obj: PersistentVolume | PersistentVolumeClaim, finalizer: string): Promise<void> {
    const copy = structuredClone(obj);
    copy.metadata.finalizers = (copy.metadata.finalizers ?? []).filter((f) => f !== finalizer);
    await ignoreNotFound(this.client.update(ref, copy));
  }
}
