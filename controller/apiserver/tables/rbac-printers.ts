// Rows for rbac.authorization.k8s.io: roles print like the default (name, created at);
// bindings name their role and, with -o wide, their subjects by kind (as upstream's
// printers do in pkg/printers/internalversion).

import { AGE_COLUMN, column, NAME_COLUMN, wide, type PrintedObject, type TablePrinter } from './columns.js';
import { since } from './duration.js';
import { isRecord, records, str } from './format.js';

function subjectsOf(obj: PrintedObject, kind: string): string {
  return records(obj.subjects).filter((s) => s.kind === kind)
    .map((s) => (kind === 'ServiceAccount' ? `${str(s.namespace)}/${str(s.name)}` : str(s.name))).join(', ');
}

export const roleBindingPrinter: TablePrinter = {
  columns: [
    NAME_COLUMN, column('Role', 'string', 'RoleRef is the reference to the role the binding grants.'), AGE_COLUMN,
    wide('Users', 'string', 'Users in the binding.'), wide('Groups', 'string', 'Groups in the binding.'),
    wide('ServiceAccounts', 'string', 'ServiceAccounts in the binding.'),
  ],
  print(obj, now) {
    const m = isRecord(obj.metadata) ? obj.metadata : {};
    const ref = isRecord(obj.roleRef) ? obj.roleRef : {};
    return {
      cells: [String(m.name ?? ''), `${str(ref.kind)}/${str(ref.name)}`, since(m.creationTimestamp, now),
        subjectsOf(obj, 'User'), subjectsOf(obj, 'Group'), subjectsOf(obj, 'ServiceAccount')],
    };
  },
};
