// The PersistentVolume controller (upstream's pkg/controller/volume/persistentvolume):
// binds claims to volumes, provisions `local-path` volumes once the scheduler has picked
// a node, keeps both phases true, and reclaims volumes whose claim is gone.
import type { Node } from '../../protocol/kube/types.js';
import { R } from '../apiserver/client.js';
import { ignoreNotFound, isAlreadyExists, isNotFound } from '../client/api-errors.js';
import { objectKey } from '../client/informer.js';
import { QueueController, type ControllerDeps } from '../controller-manager/queue-controller.js';
import { LOCAL_PATH_PROVISIONER } from './local-path-class.js';
import { isLocalPathVolume, localPathVolume, ProvisioningError, volumeNode, type VolumeHost } from './local-path-provisioner.js';
import {
  ANN_BIND_COMPLETED, ANN_BOUND_BY_CONTROLLER, ANN_SELECTED_NODE, classOfClaim,
  type PersistentVolume, type PersistentVolumeClaim, type StorageClass,
} from './storage-types.js';
import { findMatchingVolume } from './volume-matching.js';
import { rfc3339Seconds } from '../../protocol/kube/time.js';

const CLAIM = 'claim:';
const VOLUME = 'volume:';

export interface PersistentVolumeControllerDeps extends ControllerDeps {
  volumeHost?: VolumeHost;
}

export class PersistentVolumeController extends QueueController {
  readonly name = 'persistentvolume-binder';
  private readonly host?: VolumeHost;
  /** Last event per object, so a claim waiting for minutes records its reason once. */
  private readonly lastEvent = new Map<string, string>();
  private readonly reclaiming = new Set<string>();

  constructor(deps: PersistentVolumeControllerDeps) {
    super(deps, 'persistentvolume-controller');
    this.host = deps.volumeHost;
  }

  private get claims() { return this.informers.get<PersistentVolumeClaim>(R.persistentvolumeclaims); }
  private get volumes() { return this.informers.get<PersistentVolume>(R.persistentvolumes); }
  private get classes() { return this.informers.get<StorageClass>(R.storageclasses); }
  private get nodes() { return this.informers.get<Node>(R.nodes); }

  protected register(): void {
    this.claims.on((type, c) => {
      this.queue.add(CLAIM + objectKey(c));
      if (type === 'DELETED') this.lastEvent.delete(c.metadata.uid ?? '');
      if (c.spec.volumeName) this.queue.add(VOLUME + c.spec.volumeName);
    });
    this.volumes.on((_t, v) => {
      this.queue.add(VOLUME + v.metadata.name);
      const ref = v.spec.claimRef;
      if (ref?.name) this.queue.add(`${CLAIM}${ref.namespace}/${ref.name}`);
      // A new volume may fit any pending claim.
      if (_t !== 'DELETED' && !ref) for (const c of this.claims.list((x) => !x.spec.volumeName)) this.queue.add(CLAIM + objectKey(c));
    });
    this.classes.on(() => { for (const c of this.claims.list((x) => !x.spec.volumeName)) this.queue.add(CLAIM + objectKey(c)); });
    for (const i of [this.claims, this.volumes, this.classes, this.nodes]) i.start();
    for (const c of this.claims.list()) this.queue.add(CLAIM + objectKey(c));
    for (const v of this.volumes.list()) this.queue.add(VOLUME + v.metadata.name);
  }

  protected async reconcile(key: string): Promise<void> {
    if (key.startsWith(CLAIM)) return this.syncClaim(key.slice(CLAIM.length));
    if (key.startsWith(VOLUME)) return this.syncVolume(key.slice(VOLUME.length));
  }

  private once(obj: PersistentVolumeClaim | PersistentVolume, type: 'Normal' | 'Warning', reason: string, message: string): void {
    const id = obj.metadata.uid ?? '';
    const text = `${reason}/${message}`;
    if (this.lastEvent.get(id) === text) return;
    this.lastEvent.set(id, text);
    if (this.lastEvent.size > 10_000) this.lastEvent.delete(this.lastEvent.keys().next().value as string);
    this.recorder.event(obj, type, reason, message);
  }

  // ---- claims ----

