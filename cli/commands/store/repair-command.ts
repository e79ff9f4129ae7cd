// `pikube store repair`: stop the controller first; then every verifying record is kept.
import { parseArgs } from 'node:util';
import { repairStore } from '../../../controller/store/repair.js';
import { STORE_DIR_FLAGS, storeDir } from './store-dir.js';

export async function run(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: STORE_DIR_FLAGS, strict: true });
  if (values.help) { process.stdout.write('Usage: pikube store repair [--data-dir DIR]\n\nWith the controller stopped: copies the damaged files aside, keeps the snapshot if it\nverifies and every log record that verifies, and says exactly what was dropped.\n'); return 0; }
  const result = await repairStore(storeDir(values));
  process.stdout.write(result.lines.join('\n') + '\n');
  return 0;
}
