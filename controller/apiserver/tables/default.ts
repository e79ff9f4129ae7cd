// Columns for any resource without its own printer: name and creation time.

import { column, NAME_COLUMN, type TablePrinter } from './columns.js';
import { isRecord } from './format.js';
import { rfc3339Seconds } from '../../../protocol/kube/time.js';

/** RFC 3339 in UTC with whole seconds, as Go formats a metav1.Time. */
function rfc3339(ts: unknown): string {
  const at = typeof ts === 'string' ? Date.parse(ts) : NaN;
  if (Number.isNaN(at)) return '0001-01-01T00:00:00Z';
  return rfc3339Seconds(at);
}

export const defaultPrinter: TablePrinter = {
  columns: [NAME_COLUMN, column('Created At', 'date', 'Time the object was created.')],
  print(obj) {
    const meta = isRecord(obj.metadata) ? obj.metadata : {};
    return { cells: [String(meta.name ?? ''), rfc3339(meta.creationTimestamp)] };
  },
};