  private async syncClaim(key: string): Promise<void> {
    const claim = this.claims.getByKey(key);
    if (!claim) return;
    if (claim.spec.volumeName) return this.syncBoundClaim(claim);
    if (claim.metadata.deletionTimestamp) return;
    const className = classOfClaim(claim);
    const sc = className ? this.classes.get(undefined, className) : undefined;
    const selectedNode = claim.metadata.annotations?.[ANN_SELECTED_NODE];
    const delayed = sc?.volumeBindingMode === 'WaitForFirstConsumer';
    const node = selectedNode ? this.nodes.get(undefined, selectedNode) : undefined;
    // A volume the scheduler (or an admin) already reserved for this claim is bound at once.
    const reserved = this.volumes.list((v) => v.spec.claimRef?.uid === claim.metadata.uid && !v.metadata.deletionTimestamp)[0];
    if (reserved) return this.bind(reserved, claim);
    if (delayed && !selectedNode) {
      this.once(claim, 'Normal', 'WaitForFirstConsumer', 'waiting for first consumer to be created before binding');
      return this.setClaimPhase(claim, 'Pending');
    }
    const match = findMatchingVolume(claim, this.volumes.list(), node ? { name: node.metadata.name!, labels: node.metadata.labels ?? {} } : undefined);
    if (match) return this.bind(match, claim);
    if (sc?.provisioner === LOCAL_PATH_PROVISIONER) return this.provision(claim, sc, selectedNode, node);
    if (sc) {
      this.once(claim, 'Normal', 'ExternalProvisioning', `Waiting for a volume to be created either by the external provisioner '${sc.provisioner}' or manually by the system administrator. If volume creation is delayed, please verify that the provisioner is running and correctly registered.`);
    } else if (!className) {
      this.once(claim, 'Normal', 'FailedBinding', 'no persistent volumes available for this claim and no storage class is set');
    } else {
      this.once(claim, 'Warning', 'ProvisioningFailed', `storageclass.storage.k8s.io "${className}" not found`);
    }
    return this.setClaimPhase(claim, 'Pending');
  }

  private async provision(claim: PersistentVolumeClaim, sc: StorageClass, selectedNode: string | undefined, node: Node | undefined): Promise<void> {
    const ref = `${claim.metadata.namespace}/${claim.metadata.name}`;
    try {
      if (!selectedNode) throw new ProvisioningError('configuration error, no node was specified');
      if (!node) throw new ProvisioningError(`node "${selectedNode}" not found`);
      const pv = localPathVolume(claim, sc, node);
      this.once(claim, 'Normal', 'Provisioning', `External provisioner is provisioning volume for claim "${ref}"`);
      try {
        await this.client.create(R.persistentvolumes, pv);
      } catch (err) {
        if (!isAlreadyExists(err)) throw err;
      }
      this.once(claim, 'Normal', 'ProvisioningSucceeded', `Successfully provisioned volume ${pv.metadata.name}`);
    } catch (err) {
      if (!(err instanceof ProvisioningError)) throw err;
      this.once(claim, 'Warning', 'ProvisioningFailed', `failed to provision volume with StorageClass "${sc.metadata.name}": ${err.message}`);
      this.queue.addAfter(CLAIM + objectKey(claim), 2000);
    }
  }

  /** Binds in upstream's order: the volume first, then the claim, then the claim's status. */
  private async bind(pv: PersistentVolume, claim: PersistentVolumeClaim): Promise<void> {
    const ref = pv.spec.claimRef;
    if (!ref || ref.uid !== claim.metadata.uid) {
      const copy = structuredClone(pv) as PersistentVolume;
      copy.spec.claimRef = {
        kind: 'PersistentVolumeClaim', apiVersion: 'v1', namespace: claim.metadata.namespace, name: claim.metadata.name,
        uid: claim.metadata.uid, resourceVersion: claim.metadata.resourceVersion,
      };
      copy.metadata.annotations = { ...(copy.metadata.annotations ?? {}), [ANN_BOUND_BY_CONTROLLER]: 'yes' };
      await this.client.update(R.persistentvolumes, copy);
    }
    const copy = structuredClone(claim) as PersistentVolumeClaim;
    copy.spec.volumeName = pv.metadata.name;
    copy.metadata.annotations = { ...(copy.metadata.annotations ?? {}), [ANN_BIND_COMPLETED]: 'yes', [ANN_BOUND_BY_CONTROLLER]: 'yes' };
    await this.client.update(R.persistentvolumeclaims, copy);
    // The informer's next event for the claim finishes the binding (status).
  }

  private async syncBoundClaim(claim: PersistentVolumeClaim): Promise<void> {
    const pv = this.volumes.get(undefined, claim.spec.volumeName!);
    if (!pv) {
      if (claim.status?.phase === 'Bound') {
        this.once(claim, 'Warning', 'ClaimLost', 'Bound claim has lost its PersistentVolume. Data on the volume is lost!');
        return this.setClaimPhase(claim, 'Lost');
      }
      return this.setClaimPhase(claim, 'Pending');
    }
    const ref = pv.spec.claimRef;
    if (!ref || (!ref.uid && ref.name === claim.metadata.name && ref.namespace === claim.metadata.namespace)) {
      if (claim.metadata.deletionTimestamp) return;
      return this.bind(pv, claim); // a claim that names its volume
    }
    if (ref.uid !== claim.metadata.uid) {
      this.once(claim, 'Warning', 'FailedBinding', `volume "${pv.metadata.name}" already bound to a different claim.`);
      return this.setClaimPhase(claim, 'Pending');
    }
    if (!claim.metadata.annotations?.[ANN_BIND_COMPLETED] && !claim.metadata.deletionTimestamp) {
      const copy = structuredClone(claim) as PersistentVolumeClaim;
      copy.metadata.annotations = { ...(copy.metadata.annotations ?? {}), [ANN_BIND_COMPLETED]: 'yes' };
      await this.client.update(R.persistentvolumeclaims, copy);
      return;
    }
    await this.setClaimPhase(claim, 'Bound', pv);
  }

