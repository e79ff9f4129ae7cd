// Small helpers for command-line flags shared by the commands.
import { homedir } from 'node:os';
import { join } from 'node:path';
import { parseJoinToken, type ParsedJoinToken } from '../protocol/join-token.js';

export class UsageError extends Error {}

export function defaultDataDir(side: 'controller' | 'agent'): string {
  if (process.getuid?.() === 0) return side === 'controller' ? '/var/lib/pikube' : '/var/lib/pikube-agent';
  return join(homedir(), side === 'controller' ? '.pikube' : '.pikube-agent');
}

export function parseHostPort(value: string, flag: string): { host: string; port: number } {
  const m = value.match(/^(\[[^\]]+\]|[^:]*):(\d+)$/);
  if (!m) throw new UsageError(`${flag} must be HOST:PORT, got "${value}"`);
  const port = Number(m[2]);
  if (port < 0 || port > 65535) throw new UsageError(`${flag} port out of range: ${port}`);
  return { host: m[1]!.replace(/^\[|\]$/g, '') || '0.0.0.0', port };
}

/** `5s`, `500ms`, `2m`, `1h`, or plain seconds → milliseconds. */
export function parseDuration(value: string, flag: string): number {
  const m = value.match(/^(\d+(?:\.\d+)?)(ms|s|m|h)?$/);
  if (!m) throw new UsageError(`${flag} must be a duration such as 5s, 500ms or 2m, got "${value}"`);
  const n = Number(m[1]);
  const unit = m[2] ?? 's';
  return Math.round(n * (unit === 'ms' ? 1 : unit === 's' ? 1000 : unit === 'm' ? 60_000 : 3_600_000));
}

/**
 * A controller's `--token`: the bare token, or the K10<ca-hash>::<token> form `pikube
 * token show` prints, whose hash then pins the cluster's CA.
 */
export function parseTokenFlag(value: string): ParsedJoinToken {
  try {
    return parseJoinToken(value);
  } catch (err) {
    throw new UsageError(`--token: ${(err as Error).message}`);
  }
}
