// Which top-level kinds a protobuf body may carry, and the message each one is: a
// served kind's message is declared in its module under kinds/; the table below holds
// the kinds no resource is stored as (subresource bodies, reviews, older versions).
import { kindOfApiVersion } from '../kinds/index.js';

const KINDS: Record<string, string> = {
  'v1/Namespace': 'core/v1.Namespace',
  'v1/ConfigMap': 'core/v1.ConfigMap',
  'v1/Secret': 'core/v1.Secret',
  'v1/Service': 'core/v1.Service',
  'v1/ServiceAccount': 'core/v1.ServiceAccount',
  'v1/Pod': 'core/v1.Pod',
  'v1/Node': 'core/v1.Node',
  'v1/Endpoints': 'core/v1.Endpoints',
  'v1/Event': 'core/v1.Event',
  'v1/Binding': 'core/v1.Binding',
  'autoscaling/v1/Scale': 'autoscaling/v1.Scale',
  'authentication.k8s.io/v1/TokenRequest': 'authentication/v1.TokenRequest',
  'policy/v1/Eviction': 'policy/v1.Eviction',
  'autoscaling/v1/HorizontalPodAutoscaler': 'autoscaling/v1.HorizontalPodAutoscaler',
  'rbac.authorization.k8s.io/v1/Role': 'rbac/v1.Role',
  'rbac.authorization.k8s.io/v1/RoleBinding': 'rbac/v1.RoleBinding',
  'rbac.authorization.k8s.io/v1/ClusterRole': 'rbac/v1.ClusterRole',
  'rbac.authorization.k8s.io/v1/ClusterRoleBinding': 'rbac/v1.ClusterRoleBinding',
  'authentication.k8s.io/v1/SelfSubjectReview': 'authentication/v1.SelfSubjectReview',
  'authorization.k8s.io/v1/SelfSubjectAccessReview': 'authorization/v1.SelfSubjectAccessReview',
  'authorization.k8s.io/v1/SelfSubjectRulesReview': 'authorization/v1.SelfSubjectRulesReview',
  'authorization.k8s.io/v1/SubjectAccessReview': 'authorization/v1.SubjectAccessReview',
  'authorization.k8s.io/v1/LocalSubjectAccessReview': 'authorization/v1.SubjectAccessReview',
  'networking.k8s.io/v1/Ingress': 'networking/v1.Ingress',
  'networking.k8s.io/v1/IngressClass': 'networking/v1.IngressClass',
};

/** The message of `apiVersion`/`kind`, or undefined when pikube does not decode it. */
export function messageForKind(apiVersion: string, kind: string): string | undefined {
  // Option kinds are registered in every group version, so any apiVersion names them.
  if (kind === 'DeleteOptions') return 'meta/v1.DeleteOptions';
  return kindOfApiVersion(apiVersion, kind)?.protobuf?.message ?? KINDS[`${apiVersion}/${kind}`];
}
