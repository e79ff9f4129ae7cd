// The agent's image flags: registries config, podman store, image GC and disk eviction
// thresholds (the kubelet's --image-gc-* and --eviction-hard, for disk signals).
import { readFileSync } from 'node:fs';
import { RegistrySettings } from '../../agent/images/registries-config.js';
import type { AgentOptions } from '../../agent/agent.js';
import { parseEvictionHard, parseEvictionSoft } from '../../agent/images/disk-pressure.js';
import { parseRegistriesConfig, RegistriesConfigError } from '../../protocol/images/registries-yaml.js';
import { parseDuration, UsageError } from '../args.js';

type Values = Record<string, string | boolean | undefined>;

function percent(v: Values, flag: string): number {
  const n = Number(v[flag]);
  if (!Number.isInteger(n) || n < 0 || n > 100) throw new UsageError(`--${flag} must be a whole percentage between 0 and 100, got "${String(v[flag])}"`);
  return n;
}

export function imageFlags(v: Values): Pick<AgentOptions, 'registries' | 'podmanRoot' | 'imageGc' | 'diskEviction'> {
  const high = percent(v, 'image-gc-high-threshold');
  const low = percent(v, 'image-gc-low-threshold');
  if (low > high) throw new UsageError(`--image-gc-low-threshold (${low}) must not be above --image-gc-high-threshold (${high})`);
  const out: ReturnType<typeof imageFlags> = {
    imageGc: {
      highThresholdPercent: high, lowThresholdPercent: low,
      minAgeMs: parseDuration(String(v['image-minimum-gc-age']), '--image-minimum-gc-age'),
      periodMs: parseDuration(String(v['image-gc-period']), '--image-gc-period'),
    },
  };
  try {
    out.diskEviction = {
      thresholds: [
        ...parseEvictionHard(String(v['eviction-hard'])),
        ...parseEvictionSoft(String(v['eviction-soft'] ?? ''), String(v['eviction-soft-grace-period'] ?? ''), (d) => parseDuration(d, '--eviction-soft-grace-period')),
      ],
      transitionMs: parseDuration(String(v['eviction-pressure-transition-period']), '--eviction-pressure-transition-period'),
    };
  } catch (err) {
    if (err instanceof UsageError) throw err;
    throw new UsageError(`--eviction-hard/--eviction-soft: ${(err as Error).message}`);
  }
  const file = v['registries-config'];
  if (typeof file === 'string') {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      throw new UsageError(`--registries-config: cannot read ${file}: ${(err as Error).message}`);
    }
    try {
      out.registries = new RegistrySettings(parseRegistriesConfig(text));
    } catch (err) {
      if (err instanceof RegistriesConfigError) throw new UsageError(`--registries-config ${file}: ${err.message}`);
      throw err;
    }
  }
  if (typeof v['podman-root'] === 'string') {
    if (v['runtime'] !== 'podman') throw new UsageError('--podman-root needs --runtime podman');
    out.podmanRoot = v['podman-root'];
  }
  return out;
}
