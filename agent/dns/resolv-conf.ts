// The node's own resolver: the first nameserver of /etc/resolv.conf.
import { readFile } from 'node:fs/promises';
import { isIPv4 } from '../network/ipv4.js';

export function firstNameserver(text: string): string | undefined {
  for (const line of text.split('\n')) {
    const m = /^\s*nameserver\s+(\S+)/.exec(line);
    if (m && isIPv4(m[1]!)) return m[1];
  }
  return undefined;
}

export async function readNodeResolver(path = '/etc/resolv.conf'): Promise<string | undefined> {
  try {
    return firstNameserver(await readFile(path, 'utf8'));
  } catch {
    return undefined;
  }
}
