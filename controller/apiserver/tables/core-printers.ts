// Rows for the simple core kinds (namespaces, config maps, secrets, service accounts)
// and coordination leases.

import { AGE_COLUMN, column, NAME_COLUMN, type TablePrinter } from './columns.js';
import { since } from './duration.js';
import { count, isRecord, str } from './format.js';

function meta(obj: { metadata?: unknown }): Record<string, unknown> {
  return isRecord(obj.metadata) ? obj.metadata : {};
}

export const namespacePrinter: TablePrinter = {
  columns: [NAME_COLUMN, column('Status', 'string', 'The phase of the namespace.'), AGE_COLUMN],
  print(obj, now) {
    const m = meta(obj);
    const status = isRecord(obj.status) ? obj.status : {};
    // A namespace is Active from creation until it is being deleted.
    const phase = str(status.phase) || (m.deletionTimestamp ? 'Terminating' : 'Active');
    return { cells: [String(m.name ?? ''), phase, since(m.creationTimestamp, now)] };
  },
};

export const configMapPrinter: TablePrinter = {
  columns: [NAME_COLUMN, column('Data', 'string', 'Number of data entries.'), AGE_COLUMN],
  print(obj, now) {
    const m = meta(obj);
    return { cells: [String(m.name ?? ''), count(obj.data) + count(obj.binaryData), since(m.creationTimestamp, now)] };
  },
};

export const secretPrinter: TablePrinter = {
  columns: [NAME_COLUMN, column('Type', 'string', 'Type of the secret.'), column('Data', 'string', 'Number of data entries.'), AGE_COLUMN],
  print(obj, now) {
    const m = meta(obj);
    return { cells: [String(m.name ?? ''), str(obj.type, 'Opaque'), count(obj.data), since(m.creationTimestamp, now)] };
  },
};

export const serviceAccountPrinter: TablePrinter = {
  columns: [NAME_COLUMN, column('Secrets', 'string', 'Number of secrets the account references.'), AGE_COLUMN],
  print(obj, now) {
    const m = meta(obj);
    return { cells: [String(m.name ?? ''), count(obj.secrets), since(m.creationTimestamp, now)] };
  },
};

export const leasePrinter: TablePrinter = {
  columns: [NAME_COLUMN, column('Holder', 'string', 'Identity of the current holder of the lease.'), AGE_COLUMN],
  print(obj, now) {
    const m = meta(obj);
    const spec = isRecord(obj.spec) ? obj.spec : {};
    return { cells: [String(m.name ?? ''), str(spec.holderIdentity), since(m.creationTimestamp, now)] };
  },
};
