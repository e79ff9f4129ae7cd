// What each pod uses on disk, for ranking pods under disk pressure (the kubelet reads it
// from its stats summary): the writable layer and log of each running container, from one
// runtime call, and the pod's local volumes under the agent's data dir.
import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { ContainerRuntime } from '../runtime/container-runtime.js';
import type { EvictionCandidate } from './pod-manager.js';
import type { PodDiskUsage } from './disk-eviction.js';
import { podDir } from './volumes.js';

/** Bytes a directory tree takes on disk (allocated blocks, as du counts them); symlinks are not followed. */
export async function dirBytes(dir: string): Promise<number> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return 0;
  }
  let total = 0;
  for (const e of entries) {
    const p = join(dir, e.name);
    if (e.isDirectory()) total += await dirBytes(p);
    else total += await lstat(p).then((s) => s.blocks * 512, () => 0);
  }
  return total;
}

/** Usage per pod uid; a pod is left out when the runtime cannot say (it then ranks first, as upstream). */
export async function measurePodDisk(runtime: ContainerRuntime, dataDir: string, pods: readonly EvictionCandidate[]): Promise<Map<string, PodDiskUsage>> {
  const out = new Map<string, PodDiskUsage>();
  if (!runtime.diskUsage) return out;
  const ids = pods.flatMap((p) => [...p.containerIds.values()]);
  const disk = await runtime.diskUsage(ids);
  await Promise.all(pods.map(async (p) => {
    const containers = new Map<string, { rootfsBytes: number; logsBytes: number }>();
    for (const [name, id] of p.containerIds) {
      const d = disk.get(id);
      if (d) containers.set(name, d);
    }
    if (containers.size === 0) return;
    out.set(p.uid, { containers, volumesBytes: await dirBytes(join(podDir(dataDir, p.uid), 'volumes')) });
  }));
  return out;
}
