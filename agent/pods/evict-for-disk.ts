// One eviction round for a starved disk (the kubelet's eviction manager, synchronize):
// rank the running pods by their use of the starved filesystem, skip critical ones, and
// evict the first, waiting (up to 30 s) until its containers are gone so the next round
// sees the space it freed. Hard thresholds kill at once (1 s grace); soft ones give the
// pod its own grace period.
import type { Logger } from 'pino';
import type { Starvation } from '../images/disk-pressure.js';
import type { ContainerRuntime } from '../runtime/container-runtime.js';
import { diskEvictionMessage, isCriticalPod, measureFor, rankForDiskEviction } from './disk-eviction.js';
import { measurePodDisk } from './pod-disk-usage.js';
import type { PodManager } from './pod-manager.js';
import { gracePeriodOf } from './pod-worker.js';

/** immediateEvictionGracePeriodSeconds */
const HARD_EVICTION_GRACE_SECONDS = 1;

export async function evictOneForDisk(deps: { pods: PodManager; runtime: ContainerRuntime; dataDir: string; log: Logger }, s: Starvation): Promise<boolean> {
  const candidates = deps.pods.evictionCandidates();
  if (!candidates.length) {
    deps.log.warn({ signal: s.threshold.signal }, 'eviction thresholds have been met, but no pods are active to evict');
    return false;
  }
  const usage = await measurePodDisk(deps.runtime, deps.dataDir, candidates).catch((err) => {
    deps.log.warn({ err: String(err) }, 'pod disk usage unknown; ranking without it');
    return new Map();
  });
  const ranked = rankForDiskEviction(candidates.map((c) => ({ ...c, usage: usage.get(c.uid) })), measureFor(s.threshold.signal, s.sharedFs));
  deps.log.info({ pods: ranked.map((c) => `${c.pod.metadata.namespace}/${c.pod.metadata.name}`) }, 'pods ranked for eviction');
  for (const c of ranked) {
    if (isCriticalPod(c.pod)) {
      deps.log.warn({ pod: c.pod.metadata.name, namespace: c.pod.metadata.namespace }, 'cannot evict a critical pod');
      continue;
    }
    const grace = s.threshold.gracePeriodMs === undefined ? HARD_EVICTION_GRACE_SECONDS : gracePeriodOf(c.pod);
    if (await deps.pods.evict(c.uid, diskEvictionMessage(c.pod, c.usage, s.thresholdBytes, s.availableBytes), grace)) return true;
  }
  return false;
}
