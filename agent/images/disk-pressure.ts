// The disk side of the kubelet's eviction manager (pkg/kubelet/eviction): the signals
// nodefs.available (the agent's data dir) and imagefs.available (the runtime's image
// store) against --eviction-hard thresholds. Crossing one sets DiskPressure (which the
// controller turns into the node.kubernetes.io/disk-pressure taint) and first reclaims
// unused images; pressure clears only after the transition period without a crossing.
import type { Logger } from 'pino';
import { fsUsage, type ImageGc, type NodeEventFn } from './image-gc.js';

export type DiskSignal = 'nodefs.available' | 'imagefs.available';
export interface DiskThreshold { signal: DiskSignal; percent?: number; bytes?: number }

const UNITS: Record<string, number> = { '': 1, Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3, Ti: 1024 ** 4, k: 1e3, M: 1e6, G: 1e9, T: 1e12 };

/** "nodefs.available<10%,imagefs.available<15%" (other signals, like memory, are not disk ones and are left out). */
export function parseEvictionHard(text: string): DiskThreshold[] {
  const out: DiskThreshold[] = [];
  for (const part of text.split(',').map((p) => p.trim()).filter(Boolean)) {
    const m = /^([a-z.]+)<(\d+(?:\.\d+)?)(%|[KMGT]i?|)$/.exec(part);
    if (!m) throw new Error(`"${part}" is not SIGNAL<QUANTITY or SIGNAL<PERCENT%`);
    const signal = m[1]!;
    if (signal !== 'nodefs.available' && signal !== 'imagefs.available') {
      if (signal === 'memory.available' || signal.startsWith('nodefs.') || signal.startsWith('imagefs.') || signal.startsWith('pid.')) continue;
      throw new Error(`unknown signal "${signal}"`);
    }
    const n = Number(m[2]);
    if (m[3] === '%') {
      if (n > 100) throw new Error(`"${part}": a percentage above 100`);
      out.push({ signal, percent: n });
    } else {
      out.push({ signal, bytes: n * (UNITS[m[3]!] ?? 1) });
    }
  }
  return out;
}

export interface DiskEvictionOptions { thresholds: DiskThreshold[]; transitionMs: number }

export const DEFAULT_DISK_EVICTION: DiskEvictionOptions = {
  thresholds: [{ signal: 'nodefs.available', percent: 10 }, { signal: 'imagefs.available', percent: 15 }],
  transitionMs: 5 * 60_000,
};

export class DiskPressure {
  private lastObservedAt = -Infinity;
  private pressure = false;

  constructor(
    private readonly opts: DiskEvictionOptions,
    private readonly deps: { nodefsPath: string; gc?: ImageGc; log: Logger; event: NodeEventFn; now?: () => number },
  ) {}

  get underPressure(): boolean {
    return this.pressure;
  }

  private now(): number {
    return this.deps.now?.() ?? Date.now();
  }

  /** The thresholds crossed now. */
  async crossed(): Promise<DiskThreshold[]> {
    const imagefs = (await this.deps.gc?.imageStorePath()) ?? this.deps.nodefsPath;
    const out: DiskThreshold[] = [];
    for (const t of this.opts.thresholds) {
      const fs = await fsUsage(t.signal === 'imagefs.available' ? imagefs : this.deps.nodefsPath);
      if (!fs || fs.capacityBytes <= 0) continue;
      const min = t.percent !== undefined ? (fs.capacityBytes * t.percent) / 100 : t.bytes ?? 0;
      if (fs.availableBytes < min) out.push(t);
    }
    return out;
  }

  /** One check: observe signals, reclaim images when crossed, update the condition. */
  async check(): Promise<boolean> {
    const crossed = await this.crossed();
    // the threshold was met: the condition says so (for the transition period at least),
    // even when reclaiming images below brings the space back at once, as the kubelet reports it
    if (crossed.length) this.lastObservedAt = this.now();
    if (crossed.length && this.deps.gc) {
      // node-level reclaim first, as the kubelet does before evicting pods
      await this.deps.gc.deleteUnused().catch(() => 0);
    }
    const now = this.now();
    const next = crossed.length > 0 || now - this.lastObservedAt < this.opts.transitionMs;
    if (next !== this.pressure) {
      this.pressure = next;
      const what = crossed.map((t) => t.signal).join(', ');
      if (next) {
        this.deps.log.warn({ signals: what }, 'disk pressure');
        this.deps.event('Warning', 'EvictionThresholdMet', `Attempting to reclaim ephemeral-storage${what ? ` (${what})` : ''}`);
      }
      this.deps.event('Normal', next ? 'NodeHasDiskPressure' : 'NodeHasNoDiskPressure', `Node status is now: ${next ? 'NodeHasDiskPressure' : 'NodeHasNoDiskPressure'}`);
    }
    return this.pressure;
  }
}
