// Preloaded into a process under test (`--import`): when the process exits, asks V8 to
// optimise a small function and writes whether its optimising compiler did so to the file
// named by OPTIMIZER_PROBE_FILE. That is how a test sees the V8 flags a role set for itself.
import { writeFileSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';

const target = process.env['OPTIMIZER_PROBE_FILE'];

if (target) {
  process.on('exit', () => {
    setFlagsFromString('--allow-natives-syntax');
    // V8's runtime functions are reachable only from source parsed after the flag is set.
    const status = new Function(
      'const f = (a, b) => a * b + 1; %PrepareFunctionForOptimization(f); f(1, 2); f(3, 4);'
      + ' %OptimizeFunctionOnNextCall(f); f(5, 6); return %GetOptimizationStatus(f);',
    )() as number;
    // Bit 4 of the status is "optimized" (V8's OptimizationStatus::kOptimized).
    writeFileSync(target, JSON.stringify({ optimized: (status & 16) !== 0 }));
  });
}
