// Per-kind rules applied on every write, whether it comes over HTTP or from an in-process
// controller: defaults (like upstream's SetDefaults_*) and what a create resets, as the
// kind modules under kinds/ declare them, plus what needs the store or the cluster's
// options (pod tolerations, Service IPs and node ports, default classes) and how
// deletion proceeds.
import type { KubeObject, Namespace, Pod } from '../../../protocol/kube/types.js';
import type { StoreBackend } from '../../store/backend.js';
import type { ResourceInfo } from '../resources.js';
import { kindNamed } from '../kinds/index.js';
import type { UserInfo } from '../http/server.js';
import { defaultPod } from './pod-defaults.js';
import { ServiceAllocator } from './service-allocator.js';
import { defaultIngressClass } from './default-ingress-class.js';
import { defaultClaim } from './storage-defaults.js';
import { addServiceAccountPullSecrets } from './service-account-pull-secrets.js';

export interface AdmissionOptions {
  /** tolerationSeconds for the not-ready/unreachable tolerations added to every pod. */
  defaultTolerationSeconds: number;
  serviceCIDR: string;
}

/** A check that needs more than the object, such as who is asking; added by other parts. */
export type WriteCheck = (info: ResourceInfo, obj: KubeObject, old: KubeObject | undefined, user: UserInfo | undefined) => void | Promise<void>;

export class Admission {
  private readonly services: ServiceAllocator;
  private readonly writeChecks: WriteCheck[] = [];

  constructor(private readonly store: StoreBackend, readonly opts: AdmissionOptions) {
    this.services = new ServiceAllocator(store, opts.serviceCIDR);
  }

  /** Fills defaults; `old` is the stored object on update. */
  defaults(info: ResourceInfo, obj: KubeObject, old: KubeObject | undefined): void {
    if (!info.custom) kindNamed(info.group, info.kind)?.defaults?.(obj, old);
    const key = `${info.group}/${info.resource}`;
    switch (key) {
      case '/pods':
        if (!old) defaultPod(obj, this.opts.defaultTolerationSeconds);
        break;
      case '/services':
        this.services.defaults(obj, old);
        break;
      case '/persistentvolumeclaims':
        defaultClaim(this.store, obj, old);
        break;
      case 'networking.k8s.io/ingresses':
        if (!old) defaultIngressClass(this.store, obj);
        break;
    }
  }

  /** What a create resets: the kind module's prepareForCreate (status belongs to controllers and agents). */
  prepareCreate(info: ResourceInfo, obj: KubeObject): void {
    if (!info.custom) kindNamed(info.group, info.kind)?.prepareForCreate?.(obj);
  }

  addWriteCheck(check: WriteCheck): void {
    this.writeChecks.push(check);
  }

  async admitCreate(info: ResourceInfo, obj: KubeObject, user?: UserInfo): Promise<void> {
    for (const check of this.writeChecks) await check(info, obj, undefined, user);
    if (!info.group && info.resource === 'services') this.services.allocate(obj, undefined);
    if (!info.group && info.resource === 'pods') addServiceAccountPullSecrets(this.store, obj);
  }

  async admitUpdate(info: ResourceInfo, obj: KubeObject, old: KubeObject, user?: UserInfo): Promise<void> {
    for (const check of this.writeChecks) await check(info, obj, old, user);
    if (!info.group && info.resource === 'services') this.services.allocate(obj, old);
  }

  /** Seconds a deletion waits before the object goes. */
  gracePeriod(info: ResourceInfo, obj: KubeObject, requested: number | undefined): number {
    if (info.group || info.resource !== 'pods') return 0;
    // Only a node can confirm that a pod's containers stopped; unbound or finished pods go at once.
    const pod = obj as Pod;
    if (!pod.spec?.nodeName) return 0;
    const phase = pod.status?.phase;
    if (phase === 'Succeeded' || phase === 'Failed') return 0;
    if (requested !== undefined && requested >= 0) return requested;
    return pod.spec?.terminationGracePeriodSeconds ?? 30;
  }

  /** True while something other than metadata.finalizers holds the object. */
  blocksRemoval(info: ResourceInfo, obj: KubeObject): boolean {
    if (!info.group && info.resource === 'namespaces') return ((obj as Namespace).spec?.finalizers?.length ?? 0) > 0;
    return false;
  }

  prepareDelete(info: ResourceInfo, obj: KubeObject): void {
    if (!info.group && info.resource === 'namespaces') obj.status = { ...(obj.status ?? {}), phase: 'Terminating' };
  }
}
