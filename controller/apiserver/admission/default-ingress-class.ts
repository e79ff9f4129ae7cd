// Upstream's DefaultIngressClass admission plugin: a new Ingress that names no class (no
// spec.ingressClassName, no legacy kubernetes.io/ingress.class annotation) gets the
// class marked default; with several defaults the newest wins, as upstream.
import type { Ingress, KubeObject } from '../../../protocol/kube/types.js';
import type { StoreBackend } from '../../store/backend.js';

export const DEFAULT_CLASS_ANNOTATION = 'ingressclass.kubernetes.io/is-default-class';
export const LEGACY_CLASS_ANNOTATION = 'kubernetes.io/ingress.class';

export function defaultIngressClass(store: StoreBackend, ingress: KubeObject): void {
  const spec = ((ingress as Ingress).spec ??= {});
  if (spec.ingressClassName || ingress.metadata?.annotations?.[LEGACY_CLASS_ANNOTATION] !== undefined) return;
  const defaults = store.list('ingressclasses.networking.k8s.io')
    .filter((c) => c.metadata.annotations?.[DEFAULT_CLASS_ANNOTATION] === 'true')
    .sort((a, b) => String(b.metadata.creationTimestamp ?? '').localeCompare(String(a.metadata.creationTimestamp ?? '')) || String(a.metadata.name).localeCompare(String(b.metadata.name)));
  if (defaults[0]) spec.ingressClassName = defaults[0].metadata.name;
}
