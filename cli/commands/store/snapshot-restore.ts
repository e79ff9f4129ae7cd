// `pikube store snapshot restore FILE --data-dir DIR`
import { parseArgs } from 'node:util';
import { restoreSnapshot } from '../../../controller/store/restore.js';
import { UsageError } from '../../args.js';

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, strict: true, options: { 'data-dir': { type: 'string' }, help: { type: 'boolean', short: 'h' } } });
  if (values.help) { process.stdout.write('Usage: pikube store snapshot restore FILE --data-dir DIR\n\nVerifies FILE and makes it the store of DIR, a new data directory; then start\n`pikube controller --data-dir DIR`. It gets fresh certificates and tokens unless you copy\nthe old data directory\'s other files in first.\n'); return 0; }
  const [file, ...extra] = positionals;
  if (!file || extra.length) throw new UsageError('give exactly one snapshot FILE');
  if (!values['data-dir']) throw new UsageError('--data-dir DIR is required: the new data directory to restore into');
  const r = await restoreSnapshot(file, values['data-dir']);
  process.stdout.write(`restored revision ${r.revision} (${r.objects} objects) into ${r.storeDir}\n`);
  return 0;
}
