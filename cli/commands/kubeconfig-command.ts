// `pikube kubeconfig`: prints the admin kubeconfig the controller wrote.
import { parseArgs } from 'node:util';
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { defaultDataDir, UsageError } from '../args.js';

export async function run(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { 'data-dir': { type: 'string' }, server: { type: 'string' }, help: { type: 'boolean', short: 'h' } }, strict: true });
  if (values.help) {
    process.stdout.write('Usage: pikube kubeconfig [--data-dir DIR] [--server https://HOST:PORT]\n\nPrints the admin kubeconfig (to use from another machine, give --server).\n');
    return 0;
  }
  const path = join(values['data-dir'] ?? defaultDataDir('controller'), 'kubeconfig');
  if (!existsSync(path)) throw new UsageError(`no kubeconfig at ${path}: has the controller started with this --data-dir?`);
  let text = readFileSync(path, 'utf8');
  if (values.server) {
    if (!/^https:\/\/[^\s"]+$/.test(values.server)) throw new UsageError('--server must be an https:// URL');
    text = text.replace(/server: "[^"]*"/, `server: "${values.server}"`);
  }
  process.stdout.write(text);
  return 0;
}
