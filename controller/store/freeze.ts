// Stored objects are shared by every reader; freezing them turns an accidental in-place
// change anywhere in the controller into an immediate TypeError instead of silent drift.
export function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value as object)) deepFreeze(v);
  }
  return value;
}
