// Puts the TopicBinding definition in place at start, and brings an older one up to the
// definition this build serves (k3s keeps its own definitions current the same way).
import type { KubeObject } from '../../protocol/kube/types.js';
import type { ClusterClient } from '../apiserver/client.js';
import { isAlreadyExists } from '../client/api-errors.js';
import { TOPIC_BINDING_CRD } from './crd.js';

const CRDS = { group: 'apiextensions.k8s.io', resource: 'customresourcedefinitions' } as const;

export async function ensureTopicBindingCrd(client: ClusterClient): Promise<void> {
  const existing = client.get<KubeObject & { spec?: unknown }>(CRDS, undefined, TOPIC_BINDING_CRD.metadata.name);
  if (!existing) {
    try {
      await client.create(CRDS, structuredClone(TOPIC_BINDING_CRD) as unknown as KubeObject);
    } catch (err) {
      if (!isAlreadyExists(err)) throw err;
    }
    return;
  }
  if (JSON.stringify(existing.spec) === JSON.stringify(TOPIC_BINDING_CRD.spec)) return;
  await client.update(CRDS, { ...structuredClone(existing), spec: structuredClone(TOPIC_BINDING_CRD.spec) } as KubeObject);
}
