// Drops fields named by path ("spec.containers[0].imagePullPolcy", "bogus") from a decoded
// body: what upstream's decoder does with fields its types do not have.

function tokens(path: string): string[] {
  const out: string[] = [];
  for (const m of path.matchAll(/([^.[\]]+)|\[([^\]]*)\]/g)) out.push(m[1] ?? m[2]!);
  return out;
}

export function removeFields(obj: unknown, paths: string[]): void {
  for (const path of paths) {
    const parts = tokens(path);
    let at: unknown = obj;
    for (const part of parts.slice(0, -1)) {
      if (at === null || typeof at !== 'object') { at = undefined; break; }
      at = (at as Record<string, unknown>)[part];
    }
    const last = parts[parts.length - 1];
    if (last !== undefined && at !== null && typeof at === 'object' && !Array.isArray(at)) delete (at as Record<string, unknown>)[last];
  }
}
