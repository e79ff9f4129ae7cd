// Small parsers for what container CLIs print: JSON in its several framings, sizes with
// decimal or binary units, percentages, and the many spellings of "no timestamp".

/** Accepts one JSON array (podman) or one JSON object per line (nerdctl, docker). */
export function parseJsonRecords(stdout: string): Record<string, unknown>[] {
  const text = stdout.trim();
  if (!text) return [];
  if (text.startsWith('[')) {
    const parsed: unknown = JSON.parse(text);
    if (!Array.isArray(parsed)) throw new Error('expected a JSON array');
    return parsed.filter(isRecord);
  }
  if (text.startsWith('{')) {
    // One pretty-printed object (podman pod inspect) reads whole; otherwise one per line.
    try {
      const parsed: unknown = JSON.parse(text);
      if (isRecord(parsed)) return [parsed];
    } catch { /* several objects, one per line */ }
  }
  // nerdctl events prints blank lines between objects: skip them.
  return text.split('\n').map((l) => l.trim()).filter(Boolean).map((l) => JSON.parse(l) as unknown).filter(isRecord);
}

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

export function num(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

export function rec(v: unknown): Record<string, unknown> {
  return isRecord(v) ? v : {};
}

/** Labels as an object of strings; anything else (null, string form) gives {}. */
export function labelsOf(v: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, val] of Object.entries(rec(v))) if (typeof val === 'string') out[k] = val;
  return out;
}

const UNSET_TIMES = new Set(['', '0001-01-01T00:00:00Z', '0001-01-01T00:00:00.000Z']);

/** ISO timestamp or undefined for the zero-time spellings (`""`, year 1, epoch -62135596800). */
export function timeOrUndefined(v: unknown): string | undefined {
  if (typeof v === 'number') {
    if (v <= 0) return undefined;
    return new Date(v * 1000).toISOString();
  }
  if (typeof v !== 'string' || UNSET_TIMES.has(v) || v.startsWith('0001-01-01')) return undefined;
  const ms = Date.parse(v);
  return Number.isNaN(ms) ? undefined : new Date(ms).toISOString();
}

const UNITS: Record<string, number> = {
  b: 1,
  kb: 1e3, mb: 1e6, gb: 1e9, tb: 1e12, pb: 1e15,
  kib: 1024, mib: 1024 ** 2, gib: 1024 ** 3, tib: 1024 ** 4, pib: 1024 ** 5,
  k: 1e3, m: 1e6, g: 1e9,
};

/** "3.102MiB" → bytes; "471kB" → bytes; "--" or garbage → undefined. */
export function parseSize(text: string | undefined): number | undefined {
  if (!text) return undefined;
  const m = /^\s*([0-9]+(?:\.[0-9]+)?)\s*([a-zA-Z]*)\s*$/.exec(text);
  if (!m) return undefined;
  const factor = UNITS[(m[2] || 'b').toLowerCase()];
  if (factor === undefined) return undefined;
  return Math.round(parseFloat(m[1]!) * factor);
}

/** The used half of "used / limit". */
export function parseUsage(text: string | undefined): number | undefined {
  return parseSize(text?.split('/')[0]);
}

/** "12.5%" → 12.5; "--" → undefined. */
export function parsePercent(text: string | undefined): number | undefined {
  if (!text) return undefined;
  const m = /^\s*([0-9]+(?:\.[0-9]+)?)\s*%\s*$/.exec(text);
  return m ? parseFloat(m[1]!) : undefined;
}

/** `--filter label=k=v` pairs; values with commas are left to client-side matching. */
export function labelFilterArgs(labels: Record<string, string>): string[] {
  const args: string[] = [];
  for (const [k, v] of Object.entries(labels)) {
    if (k.includes(',') || v.includes(',')) continue;
    args.push('--filter', `label=${k}=${v}`);
  }
  return args;
}

export function hasLabels(have: Record<string, string>, want: Record<string, string>): boolean {
  return Object.entries(want).every(([k, v]) => have[k] === v);
}
