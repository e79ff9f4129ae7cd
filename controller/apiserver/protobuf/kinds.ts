// Which top-level kinds a protobuf body may carry, and the message each one is: a
// served kind's message is declared in its module under kinds/; the table below holds
// the kinds no resource is stored as (subresource bodies, reviews, older versions).
import { kindOfApiVersion } from '../kinds/index.js';

const KINDS: Record<string, string> = {
  'v1/Binding': 'core/v1.Binding',
  'autoscaling/v1/Scale': 'autoscaling/v1.Scale',
  'authentication.k8s.io/v1/TokenRequest': 'authentication/v1.TokenRequest',
  'policy/v1/Eviction': 'policy/v1.Eviction',
  'autoscaling/v1/HorizontalPodAutoscaler': 'autoscaling/v1.HorizontalPodAutoscaler',
  'authentication.k8s.io/v1/SelfSubjectReview': 'authentication/v1.SelfSubjectReview',
  'authorization.k8s.io/v1/SelfSubjectAccessReview': 'authorization/v1.SelfSubjectAccessReview',
  'authorization.k8s.io/v1/SelfSubjectRulesReview': 'authorization/v1.SelfSubjectRulesReview',
  'authorization.k8s.io/v1/SubjectAccessReview': 'authorization/v1.SubjectAccessReview',
  'authorization.k8s.io/v1/LocalSubjectAccessReview': 'authorization/v1.SubjectAccessReview',
};

/** The message of `apiVersion`/`kind`, or undefined when pikube does not decode it. */
export function messageForKind(apiVersion: string, kind: string): string | undefined {
  // Option kinds are registered in every group version, so any apiVersion names them.
  if (kind === 'DeleteOptions') return 'meta/v1.DeleteOptions';
  return kindOfApiVersion(apiVersion, kind)?.protobuf?.message ?? KINDS[`${apiVersion}/${kind}`];
}
