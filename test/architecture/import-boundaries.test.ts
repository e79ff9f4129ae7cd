// The dependency rule (cli → controller/agent → protocol; inside the controller, loops →
// client → apiserver → store; tests and benchmarks share code only through test/helpers/) is
// enforced by the linter in `npm test`. This plants wrong-direction imports in a scratch
// tree under the project's own lint configuration and checks that each one is refused
// while the allowed directions pass.
import test from 'ava';
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const BIOME = join(ROOT, 'node_modules', '.bin', 'biome');

/** file path in the scratch tree → the module it imports, and whether the rule allows it. */
const CASES: { file: string; from: string; allowed: boolean }[] = [
  { file: 'agent/pods/a.ts', from: '../../controller/control-plane.js', allowed: false },
  { file: 'agent/pods/b.ts', from: '../../protocol/kube/types.js', allowed: true },
  { file: 'controller/bridge/c.ts', from: '../../agent/agent.js', allowed: false },
  { file: 'controller/bridge/d.ts', from: '../apiserver/client.js', allowed: true },
  { file: 'protocol/mqtt/e.ts', from: '../../controller/broker/acl.js', allowed: false },
  { file: 'protocol/mqtt/f.ts', from: '../kube/types.js', allowed: true },
  { file: 'controller/store/g.ts', from: '../apiserver/errors.js', allowed: false },
  { file: 'controller/apiserver/h.ts', from: '../controller-manager/deployment-controller.js', allowed: false },
  { file: 'controller/apiserver/h2.ts', from: '../client/informer.js', allowed: false },
  { file: 'controller/client/n.ts', from: '../controller-manager/deployment-controller.js', allowed: false },
  { file: 'controller/client/o.ts', from: '../apiserver/client.js', allowed: true },
  { file: 'controller/controller-manager/p.ts', from: '../client/informer.js', allowed: true },
  { file: 'controller/apiserver/i.ts', from: '../store/backend.js', allowed: true },
  { file: 'test/e2e/j.ts', from: '../../bench/run.js', allowed: false },
  { file: 'bench/k.ts', from: '../test/e2e/kubectl-flow.test.js', allowed: false },
  { file: 'bench/l.ts', from: '../test/helpers/processes.js', allowed: true },
  { file: 'cli/commands/m.ts', from: '../../controller/control-plane.js', allowed: true },
];

test('the linter refuses every wrong-direction import and passes the allowed ones', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'pikube-lint-'));
  try {
    const config = readFileSync(join(ROOT, 'biome.json'), 'utf8').replace(/"\$schema":\s*"[^"]*",?/, '');
    writeFileSync(join(dir, 'biome.json'), config);
    for (const c of CASES) {
      mkdirSync(join(dir, dirname(c.file)), { recursive: true });
      writeFileSync(join(dir, c.file), `import * as m from '${c.from}';\nexport const used = m;\n`);
    }
    const run = await execa(BIOME, ['lint', '--max-diagnostics=200', '--colors=off'], { cwd: dir, reject: false, all: true });
    t.not(run.exitCode, 0, 'the planted wrong imports must fail the lint run');
    const flagged = new Set([...run.all.matchAll(/^(\S+\.ts):\d+:\d+ lint\/style\/noRestrictedImports/gm)].map((m) => m[1]));
    for (const c of CASES) t.is(flagged.has(c.file), !c.allowed, `${c.file} importing ${c.from}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
