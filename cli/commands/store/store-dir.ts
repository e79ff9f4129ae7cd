// Where the store is: <data-dir>/store of the controller, or a store directory given as is.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { defaultDataDir, UsageError } from '../../args.js';

export const STORE_DIR_FLAGS = { 'data-dir': { type: 'string' }, 'store-dir': { type: 'string' }, help: { type: 'boolean', short: 'h' } } as const;

export function storeDir(v: { 'data-dir'?: string; 'store-dir'?: string }): string {
  const dir = v['store-dir'] ?? join(v['data-dir'] ?? defaultDataDir('controller'), 'store');
  if (!existsSync(dir)) throw new UsageError(`no store at ${dir}: give the controller's --data-dir`);
  return dir;
}
