// Shared test helpers: waiting on the store, and playing the kubelet.
import { waitFor as waitForValue } from '../helpers/wait.js';
import type { KubeObject, Pod } from '../../protocol/kube/types.js';
import { R, type ClusterClient } from '../../controller/apiserver/client.js';
import { controllerRefOf } from '../../controller/controller-manager/controller-ref.js';
import { rfc3339Seconds } from '../../protocol/kube/time.js';

/** Polls the in-memory store every 20 ms. */
export const waitFor = <T>(what: string, probe: () => T | undefined | false, timeoutMs = 10_000): Promise<T> => waitForValue(what, probe, timeoutMs, 20);

export function podsOf(client: ClusterClient, namespace: string, filter: (p: Pod) => boolean = () => true): Pod[] {
  return client.list<Pod>(R.pods, { namespace }).items.filter(filter);
}

export function ownedBy(owner: KubeObject): (o: KubeObject) => boolean {
  return (o) => controllerRefOf(o)?.uid === owner.metadata.uid;
}

const now = () => rfc3339Seconds();

/** What a kubelet reports for a started pod whose containers pass readiness. */
export async function markRunningReady(client: ClusterClient, pod: Pod, ready = true, readySince = now()): Promise<Pod> {
  const fresh = client.get<Pod>(R.pods, pod.metadata.namespace, pod.metadata.name!) ?? pod;
  const copy = structuredClone(fresh);
  copy.status = {
    ...(copy.status ?? {}),
    phase: 'Running',
    startTime: readySince,
    conditions: [
      { type: 'Initialized', status: 'True', lastTransitionTime: readySince },
      { type: 'Ready', status: ready ? 'True' : 'False', lastTransitionTime: readySince },
      { type: 'ContainersReady', status: ready ? 'True' : 'False', lastTransitionTime: readySince },
      { type: 'PodScheduled', status: 'True', lastTransitionTime: readySince },
    ],
  };
  return client.update<Pod>(R.pods, copy, 'status');
}

/** Marks every pending (not yet Running) live pod matching the filter ready. */
export async function readyAll(client: ClusterClient, namespace: string, filter: (p: Pod) => boolean = () => true): Promise<number> {
  let n = 0;
  for (const p of podsOf(client, namespace, filter)) {
    if (p.metadata.deletionTimestamp || p.status?.phase === 'Running') continue;
    try { await markRunningReady(client, p); n++; } catch { /* raced with deletion */ }
  }
  return n;
}

/** Finishes graceful deletions, as a kubelet does once containers have stopped. */
export async function finishTerminating(client: ClusterClient, namespace: string): Promise<void> {
  for (const p of podsOf(client, namespace, (x) => !!x.metadata.deletionTimestamp)) {
    try { await client.delete(R.pods, namespace, p.metadata.name!, { gracePeriodSeconds: 0 }); } catch { /* gone */ }
  }
}

export const podTemplate = (labels: Record<string, string>, image = 'nginx:1.25') => ({
  metadata: { labels },
  spec: { containers: [{ name: 'web', image }] },
});

import { pino } from 'pino';
import { join } from 'node:path';
import { startControllerManager } from '../../controller/controller-manager/index.js';
import { TokenSigner } from '../../controller/controller-manager/service-account-tokens.js';
import { startTestCluster } from '../helpers/cluster.js';

/** A test cluster with the whole controller manager running on it. */
export async function startClusterWithControllers() {
  const cluster = await startTestCluster();
  const manager = startControllerManager({
    client: cluster.client,
    log: pino({ level: process.env.PIKUBE_TEST_LOG ?? 'silent' }),
    tokenSigner: new TokenSigner(join(cluster.dir, 'sa.key')),
  });
  return { ...cluster, manager, async close() { await manager.stop(); await cluster.stop(); } };
}
