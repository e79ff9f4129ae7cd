// --audit-log FILE: one JSON line per mutating request (who, what, the answer), appended
// without fsync so that an SD card sees one small write per change, not a sync each.
import { createWriteStream, type WriteStream } from 'node:fs';
import type { RequestAttributes } from './attributes.js';

const MUTATING = new Set(['create', 'update', 'patch', 'delete', 'deletecollection']);

export class AuditLog {
  private readonly out: WriteStream;

  constructor(path: string) {
    this.out = createWriteStream(path, { flags: 'a', mode: 0o600 });
    this.out.on('error', () => undefined);
  }

  record(a: RequestAttributes, code: number, impersonatedBy?: string): void {
    if (!MUTATING.has(a.verb) && a.verb !== 'impersonate') return;
    const line = {
      ts: new Date().toISOString(), user: a.user.username, groups: a.user.groups, ...(impersonatedBy ? { impersonatedBy } : {}),
      verb: a.verb, ...(a.resourceRequest ? { group: a.apiGroup, resource: a.subresource ? `${a.resource}/${a.subresource}` : a.resource, namespace: a.namespace || undefined, name: a.name || undefined } : { path: a.path }),
      code,
    };
    this.out.write(JSON.stringify(line) + '\n');
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.out.end(resolve));
  }
}
