// The board's platform as image indexes name it: kubernetes.io/arch plus, on ARM, the
// variant (v6 for a Pi Zero/1, v7 for a Pi 2/3 on 32-bit, v8 for a 64-bit kernel), from
// the "CPU architecture" line of /proc/cpuinfo. A simulated node may pose as another
// board (PIKUBE_SIMULATED_ARCH=arm64, arm/v7, ...) so placement can be tested on one machine.
import { readFileSync } from 'node:fs';

export const SIMULATED_ARCH_ENV = 'PIKUBE_SIMULATED_ARCH';
/** Same key the controller's scheduler reads. */
export const ARCH_VARIANT_LABEL = 'pikube.io/arch-variant';

export interface NodePlatform { architecture: string; variant?: string }

/** "7" → v7; the ARMv8 cores of 64-bit Pis say 8. */
export function armVariantFromCpuinfo(cpuinfo: string): string | undefined {
  const m = /^CPU architecture\s*:\s*(\d+)/m.exec(cpuinfo);
  return m ? `v${m[1]}` : undefined;
}

export function parsePlatform(text: string): NodePlatform {
  const [architecture, variant] = text.trim().split('/');
  if (!architecture || !/^[a-z0-9_]+$/.test(architecture) || (variant !== undefined && !/^v\d+$/.test(variant))) {
    throw new Error(`${SIMULATED_ARCH_ENV}="${text}" must be ARCH or ARCH/VARIANT, e.g. arm64 or arm/v7`);
  }
  return variant ? { architecture, variant } : { architecture };
}

export function nodePlatform(goArchitecture: string, simulated: boolean): NodePlatform {
  const forced = simulated ? process.env[SIMULATED_ARCH_ENV] : undefined;
  if (forced) {
    const p = parsePlatform(forced);
    return p.architecture === 'arm64' && !p.variant ? { ...p, variant: 'v8' } : p;
  }
  if (goArchitecture === 'arm64') return { architecture: 'arm64', variant: 'v8' };
  if (goArchitecture !== 'arm') return { architecture: goArchitecture };
  let variant: string | undefined;
  try {
    variant = armVariantFromCpuinfo(readFileSync('/proc/cpuinfo', 'utf8'));
  } catch { /* not Linux */ }
  return { architecture: 'arm', variant: variant ?? 'v7' };
}
