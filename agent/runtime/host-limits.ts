// Reads this process's resource limits from /proc/self/limits. Some hosts forbid
// containers to get more than their parent has, so drivers hand these down as --ulimit.
import { readFile } from 'node:fs/promises';

export interface Limit { soft: number; hard: number }
export interface HostLimits { nofile?: Limit; nproc?: Limit }

const ROWS: Record<string, keyof HostLimits> = { 'Max open files': 'nofile', 'Max processes': 'nproc' };

/** Parses the /proc/<pid>/limits table; "unlimited" rows are left out. */
export function parseLimits(text: string): HostLimits {
  const out: HostLimits = {};
  for (const line of text.split('\n')) {
    for (const [title, key] of Object.entries(ROWS)) {
      if (!line.startsWith(title)) continue;
      const [soft, hard] = line.slice(title.length).trim().split(/\s+/);
      const s = Number(soft), h = Number(hard);
      if (Number.isInteger(s) && Number.isInteger(h)) out[key] = { soft: s, hard: h };
    }
  }
  return out;
}

export async function readHostLimits(path = '/proc/self/limits'): Promise<HostLimits> {
  return parseLimits(await readFile(path, 'utf8'));
}
