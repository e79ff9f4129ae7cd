// Preloaded into a process under test (`--import`): when the process exits, writes the npm
// packages it loaded through CommonJS to the file named by LOADED_PACKAGES_FILE. That is
// how a test sees that a heavy library stays unloaded when its feature is off.
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const target = process.env['LOADED_PACKAGES_FILE'];

if (target) {
  process.on('exit', () => {
    const packages = new Set<string>();
    for (const file of Object.keys(require.cache)) {
      const m = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(file);
      if (m) packages.add(m[1]!);
    }
    writeFileSync(target, JSON.stringify([...packages].sort()));
  });
}
