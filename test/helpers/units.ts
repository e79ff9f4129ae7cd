// Reading the shipped systemd units as systemd does, for the tests that check them and
// for the benchmarks that run a service with the unit's own settings.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

const packageRoot = fileURLToPath(new URL('../../../', import.meta.url));

export function unitText(name: string): string {
  return readFileSync(join(packageRoot, 'systemd', name), 'utf8');
}

/** Directive values of one section, in order (the last one wins, as systemd reads them). */
export function unitDirectives(text: string, section: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  let current = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line.startsWith('#') || line === '') continue;
    const header = /^\[(.+)\]$/.exec(line);
    if (header) {
      current = header[1]!;
      continue;
    }
    if (current !== section) continue;
    const at = line.indexOf('=');
    const key = line.slice(0, at);
    out.set(key, [...(out.get(key) ?? []), line.slice(at + 1)]);
  }
  return out;
}

/**
 * The variables `Environment=` lines set (systemd.exec(5)): each line holds assignments
 * separated by spaces, an assignment in double quotes may hold spaces itself.
 */
export function unitEnvironment(text: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of unitDirectives(text, 'Service').get('Environment') ?? []) {
    for (const m of line.matchAll(/"([^"]*)"|(\S+)/g)) {
      const assignment = m[1] ?? m[2]!;
      const at = assignment.indexOf('=');
      if (at > 0) env[assignment.slice(0, at)] = assignment.slice(at + 1);
    }
  }
  return env;
}

/** The NODE_OPTIONS a unit runs its service with ('' when it sets none). */
export function unitNodeOptions(name: string): string {
  return unitEnvironment(unitText(name)).NODE_OPTIONS ?? '';
}
