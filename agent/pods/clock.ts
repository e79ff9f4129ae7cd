// Time source for back-off and status timestamps, replaceable in tests.
export interface Clock { now(): number }

export const systemClock: Clock = { now: () => Date.now() };
