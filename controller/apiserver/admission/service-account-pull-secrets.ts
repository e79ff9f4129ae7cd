// Part of upstream's ServiceAccount admission plugin
// (plugin/pkg/admission/serviceaccount): a new pod that names no imagePullSecrets gets
// those of its ServiceAccount, so the node pulls with the account's registry credentials.
import type { KubeObject, PodSpec } from '../../../protocol/kube/types.js';
import type { StoreBackend } from '../../store/backend.js';

export function addServiceAccountPullSecrets(store: StoreBackend, pod: KubeObject): void {
  const spec = pod.spec as Partial<PodSpec> | undefined;
  if (!spec || typeof spec !== 'object') return;
  if (Array.isArray(spec.imagePullSecrets) && spec.imagePullSecrets.length > 0) return;
  const ns = pod.metadata.namespace ?? 'default';
  const sa = store.get('serviceaccounts', ns, spec.serviceAccountName ?? 'default');
  const secrets = (sa as { imagePullSecrets?: unknown } | undefined)?.imagePullSecrets;
  if (!Array.isArray(secrets)) return;
  const names = secrets.map((s) => (s && typeof s === 'object' ? (s as { name?: unknown }).name : undefined)).filter((n): n is string => typeof n === 'string' && n !== '');
  if (names.length) spec.imagePullSecrets = names.map((name) => ({ name }));
}
