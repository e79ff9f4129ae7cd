// Labels the agent puts on every container and sandbox it creates. The runtime is the
// source of truth: after a restart the agent finds its pods again by these labels alone.
import type { Pod } from '../../protocol/kube/types.js';

export const LABEL = {
  podUid: 'pikube.io/pod-uid',
  podName: 'pikube.io/pod-name',
  podNamespace: 'pikube.io/pod-namespace',
  container: 'pikube.io/container',
  node: 'pikube.io/node',
  /** Hash of the container spec: a running container whose hash differs is replaced. */
  specHash: 'pikube.io/spec-hash',
  /** Attempt number of this container (0 for the first run): restartCount survives agent restarts. */
  restartCount: 'pikube.io/restart-count',
  /** 'init' | 'app' | 'sandbox' */
  kind: 'pikube.io/kind',
  /** Generation of the desired set that created it: decides orphan removal while offline. */
  desiredGeneration: 'pikube.io/desired-generation',
  /** Grace period to use when the pod is gone from the desired set and its spec is unknown. */
  terminationGrace: 'pikube.io/termination-grace',
} as const;

export interface PodIdentity { uid: string; name: string; namespace: string }

export function podIdentity(pod: Pod): PodIdentity {
  return {
    uid: pod.metadata.uid ?? '',
    name: pod.metadata.name ?? '',
    namespace: pod.metadata.namespace ?? 'default',
  };
}

export function podLabels(id: PodIdentity, nodeName: string): Record<string, string> {
  return { [LABEL.podUid]: id.uid, [LABEL.podName]: id.name, [LABEL.podNamespace]: id.namespace, [LABEL.node]: nodeName };
}

/** Runtime names must match [a-zA-Z0-9][a-zA-Z0-9_.-]+ and be unique on the node. */
function safe(part: string): string {
  return part.replace(/[^a-zA-Z0-9_.-]/g, '-');
}

export function sandboxName(id: PodIdentity): string {
  return `k8s_POD_${safe(id.name)}_${safe(id.namespace)}_${safe(id.uid).slice(0, 8)}`;
}

export function containerName(id: PodIdentity, container: string, attempt: number): string {
  return `k8s_${safe(container)}_${safe(id.name)}_${safe(id.namespace)}_${safe(id.uid).slice(0, 8)}_${attempt}`;
}

/** `<name>_<namespace>(<uid>)`, the way the kubelet names a pod in messages. */
export function podDescription(id: PodIdentity): string {
  return `${id.name}_${id.namespace}(${id.uid})`;
}
