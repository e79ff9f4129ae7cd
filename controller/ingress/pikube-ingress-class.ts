// pikube's own IngressClass: created with the cluster, marked default, so an Ingress
// from any chart works out of the box (k3s does the same with its bundled controller).
// Which Ingresses pikube serves follows upstream's rules for a controller: those naming
// its class, and those naming none while its class is the default.
import type { Ingress, IngressClass, KubeObject } from '../../protocol/kube/types.js';
import { DEFAULT_CLASS_ANNOTATION, LEGACY_CLASS_ANNOTATION } from '../apiserver/admission/default-ingress-class.js';

export const INGRESS_CLASS_NAME = 'pikube';
export const INGRESS_CONTROLLER_NAME = 'pikube.io/ingress';

export function defaultIngressClassObject(): KubeObject {
  return {
    apiVersion: 'networking.k8s.io/v1', kind: 'IngressClass',
    metadata: { name: INGRESS_CLASS_NAME, annotations: { [DEFAULT_CLASS_ANNOTATION]: 'true' }, labels: { 'app.kubernetes.io/managed-by': 'pikube' } },
    spec: { controller: INGRESS_CONTROLLER_NAME },
  };
}

/** Names of the classes this controller implements, and whether one of them is the default. */
export function ourClasses(classes: Iterable<KubeObject>): { names: Set<string>; isDefault: boolean } {
  const names = new Set<string>();
  let isDefault = false;
  for (const c of classes) {
    if ((c as IngressClass).spec?.controller !== INGRESS_CONTROLLER_NAME) continue;
    names.add(c.metadata.name!);
    if (c.metadata.annotations?.[DEFAULT_CLASS_ANNOTATION] === 'true') isDefault = true;
  }
  return { names, isDefault };
}

export function servesIngress(ingress: KubeObject, ours: { names: Set<string>; isDefault: boolean }): boolean {
  const named = (ingress as Ingress).spec?.ingressClassName ?? ingress.metadata.annotations?.[LEGACY_CLASS_ANNOTATION];
  if (typeof named === 'string' && named !== '') return ours.names.has(named);
  return ours.isDefault;
}
