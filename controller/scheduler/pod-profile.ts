// Everything the filters and scores need to know about one pod, worked out once per
// scheduling attempt instead of once per node.
import type { Pod, Toleration } from '../../protocol/kube/types.js';
import { preferredNodeMatchers, requiredNodeMatcher, type NodeMatcher, type PreferredMatcher } from './node-affinity.js';
import { controllerUid, podHostPorts, podRequests, type HostPort, type PodRequests } from './pod-requests.js';

export interface PodProfile {
  pod: Pod;
  key: string;
  requests: PodRequests;
  ports: HostPort[];
  owner: string | undefined;
  tolerations: readonly Toleration[];
  required: NodeMatcher | undefined;
  preferred: PreferredMatcher[];
}

export function podProfile(key: string, pod: Pod): PodProfile {
  return {
    pod,
    key,
    requests: podRequests(pod),
    ports: podHostPorts(pod),
    owner: controllerUid(pod),
    tolerations: pod.spec?.tolerations ?? [],
    required: requiredNodeMatcher(pod),
    preferred: preferredNodeMatchers(pod),
  };
}
