// Column definitions of a meta.k8s.io/v1 Table. kubectl shows priority 0 columns always
// and priority 1 columns only with `-o wide`; the server always sends every cell.

export type ColumnType = 'string' | 'integer' | 'number' | 'boolean' | 'date';

export interface ColumnDefinition {
  name: string;
  type: ColumnType;
  format: string;
  description: string;
  priority: number;
}

export interface RowCondition { type: string; status: string; reason?: string; message?: string }

/** One printed row before the object is attached. */
export interface PrintedRow { cells: unknown[]; conditions?: RowCondition[] }

/** An object as a printer receives it, of whatever kind: every part is checked before it is read. */
export interface PrintedObject { metadata?: unknown; spec?: unknown; status?: unknown; [field: string]: unknown }

/** How one resource is printed: its columns and how an object becomes cells. */
export interface TablePrinter {
  columns: ColumnDefinition[];
  print(object: PrintedObject, now: Date): PrintedRow;
}

export function column(name: string, type: ColumnType, description: string, extra: { priority?: number; format?: string } = {}): ColumnDefinition {
  return { name, type, format: extra.format ?? '', description, priority: extra.priority ?? 0 };
}

export function wide(name: string, type: ColumnType, description: string): ColumnDefinition {
  return column(name, type, description, { priority: 1 });
}

export const NAME_COLUMN = column('Name', 'string', 'Unique name of the object within its namespace.', { format: 'name' });
export const AGE_COLUMN = column('Age', 'string', 'Time since the object was created.');
