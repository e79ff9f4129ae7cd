// `pikube store check`: what verifies and what does not, without changing a byte.
import { parseArgs } from 'node:util';
import { inspectStore, report } from '../../../controller/store/inspect.js';
import { STORE_DIR_FLAGS, storeDir } from './store-dir.js';

export async function run(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: STORE_DIR_FLAGS, strict: true });
  if (values.help) { process.stdout.write('Usage: pikube store check [--data-dir DIR]\n\nVerifies every checksum of the snapshot and the log; changes nothing.\nExit 0: the controller can start on it (a torn tail is cut on start); 1: run `pikube store repair`.\n'); return 0; }
  const found = inspectStore(storeDir(values));
  const { lines } = report(found);
  process.stdout.write(lines.join('\n') + '\n');
  return found.snapshotError || found.scan.corrupt.length ? 1 : 0;
}
