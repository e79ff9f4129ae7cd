// From an MQTT payload to "does the binding's condition hold": pick the value (the whole
// payload, or a path into its JSON), then compare it as text or as a number. Pure, so the
// rules are tested without a broker.
import type { TopicCondition } from './topic-binding-types.js';

export class SignalError extends Error {
  override readonly name = 'SignalError';
}

/** `a.b[2].c`, with an optional leading `$.` as JSONPath writes it. */
function pathSegments(path: string): (string | number)[] {
  const trimmed = path.replace(/^\$\.?/, '');
  if (!trimmed) return [];
  const out: (string | number)[] = [];
  for (const part of trimmed.split('.')) {
    const m = /^([^[\]]*)((?:\[\d+\])*)$/.exec(part);
    if (!m) throw new SignalError(`valuePath segment ${JSON.stringify(part)} is not a name or name[index]`);
    if (m[1]) out.push(m[1]);
    for (const idx of m[2]!.matchAll(/\[(\d+)\]/g)) out.push(Number(idx[1]));
  }
  return out;
}

/** Checks a valuePath before it is stored; throws SignalError with what is wrong. */
export function checkValuePath(path: string): void {
  pathSegments(path);
}

/** The value of a payload as text: the payload itself, or the JSON value at the path. */
export function extractValue(payload: Buffer | string, valuePath: string | undefined): string {
  const text = typeof payload === 'string' ? payload : payload.toString('utf8');
  const segments = pathSegments(valuePath ?? '');
  if (segments.length === 0) return text.trim();
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new SignalError(`payload is not JSON, so valuePath ${JSON.stringify(valuePath)} cannot be followed`);
  }
  for (const s of segments) {
    if (value === null || typeof value !== 'object' || !(s in (value as object))) {
      throw new SignalError(`payload has nothing at ${JSON.stringify(valuePath)}`);
    }
    value = (value as Record<string | number, unknown>)[s];
  }
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** Whether the value satisfies the condition; every given comparison must hold. */
export function conditionHolds(when: TopicCondition, value: string): boolean {
  if (when.equals !== undefined && value !== when.equals) return false;
  if (when.above !== undefined || when.below !== undefined) {
    if (value.trim() === '') return false;
    const n = Number(value);
    if (!Number.isFinite(n)) return false;
    if (when.above !== undefined && !(n > when.above)) return false;
    if (when.below !== undefined && !(n < when.below)) return false;
  }
  return true;
}
