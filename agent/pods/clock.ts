// Time source for back-off and status timestamps, replaceable in tests.
export interface Clock { now(): number }

export const systemClock: Clock = { now: () => Date.now() };

/** RFC 3339 with second precision, as Kubernetes timestamps are written. */
export function isoSeconds(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}
