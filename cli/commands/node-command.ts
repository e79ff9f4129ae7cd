// `pikube node reset NAME`: forgets a node's MQTT password so that the name can be
// joined again with a join token (e.g. after reinstalling the board), without deleting the
// Node object. The controller reads the change without a restart.
import { parseArgs } from 'node:util';
import { existsSync } from 'node:fs';
import { NodePasswords } from '../../controller/broker/node-passwords.js';
import { defaultDataDir, UsageError } from '../args.js';

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, strict: true, options: { 'data-dir': { type: 'string' }, help: { type: 'boolean', short: 'h' } } });
  if (values.help) { process.stdout.write('Usage: pikube node reset NAME [--data-dir DIR]\n'); return 0; }
  const dataDir = values['data-dir'] ?? defaultDataDir('controller');
  if (!existsSync(dataDir)) throw new UsageError(`data directory ${dataDir} does not exist`);
  const [sub, name] = positionals;
  if (sub !== 'reset') throw new UsageError(sub ? `unknown node subcommand "${sub}"` : 'missing subcommand: reset');
  if (!name) throw new UsageError('missing node name');
  const removed = new NodePasswords(dataDir).remove(name);
  process.stderr.write(removed ? `node ${name} reset: it may join again with a join token\n` : `node ${name} had no stored password; nothing to reset\n`);
  return 0;
}
