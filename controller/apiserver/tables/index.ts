// Server-side printing: a list of objects becomes a meta.k8s.io/v1 Table, which is what
// kubectl asks for (`Accept: application/json;as=Table;v=v1;g=meta.k8s.io`).

import type { KubeObject } from '../../../protocol/kube/types.js';
import type { TablePrinter } from './columns.js';
import { defaultPrinter } from './default.js';
import { findResource } from '../resources.js';
import { kindOfResource } from '../kinds/index.js';

export type { ColumnDefinition, TablePrinter } from './columns.js';
export { humanDuration } from './duration.js';

export interface TableOptions {
  resourceVersion: string;
  includeObject: 'None' | 'Metadata' | 'Object';
  now?: Date;
  continueToken?: string;
  remainingItemCount?: number;
}

/** The printer a kind module or a CRD's printer columns declare for a resource of a group ('' = core); the name/created-at default otherwise. */
export function printerFor(group: string, resource: string): TablePrinter {
  const g = group === 'core' ? '' : group;
  const declared = kindOfResource(g, resource);
  if (declared) return declared.printer ?? defaultPrinter;
  return findResource(g, resource)?.custom?.printer ?? defaultPrinter;
}

function rowObject(obj: KubeObject, includeObject: TableOptions['includeObject']): unknown {
  if (includeObject === 'Object') return obj;
  return { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: obj.metadata ?? {} };
}

/** A meta.k8s.io/v1 Table for these objects of this resource (group '' = core). */
export function toTable(group: string, resource: string, objects: KubeObject[], opts: TableOptions): object {
  if (!['None', 'Metadata', 'Object'].includes(opts.includeObject)) {
    throw new Error(`includeObject must be None, Metadata or Object, not ${JSON.stringify(opts.includeObject)}`);
  }
  const printer = printerFor(group, resource);
  const now = opts.now ?? new Date();
  const rows = objects.map((obj) => {
    const printed = printer.print(obj, now);
    const row: Record<string, unknown> = { cells: printed.cells };
    if (printed.conditions) row.conditions = printed.conditions;
    if (opts.includeObject !== 'None') row.object = rowObject(obj, opts.includeObject);
    return row;
  });
  const metadata: Record<string, unknown> = { resourceVersion: opts.resourceVersion };
  if (opts.continueToken) metadata.continue = opts.continueToken;
  if (opts.remainingItemCount !== undefined) metadata.remainingItemCount = opts.remainingItemCount;
  return {
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata,
    columnDefinitions: printer.columns.map((c) => ({ ...c })),
    rows,
  };
}
