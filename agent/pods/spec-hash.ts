// A stable hash of a container's spec. It is stored as a label when the container is
// created, so an agent that restarts can tell "same container, leave it running" from
// "the spec changed, replace it".
import { createHash } from 'node:crypto';
import type { Container } from '../../protocol/kube/types.js';

function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(value).sort()) {
      const v = (value as Record<string, unknown>)[k];
      if (v !== undefined) out[k] = canonical(v);
    }
    return out;
  }
  return value;
}

export function containerSpecHash(c: Container): string {
  return createHash('sha256').update(JSON.stringify(canonical(c))).digest('hex').slice(0, 16);
}
