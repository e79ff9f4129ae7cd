// Per-kind rules applied on every write, whether it comes over HTTP or from an in-process
// controller: defaults (like upstream's SetDefaults_*), what a create resets, allocations
// (Service IPs and node ports), and how deletion proceeds.
import type { KubeObject } from '../../../protocol/kube/types.js';
import type { StoreBackend } from '../../store/backend.js';
import type { ResourceInfo } from '../resources.js';
import type { UserInfo } from '../http/server.js';
import { defaultPod, defaultPodTemplate, podQosClass } from './pod-defaults.js';
import { ServiceAllocator } from './service-allocator.js';
import { batchDefaults, prepareBatchCreate } from './batch-defaults.js';
import { defaultCrd } from '../crd/definition-rules.js';
import { defaultIngressClass } from './default-ingress-class.js';
import { defaultClaim, defaultStatefulSet, defaultStorageClassObject, defaultVolume } from './storage-defaults.js';
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
    const key = `${info.group}/${info.resource}`;
    switch (key) {
      case '/pods':
        if (!old) defaultPod(obj, this.opts.defaultTolerationSeconds);
        break;
      case 'apps/deployments': {
        const spec = (obj.spec ??= {});
        spec.replicas ??= 1;
        spec.strategy ??= { type: 'RollingUpdate' };
        if ((spec.strategy.type ?? 'RollingUpdate') === 'RollingUpdate') {
          spec.strategy.type = 'RollingUpdate';
          spec.strategy.rollingUpdate = { maxUnavailable: '25%', maxSurge: '25%', ...(spec.strategy.rollingUpdate ?? {}) };
        }
        spec.revisionHistoryLimit ??= 10;
        spec.progressDeadlineSeconds ??= 600;
        defaultPodTemplate(spec.template);
        break;
      }
      case 'apps/replicasets':
        (obj.spec ??= {}).replicas ??= 1;
        defaultPodTemplate(obj.spec.template);
        break;
      case 'apps/daemonsets': {
        const spec = (obj.spec ??= {});
        spec.updateStrategy ??= { type: 'RollingUpdate' };
        if (spec.updateStrategy.type === 'RollingUpdate') spec.updateStrategy.rollingUpdate = { maxUnavailable: 1, maxSurge: 0, ...(spec.updateStrategy.rollingUpdate ?? {}) };
        spec.revisionHistoryLimit ??= 10;
        defaultPodTemplate(spec.template);
        break;
      }
      case '/services':
        this.services.defaults(obj, old);
        break;
      case 'apps/statefulsets':
        defaultStatefulSet(obj);
        break;
      case '/persistentvolumeclaims':
        defaultClaim(this.store, obj, old);
        break;
      case '/persistentvolumes':
        defaultVolume(obj, old);
        break;
      case 'storage.k8s.io/storageclasses':
        defaultStorageClassObject(obj);
        break;
      case '/secrets': {
        obj.type ??= 'Opaque';
        const stringData = obj.stringData as Record<string, string> | undefined;
        if (stringData && typeof stringData === 'object') {
          const data = (obj.data ??= {}) as Record<string, string>;
          for (const [k, v] of Object.entries(stringData)) data[k] = Buffer.from(String(v), 'utf8').toString('base64');
          delete obj.stringData;
        }
        break;
      }
      case 'apiextensions.k8s.io/customresourcedefinitions':
        defaultCrd(obj, old);
        break;
      case 'networking.k8s.io/ingresses':
        if (!old) defaultIngressClass(this.store, obj);
        break;
      case '/namespaces':
        obj.spec ??= {};
        if (!old) obj.spec.finalizers ??= ['kubernetes'];
        break;
      default:
        batchDefaults(key, obj);
    }
  }

  /** What a create resets: status belongs to controllers and agents. */
  prepareCreate(info: ResourceInfo, obj: KubeObject): void {
    switch (`${info.group}/${info.resource}`) {
      case '/pods':
        obj.status = { phase: 'Pending', qosClass: podQosClass(obj) };
        if (obj.spec?.nodeName) {
          obj.status.conditions = [{ type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: obj.metadata.creationTimestamp }];
        }
        break;
      case '/namespaces':
        obj.status = { phase: 'Active' };
        break;
      case '/services':
        obj.status = { loadBalancer: {} };
        break;
      case 'apps/deployments':
      case 'apps/replicasets':
      case 'apps/daemonsets':
      case 'apps/statefulsets':
        obj.status = {};
        break;
      case '/persistentvolumeclaims':
      case '/persistentvolumes':
        obj.status = { phase: 'Pending' };
        break;
      default:
        prepareBatchCreate(`${info.group}/${info.resource}`, obj);
    }
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
    if (!obj.spec?.nodeName) return 0;
    const phase = obj.status?.phase;
    if (phase === 'Succeeded' || phase === 'Failed') return 0;
    if (requested !== undefined && requested >= 0) return requested;
    return obj.spec?.terminationGracePeriodSeconds ?? 30;
  }

  /** True while something other than metadata.finalizers holds the object. */
  blocksRemoval(info: ResourceInfo, obj: KubeObject): boolean {
    if (!info.group && info.resource === 'namespaces') return (obj.spec?.finalizers?.length ?? 0) > 0;
    return false;
  }

  prepareDelete(info: ResourceInfo, obj: KubeObject): void {
    if (!info.group && info.resource === 'namespaces') obj.status = { ...(obj.status ?? {}), phase: 'Terminating' };
  }
}
