// The disk side of the kubelet's eviction manager (pkg/kubelet/eviction): the signals
// nodefs.available (the agent's data dir) and imagefs.available (the runtime's image
// store) against --eviction-hard and --eviction-soft thresholds. Crossing one sets
// DiskPressure (which the controller turns into the node.kubernetes.io/disk-pressure
// taint); once a hard threshold (or a soft one for its grace period) stays crossed, unused
// images are reclaimed first and, when that is not enough, one pod is evicted per round.
// Pressure clears only after the transition period without a crossing.
import type { Logger } from 'pino';
import { fsUsage, type FsUsage, type ImageGc, type NodeEventFn } from './image-gc.js';

export type DiskSignal = 'nodefs.available' | 'imagefs.available';
export interface DiskThreshold {
  signal: DiskSignal;
  percent?: number;
  bytes?: number;
  /** Soft thresholds only: how long the crossing must last before pods are evicted. */
  gracePeriodMs?: number;
}

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

/**
 * --eviction-soft with --eviction-soft-grace-period ("imagefs.available=2m"): as the
 * kubelet requires, every soft threshold needs its grace period.
 */
export function parseEvictionSoft(text: string, graceText: string, parseDuration: (s: string) => number): DiskThreshold[] {
  const grace = new Map<string, number>();
  for (const part of graceText.split(',').map((p) => p.trim()).filter(Boolean)) {
    const eq = part.indexOf('=');
    if (eq <= 0) throw new Error(`"${part}" is not SIGNAL=DURATION`);
    grace.set(part.slice(0, eq), parseDuration(part.slice(eq + 1)));
  }
  return parseEvictionHard(text).map((t) => {
    const g = grace.get(t.signal);
    if (g === undefined) throw new Error(`grace period must be specified for the soft eviction threshold ${t.signal}`);
    return { ...t, gracePeriodMs: g };
  });
}

export interface DiskEvictionOptions { thresholds: DiskThreshold[]; transitionMs: number }

export const DEFAULT_DISK_EVICTION: DiskEvictionOptions = {
  thresholds: [{ signal: 'nodefs.available', percent: 10 }, { signal: 'imagefs.available', percent: 15 }],
  transitionMs: 5 * 60_000,
};

/** A threshold crossed, with what was observed: what an eviction message reports. */
export interface Starvation {
  threshold: DiskThreshold;
  /** The threshold in bytes for the filesystem's capacity. */
  thresholdBytes: number;
  availableBytes: number;
  /** The image store and the data dir are on one filesystem. */
  sharedFs: boolean;
}

/** Evicts one pod for the starved resource; resolves once it is cleaned up, false when none could be. */
export type EvictFn = (s: Starvation) => Promise<boolean>;

export class DiskPressure {
  private lastObservedAt = -Infinity;
  private readonly firstObservedAt = new Map<DiskThreshold, number>();
  private pressure = false;

  constructor(
    private readonly opts: DiskEvictionOptions,
    private readonly deps: { nodefsPath: string; gc?: ImageGc; log: Logger; event: NodeEventFn; evict?: EvictFn; onChange?: (pressure: boolean) => void; now?: () => number },
  ) {}

  get underPressure(): boolean {
    return this.pressure;
  }

  private now(): number {
    return this.deps.now?.() ?? Date.now();
  }

  private async observe(): Promise<{ crossed: Starvation[]; sharedFs: boolean }> {
    const imagefsPath = (await this.deps.gc?.imageStorePath()) ?? this.deps.nodefsPath;
    const [nodefs, imagefs] = await Promise.all([fsUsage(this.deps.nodefsPath), fsUsage(imagefsPath)]);
    const sharedFs = imagefsPath === this.deps.nodefsPath || (!!nodefs && !!imagefs && nodefs.device === imagefs.device);
    const crossed: Starvation[] = [];
    for (const t of this.opts.thresholds) {
      const fs: FsUsage | undefined = t.signal === 'imagefs.available' ? imagefs : nodefs;
      if (!fs || fs.capacityBytes <= 0) continue;
      // the kubelet's GetThresholdQuantity: a percentage of capacity, truncated to bytes
      const thresholdBytes = t.percent !== undefined ? Math.floor((fs.capacityBytes * t.percent) / 100) : t.bytes ?? 0;
      if (fs.availableBytes < thresholdBytes) crossed.push({ threshold: t, thresholdBytes, availableBytes: fs.availableBytes, sharedFs });
    }
    return { crossed, sharedFs };
  }

  /** The thresholds crossed now. */
  async crossed(): Promise<DiskThreshold[]> {
    return (await this.observe()).crossed.map((s) => s.threshold);
  }

  /**
   * One round of the eviction manager: observe, update the condition, and for thresholds
   * due (hard, or soft past their grace period) reclaim unused images, then evict one pod
   * if that was not enough.
   */
  async check(): Promise<boolean> {
    const { crossed } = await this.observe();
    const now = this.now();
    // the threshold was met: the condition says so (for the transition period at least),
    // even when reclaiming images below brings the space back at once, as the kubelet reports it
    if (crossed.length) this.lastObservedAt = now;
    for (const t of [...this.firstObservedAt.keys()]) if (!crossed.some((s) => s.threshold === t)) this.firstObservedAt.delete(t);
    for (const s of crossed) if (!this.firstObservedAt.has(s.threshold)) this.firstObservedAt.set(s.threshold, now);
    const next = crossed.length > 0 || now - this.lastObservedAt < this.opts.transitionMs;
    if (next !== this.pressure) {
      this.pressure = next;
      if (next) this.deps.log.warn({ signals: crossed.map((s) => s.threshold.signal).join(', ') }, 'disk pressure');
      this.deps.event('Normal', next ? 'NodeHasDiskPressure' : 'NodeHasNoDiskPressure', `Node status is now: ${next ? 'NodeHasDiskPressure' : 'NodeHasNoDiskPressure'}`);
      this.deps.onChange?.(next);
    }
    const due = crossed.filter((s) => now - (this.firstObservedAt.get(s.threshold) ?? now) >= (s.threshold.gracePeriodMs ?? 0));
    if (due.length) await this.reclaim(due[0]!);
    return this.pressure;
  }

  private async reclaim(starved: Starvation): Promise<void> {
    this.deps.event('Warning', 'EvictionThresholdMet', 'Attempting to reclaim ephemeral-storage');
    // node-level reclaim first, as the kubelet does before evicting pods: with one shared
    // filesystem both signals are helped by removing images; nodefs on its own disk is not
    if (this.deps.gc && (starved.sharedFs || starved.threshold.signal === 'imagefs.available')) {
      await this.deps.gc.deleteUnused().catch(() => 0);
      const after = await this.observe();
      if (!after.crossed.length) {
        this.deps.log.info({ signal: starved.threshold.signal }, 'disk pressure relieved without evicting pods');
        return;
      }
      starved = after.crossed.find((s) => s.threshold === starved.threshold) ?? after.crossed[0]!;
    }
    if (!this.deps.evict) return;
    this.deps.log.warn({ signal: starved.threshold.signal, availableBytes: starved.availableBytes, thresholdBytes: starved.thresholdBytes }, 'must evict a pod to reclaim ephemeral-storage');
    const evicted = await this.deps.evict(starved).catch((err) => {
      this.deps.log.warn({ err: String(err) }, 'eviction failed');
      return false;
    });
    if (!evicted) this.deps.log.warn({}, 'unable to evict any pods from the node');
  }
}
