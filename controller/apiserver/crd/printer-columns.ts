// additionalPrinterColumns: the Table a CRD version asks kubectl to print (upstream's
// apiextensions-apiserver/pkg/registry/customresource/tableconvertor). Columns follow
// simple JSONPath: `.spec.a`, `.a[0].b`, `.a[*].b`, `.a[?(@.type=="Ready")].status`.
import { column, NAME_COLUMN, type ColumnDefinition, type ColumnType, type TablePrinter } from '../tables/columns.js';
import { humanDuration } from '../tables/duration.js';

export interface PrinterColumn { name: string; type: string; jsonPath: string; format?: string; description?: string; priority?: number }

type Step = { field: string } | { index: number } | { all: true } | { filter: { path: string[]; value: string } };

/** Parses the JSONPath subset CRDs use; throws with the reason otherwise. */
export function parseColumnPath(path: string): Step[] {
  const steps: Step[] = [];
  let rest = path.trim().replace(/^\{|\}$/g, '').replace(/^\$/, '');
  if (!rest.startsWith('.') && !rest.startsWith('[')) throw new Error('must be a simple JSON path starting with "."');
  while (rest) {
    let m: RegExpMatchArray | null;
    if ((m = rest.match(/^\.([A-Za-z0-9_\-\\/]+)/))) { steps.push({ field: m[1]!.replace(/\\\./g, '.') }); rest = rest.slice(m[0].length); continue; }
    if ((m = rest.match(/^\[(\d+)\]/))) { steps.push({ index: Number(m[1]) }); rest = rest.slice(m[0].length); continue; }
    if ((m = rest.match(/^\[\*\]/))) { steps.push({ all: true }); rest = rest.slice(m[0].length); continue; }
    if ((m = rest.match(/^\['([^']+)'\]/))) { steps.push({ field: m[1]! }); rest = rest.slice(m[0].length); continue; }
    if ((m = rest.match(/^\[\?\(@((?:\.[A-Za-z0-9_-]+)+)\s*==\s*["']([^"']*)["']\)\]/))) {
      steps.push({ filter: { path: m[1]!.split('.').filter(Boolean), value: m[2]! } }); rest = rest.slice(m[0].length); continue;
    }
    throw new Error(`unsupported JSON path near ${JSON.stringify(rest.slice(0, 20))}`);
  }
  return steps;
}

function evaluate(steps: Step[], root: unknown): unknown[] {
  let current: unknown[] = [root];
  for (const step of steps) {
    const next: unknown[] = [];
    for (const v of current) {
      if ('field' in step) { if (v && typeof v === 'object' && !Array.isArray(v) && step.field in v) next.push((v as Record<string, unknown>)[step.field]); }
      else if ('index' in step) { if (Array.isArray(v) && step.index < v.length) next.push(v[step.index]); }
      else if ('all' in step) { if (Array.isArray(v)) next.push(...v); else if (v && typeof v === 'object') next.push(...Object.values(v)); }
      else if (Array.isArray(v)) {
        for (const item of v) {
          let at: unknown = item;
          for (const f of step.filter.path) at = at && typeof at === 'object' ? (at as Record<string, unknown>)[f] : undefined;
          if (at !== undefined && String(at) === step.filter.value) next.push(item);
        }
      }
    }
    current = next;
  }
  return current;
}

const COLUMN_TYPES = new Set(['string', 'integer', 'number', 'boolean', 'date']);

function cellOf(col: PrinterColumn, steps: Step[] | undefined, obj: unknown, now: Date): unknown {
  if (!steps) return null;
  const values = evaluate(steps, obj);
  if (!values.length) return null;
  if (values.length > 1) return values.map((v) => (typeof v === 'object' ? JSON.stringify(v) : String(v))).join(',');
  const v = values[0];
  if (col.type === 'date' && typeof v === 'string') {
    const at = Date.parse(v);
    return Number.isNaN(at) ? v : humanDuration(now.getTime() - at);
  }
  if (v !== null && typeof v === 'object') return JSON.stringify(v);
  return v;
}

/** The Table printer of a CRD version: Name, then its columns (Name and Age when it has none). */
export function printerFor(columns: PrinterColumn[] | undefined): TablePrinter {
  const cols = columns?.length ? columns : [{ name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' }];
  const parsed = cols.map((c) => {
    try { return parseColumnPath(c.jsonPath); } catch { return undefined; }
  });
  const definitions: ColumnDefinition[] = [NAME_COLUMN, ...cols.map((c) => column(c.name, (COLUMN_TYPES.has(c.type) ? c.type : 'string') as ColumnType, c.description ?? '', { priority: c.priority ?? 0, format: c.format ?? '' }))];
  return {
    columns: definitions,
    print(obj, now) {
      return { cells: [String((obj?.metadata as { name?: unknown } | undefined)?.name ?? ''), ...cols.map((c, i) => cellOf(c, parsed[i], obj, now))] };
    },
  };
}
