// Per-container CPU and memory straight from the kernel's cgroup files, so a heartbeat
// costs a few file reads instead of a `stats` process (which also samples for ~1 s).
// The container's cgroup is found once from /proc/<pid>/cgroup of its main process and
// cached; cgroup v1 (and hybrid) and v2 are both read. Memory is the working set
// (usage minus inactive file cache), as the kubelet reports it; CPU is the rate of
// cpu time between two readings (the first reading averages since the container started).
import { readFile } from 'node:fs/promises';
import type { ContainerStats } from './container-runtime.js';

export interface CgroupFiles {
  /** Cumulative CPU time: v1 cpuacct.usage (ns) or v2 cpu.stat (usage_usec). */
  cpu: string;
  cpuUnit: 'ns' | 'v2-stat';
  /** v1 memory.usage_in_bytes or v2 memory.current. */
  memory: string;
  /** memory.stat, for the inactive file cache. */
  memoryStat: string;
  inactiveKey: 'total_inactive_file' | 'inactive_file';
}

/** The cgroup files of a process, from the text of /proc/<pid>/cgroup; undefined when none is usable. */
export function cgroupFilesOf(procCgroup: string, root = '/sys/fs/cgroup'): CgroupFiles | undefined {
  let cpuDir: string | undefined;
  let memDir: string | undefined;
  let unified: string | undefined;
  for (const line of procCgroup.split('\n')) {
    const m = /^(\d+):([^:]*):(.*)$/.exec(line.trim());
    if (!m) continue;
    const [, , controllers, path] = m;
    const list = controllers!.split(',');
    if (controllers === '' && m[1] === '0') unified = path!;
    if (list.includes('cpuacct')) cpuDir = `${root}/${controllers}${path}`;
    if (list.includes('memory')) memDir = `${root}/${controllers}${path}`;
  }
  if (cpuDir && memDir) {
    return { cpu: `${cpuDir}/cpuacct.usage`, cpuUnit: 'ns', memory: `${memDir}/memory.usage_in_bytes`, memoryStat: `${memDir}/memory.stat`, inactiveKey: 'total_inactive_file' };
  }
  if (unified !== undefined && !cpuDir && !memDir) {
    const dir = `${root}${unified === '/' ? '' : unified}`;
    return { cpu: `${dir}/cpu.stat`, cpuUnit: 'v2-stat', memory: `${dir}/memory.current`, memoryStat: `${dir}/memory.stat`, inactiveKey: 'inactive_file' };
  }
  return undefined;
}

function statValue(text: string, key: string): number | undefined {
  const m = new RegExp(`^${key} (\\d+)$`, 'm').exec(text);
  return m ? Number(m[1]) : undefined;
}

/** One cumulative reading: CPU seconds used so far and the working set in bytes. */
export async function readCgroup(files: CgroupFiles): Promise<{ cpuSeconds: number; memoryBytes: number }> {
  const [cpuText, memText, statText] = await Promise.all([
    readFile(files.cpu, 'utf8'), readFile(files.memory, 'utf8'), readFile(files.memoryStat, 'utf8'),
  ]);
  const cpuSeconds = files.cpuUnit === 'ns'
    ? Number(cpuText.trim()) / 1e9
    : (statValue(cpuText, 'usage_usec') ?? NaN) / 1e6;
  const usage = Number(memText.trim());
  const inactive = statValue(statText, files.inactiveKey) ?? 0;
  if (!Number.isFinite(cpuSeconds) || !Number.isFinite(usage)) throw new Error(`unreadable cgroup counters in ${files.cpu}`);
  return { cpuSeconds, memoryBytes: Math.max(0, usage - inactive) };
}

interface Tracked { pid: number; startedAt: number; files?: CgroupFiles; last?: { at: number; cpuSeconds: number } }

/** Remembers each running container's main process and reads its cgroup on demand. */
export class CgroupUsage {
  private readonly tracked = new Map<string, Tracked>();
  /** Set once cgroups proved unreadable here (another cgroup namespace, no /proc): stop trying. */
  private unusable = false;

  constructor(private readonly procRoot = '/proc', private readonly cgroupRoot = '/sys/fs/cgroup') {}

  /** Called with what an inspect said: a running container's pid, or none once it stopped. */
  note(id: string, pid: number | undefined, startedAt: string | undefined): void {
    if (!pid) { this.tracked.delete(id); return; }
    const t = this.tracked.get(id);
    if (t && t.pid === pid) return;
    this.tracked.set(id, { pid, startedAt: Date.parse(startedAt ?? '') || Date.now() });
  }

  /** Usage of the containers it can read; the rest are left for the runtime's own stats. */
  async read(ids: string[]): Promise<{ stats: Map<string, ContainerStats>; missing: string[] }> {
    const stats = new Map<string, ContainerStats>();
    const missing: string[] = [];
    await Promise.all(ids.map(async (id) => {
      const s = this.unusable ? undefined : await this.readOne(id);
      if (s) stats.set(id, s); else missing.push(id);
    }));
    return { stats, missing };
  }

  private async readOne(id: string): Promise<ContainerStats | undefined> {
    const t = this.tracked.get(id);
    if (!t) return undefined;
    try {
      t.files ??= cgroupFilesOf(await readFile(`${this.procRoot}/${t.pid}/cgroup`, 'utf8'), this.cgroupRoot);
      if (!t.files) { this.unusable = true; return undefined; }
      const now = Date.now();
      const r = await readCgroup(t.files);
      const since = t.last ?? { at: t.startedAt, cpuSeconds: 0 };
      const elapsed = (now - since.at) / 1000;
      const cpuCores = elapsed > 0 ? Math.max(0, (r.cpuSeconds - since.cpuSeconds) / elapsed) : 0;
      t.last = { at: now, cpuSeconds: r.cpuSeconds };
      return { cpuCores: Math.round(cpuCores * 1e6) / 1e6, memoryBytes: r.memoryBytes };
    } catch {
      // the process is gone (container exited) or the files moved: forget, ask the runtime
      this.tracked.delete(id);
      return undefined;
    }
  }
}
