// Every process below a given one, from /proc: a bench interrupted with SIGINT or SIGTERM
// stops the controllers, agents and helpers it started (and theirs) instead of leaving
// them holding ports, the pod network's DNS address or podman containers.
import { readdirSync, readFileSync } from 'node:fs';

/** The parent of `pid` from /proc/<pid>/stat (the field after the parenthesised name). */
function parentOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return undefined; // gone meanwhile
  }
}

/** Descendants of `root`, children before their own children. */
export function descendantPids(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const pid = Number(name);
    const ppid = parentOf(pid);
    if (ppid === undefined) continue;
    const list = children.get(ppid) ?? [];
    list.push(pid);
    children.set(ppid, list);
  }
  const out: number[] = [];
  const queue = [root];
  while (queue.length) for (const c of children.get(queue.shift()!) ?? []) { out.push(c); queue.push(c); }
  return out;
}

/** On SIGINT/SIGTERM/SIGHUP: SIGKILL every descendant, then exit as the signal would. */
export function killDescendantsOnSignal(): void {
  const codes = { SIGINT: 130, SIGTERM: 143, SIGHUP: 129 } as const;
  for (const [signal, code] of Object.entries(codes)) {
    process.once(signal, () => {
      for (const pid of descendantPids(process.pid)) {
        try { process.kill(pid, 'SIGKILL'); } catch { /* already gone */ }
      }
      console.error(`# interrupted by ${signal}: the processes this bench started were stopped`);
      process.exit(code);
    });
  }
}