  private async setClaimPhase(claim: PersistentVolumeClaim, phase: string, pv?: PersistentVolume): Promise<void> {
    const status = pv
      ? { ...(claim.status ?? {}), phase, accessModes: pv.spec.accessModes ?? [], capacity: { ...(pv.spec.capacity ?? {}) } }
      : { ...(claim.status ?? {}), phase };
    if (JSON.stringify(status) === JSON.stringify(claim.status ?? {})) return;
    const copy = structuredClone(claim) as PersistentVolumeClaim;
    copy.status = status;
    await ignoreNotFound(this.client.update(R.persistentvolumeclaims, copy, 'status'));
  }

  // ---- volumes ----

  private async syncVolume(name: string): Promise<void> {
    const pv = this.volumes.get(undefined, name);
    if (!pv) return;
    const ref = pv.spec.claimRef;
    if (!ref) return this.setVolumePhase(pv, 'Available');
    const claim = ref.name ? this.claims.get(ref.namespace, ref.name) : undefined;
    if (!ref.uid) return this.setVolumePhase(pv, 'Available'); // reserved for a claim yet to come
    if (claim && claim.metadata.uid === ref.uid) {
      if (claim.spec.volumeName === pv.metadata.name) return this.setVolumePhase(pv, 'Bound');
      if (!claim.spec.volumeName) return this.setVolumePhase(pv, 'Bound'); // the claim side follows
      // The claim went to another volume: give this one back if we bound it.
      if (pv.metadata.annotations?.[ANN_BOUND_BY_CONTROLLER]) return this.unbind(pv);
      return this.setVolumePhase(pv, 'Released');
    }
    // The claim is gone: the volume is released and reclaimed by its policy.
    if (pv.status?.phase !== 'Released' && pv.status?.phase !== 'Failed') {
      await this.setVolumePhase(pv, 'Released');
      return;
    }
    if (pv.status?.phase === 'Failed') return;
    await this.reclaim(pv);
  }

  private async unbind(pv: PersistentVolume): Promise<void> {
    const copy = structuredClone(pv) as PersistentVolume;
    delete copy.spec.claimRef;
    delete copy.metadata.annotations?.[ANN_BOUND_BY_CONTROLLER];
    await this.client.update(R.persistentvolumes, copy);
  }

  private async reclaim(pv: PersistentVolume): Promise<void> {
    const policy = pv.spec.persistentVolumeReclaimPolicy ?? 'Retain';
    if (policy === 'Retain') {
      this.once(pv, 'Normal', 'VolumeRetained', 'Volume is retained: its claim was deleted and its reclaim policy is Retain');
      return;
    }
    if (policy === 'Recycle') return this.setVolumePhase(pv, 'Failed', 'VolumeFailedRecycle', 'recycling is not supported; use Retain or Delete');
    if (!isLocalPathVolume(pv)) {
      return this.setVolumePhase(pv, 'Failed', 'VolumeFailedDelete', `error getting deleter volume plugin for volume "${pv.metadata.name}": no deletable volume plugin matched`);
    }
    if (pv.metadata.deletionTimestamp || this.reclaiming.has(pv.metadata.name!)) return;
    const node = volumeNode(pv);
    const path = pv.spec.hostPath?.path ?? pv.spec.local?.path;
    if (!node || !path || !this.host) return this.setVolumePhase(pv, 'Failed', 'VolumeFailedDelete', 'cannot tell the node or path of the volume');
    this.reclaiming.add(pv.metadata.name!);
    try {
      await this.host.removeDirectory(node, path);
    } catch (err) {
      this.once(pv, 'Warning', 'VolumeFailedDelete', `removing ${path} on node ${node}: ${err instanceof Error ? err.message : String(err)}`);
      this.queue.addAfter(VOLUME + pv.metadata.name, 5000);
      return;
    } finally {
      this.reclaiming.delete(pv.metadata.name!);
    }
    try {
      await this.client.delete(R.persistentvolumes, undefined, pv.metadata.name!);
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }

  private async setVolumePhase(pv: PersistentVolume, phase: string, reason?: string, message?: string): Promise<void> {
    if (pv.status?.phase === phase && pv.status?.message === message) return;
    if (reason && message) this.once(pv, 'Warning', reason, message);
    const copy = structuredClone(pv) as PersistentVolume;
    copy.status = { phase, ...(message ? { message } : {}), lastPhaseTransitionTime: rfc3339Seconds() };
    await ignoreNotFound(this.client.update(R.persistentvolumes, copy, 'status'));
  }
}
