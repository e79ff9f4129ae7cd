// A request the agent cannot parse still names its transaction most of the time; the
// controller holds an HTTP request open for it, so the agent answers with the reason
// instead of dropping it silently.
import type { ResponseChunk } from '../../protocol/mqtt/payloads.js';

const STREAMING_OPS = new Set(['logs', 'exec']);

/** The error reply for a refused request, or undefined when it does not say where to reply. */
export function refusalFor(buf: Buffer, err: unknown): { op: string; chunk: ResponseChunk } | undefined {
  let o: unknown;
  try {
    o = JSON.parse(buf.toString('utf8'));
  } catch {
    return undefined;
  }
  if (!o || typeof o !== 'object') return undefined;
  const { op, transaction } = o as { op?: unknown; transaction?: unknown };
  if (typeof op !== 'string' || !STREAMING_OPS.has(op) || typeof transaction !== 'string' || !transaction) return undefined;
  const reason = err instanceof Error ? err.message : String(err);
  return { op, chunk: { transaction, seq: 0, done: true, error: `the node refused the request: ${reason}` } };
}
