// Objects every cluster has from the start: the three namespaces, the `kubernetes`
// Service that lets pods find the API, and what kind modules declare under kinds/.
import type { KubeObject } from '../../protocol/kube/types.js';
import type { ApiCore } from './api-core.js';
import { KINDS } from './kinds/index.js';
import { findResource, resourceInfoOf } from './resources.js';
import { defaultIngressClassObject, INGRESS_CLASS_NAME } from '../ingress/pikube-ingress-class.js';
import { LOCAL_PATH_CLASS, localPathStorageClass } from '../storage/local-path-class.js';

const NAMESPACES = ['default', 'kube-system', 'kube-public', 'kube-node-lease'];

export async function bootstrapCluster(core: ApiCore, api?: { serviceIP: string; endpointIP: string; port: number }): Promise<void> {
  const ns = findResource('', 'namespaces')!;
  for (const name of NAMESPACES) {
    if (!core.tryGet(ns, undefined, name)) await core.create(ns, undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels: { 'kubernetes.io/metadata.name': name } } });
  }
  // The built-in ingress proxy's class, once: a user may edit or delete it afterwards.
  const ingressClasses = findResource('networking.k8s.io', 'ingressclasses')!;
  if (core.store.list(ingressClasses.gr).length === 0 && !core.tryGet(ingressClasses, undefined, INGRESS_CLASS_NAME)) {
    await core.create(ingressClasses, undefined, defaultIngressClassObject());
  }
  // What the kind modules declare every cluster has (the system priority classes...).
  for (const kind of KINDS) {
    const info = resourceInfoOf(kind);
    for (const obj of kind.bootstrap?.() ?? []) {
      const ns = info.namespaced ? obj.metadata.namespace : undefined;
      if (!core.tryGet(info, ns, obj.metadata.name!)) await core.create(info, ns, obj);
    }
  }
  const sc = findResource('storage.k8s.io', 'storageclasses')!;
  if (!core.tryGet(sc, undefined, LOCAL_PATH_CLASS)) await core.create(sc, undefined, localPathStorageClass());
  if (!api) return;
  const svc = findResource('', 'services')!;
  if (!core.tryGet(svc, 'default', 'kubernetes')) {
    await core.create(svc, 'default', {
      apiVersion: 'v1', kind: 'Service',
      metadata: { name: 'kubernetes', namespace: 'default', labels: { component: 'apiserver', provider: 'kubernetes' } },
      spec: { type: 'ClusterIP', clusterIP: api.serviceIP, ports: [{ name: 'https', port: 443, protocol: 'TCP', targetPort: api.port }] },
    });
  }
  const ep = findResource('', 'endpoints')!;
  const endpoints: KubeObject = {
    apiVersion: 'v1', kind: 'Endpoints',
    metadata: { name: 'kubernetes', namespace: 'default', labels: { 'endpointslice.kubernetes.io/skip-mirror': 'true' } },
    subsets: [{ addresses: [{ ip: api.endpointIP }], ports: [{ name: 'https', port: api.port, protocol: 'TCP' }] }],
  };
  const current = core.tryGet(ep, 'default', 'kubernetes');
  if (!current) await core.create(ep, 'default', endpoints);
  else if (JSON.stringify(current.subsets) !== JSON.stringify(endpoints.subsets)) {
    await core.mutate(ep, 'default', 'kubernetes', (d) => { d.subsets = endpoints.subsets; return d; });
  }
}
