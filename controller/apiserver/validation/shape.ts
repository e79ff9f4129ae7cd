/** Tolerant readers: custom rules run on unchecked input and must never throw on a wrong type. */

export type Obj = Record<string, unknown>;

export function asObj(value: unknown): Obj | undefined {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Obj) : undefined;
}

export function asArray(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

export function asString(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

export function isSet(value: unknown): boolean {
  return value !== undefined && value !== null && value !== '';
}

/** Stable JSON for comparisons (object keys sorted). */
export function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    const o = asObj(v);
    if (!o) return v;
    return Object.fromEntries(Object.keys(o).sort().map((k) => [k, o[k]]));
  });
}
