// Image garbage collection like the kubelet's (pkg/kubelet/images/image_gc_manager.go):
// when the image store's filesystem is used above the high threshold, unused images are
// removed, least recently used first (then first detected first), until usage is back
// at the low threshold. An image is in use while any container (running or not) was
// made from it; sandbox images are pinned; images younger than the minimum age stay.
import { stat, statfs } from 'node:fs/promises';
import type { Logger } from 'pino';
import type { ContainerRuntime, RuntimeImage } from '../runtime/container-runtime.js';

export interface ImageGcOptions {
  highThresholdPercent: number;
  lowThresholdPercent: number;
  /** Unused images first seen less than this long ago are kept. */
  minAgeMs: number;
  /** How often the store is checked. */
  periodMs: number;
}

export const DEFAULT_IMAGE_GC: ImageGcOptions = { highThresholdPercent: 85, lowThresholdPercent: 80, minAgeMs: 2 * 60_000, periodMs: 5 * 60_000 };

/** kubelet's nodeStatusMaxImages: the Node lists the 50 biggest. */
export const NODE_STATUS_MAX_IMAGES = 50;
/**
 * The kubelet re-reads its image list every 30 s through CRI, which is cheap; through a
 * container CLI each reading is two processes (about 1 % of a core at 30 s). The list
 * changes by our own pulls and starts (read again 3 s after), by collection (kept up to
 * date here) and by hand: those show within this period.
 */
const IMAGE_LIST_REFRESH_MS = 5 * 60_000;
/** Quiet time after an image was used before the list (for the Node's status) is read again. */
const USED_REFRESH_DELAY_MS = 3000;

interface Record_ { firstDetected: number; lastUsed: number; size: number }

export interface FsUsage { capacityBytes: number; availableBytes: number; /** st_dev: two paths on one filesystem share it. */ device: number }

export async function fsUsage(path: string): Promise<FsUsage | undefined> {
  try {
    const [s, st] = await Promise.all([statfs(path), stat(path)]);
    return { capacityBytes: s.blocks * s.bsize, availableBytes: s.bavail * s.bsize, device: st.dev };
  } catch {
    return undefined;
  }
}

export type NodeEventFn = (type: 'Normal' | 'Warning', reason: string, message: string) => void;

export class ImageGc {
  private readonly records = new Map<string, Record_>();
  /** References pulled or started recently, by name, until the next detection maps them to ids. */
  private readonly usedRefs = new Map<string, number>();
  private timer?: NodeJS.Timeout;
  private listTimer?: NodeJS.Timeout;
  private refreshSoon?: NodeJS.Timeout;
  private running?: Promise<void>;
  private lastImages: RuntimeImage[] = [];
  private storePath?: string;
  /** Images removed, oldest first, for logs and tests. */
  readonly removed: RuntimeImage[] = [];

  constructor(
    private readonly runtime: ContainerRuntime,
    private readonly opts: ImageGcOptions,
    private readonly deps: { log: Logger; event: NodeEventFn; pinned: (img: RuntimeImage) => boolean; now?: () => number; onRemoved?: (img: RuntimeImage) => void },
  ) {}

  private now(): number {
    return this.deps.now?.() ?? Date.now();
  }

  start(): void {
    const tick = () => {
      void this.runOnce().finally(() => {
        if (this.timer !== undefined) this.timer = setTimeout(tick, this.opts.periodMs).unref();
      });
    };
    this.timer = setTimeout(tick, Math.min(this.opts.periodMs, 1000)).unref();
    // each collection pass reads the list too; a separate reading only when passes are rarer
    if (this.opts.periodMs > IMAGE_LIST_REFRESH_MS) this.listTimer = setInterval(() => void this.refreshList(), IMAGE_LIST_REFRESH_MS).unref();
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    if (this.listTimer) clearInterval(this.listTimer);
    if (this.refreshSoon) clearTimeout(this.refreshSoon);
    this.timer = undefined;
  }

  /** An image reference was pulled or a container started from it. */
  used(ref: string): void {
    this.usedRefs.set(ref, this.now());
    if (this.timer === undefined) return;
    // Trailing: the listing takes podman's lock, so it waits until a burst of pod starts is over.
    if (this.refreshSoon) clearTimeout(this.refreshSoon);
    this.refreshSoon = setTimeout(() => { this.refreshSoon = undefined; void this.refreshList(); }, USED_REFRESH_DELAY_MS).unref();
  }

  private async refreshList(): Promise<void> {
    try {
      this.lastImages = await this.runtime.listImages();
    } catch { /* next time */ }
  }

  /** The store's images as the Node lists them: biggest first, at most 50. */
  nodeImages(): { names: string[]; sizeBytes: number }[] {
    return [...this.lastImages]
      .filter((i) => i.names.length > 0)
      .sort((a, b) => b.sizeBytes - a.sizeBytes)
      .slice(0, NODE_STATUS_MAX_IMAGES)
      .map((i) => ({ names: [...i.names.filter((n) => n.includes('@')), ...i.names.filter((n) => !n.includes('@'))], sizeBytes: i.sizeBytes }));
  }

  async imageStorePath(): Promise<string | undefined> {
    this.storePath ??= await this.runtime.imageStorePath?.().catch(() => undefined);
    return this.storePath;
  }

  /** One detection and, above the high threshold, one collection; never two at once. */
  runOnce(): Promise<void> {
    this.running ??= this.collectIfNeeded()
      .catch((err) => this.deps.log.warn({ err: String(err) }, 'image garbage collection failed'))
      .finally(() => { this.running = undefined; });
    return this.running;
  }

  /** Lists images, records first/last use; returns the ids in use. */
  async detect(): Promise<{ images: RuntimeImage[]; inUse: Set<string> }> {
    const now = this.now();
    const [images, containers] = await Promise.all([this.runtime.listImages(), this.runtime.list({})]);
    const inUseRefs = new Set<string>();
    for (const c of containers) {
      if (c.imageId) inUseRefs.add(c.imageId);
      inUseRefs.add(c.image);
    }
    const inUse = new Set<string>();
    const seen = new Set<string>();
    for (const img of images) {
      seen.add(img.id);
      let r = this.records.get(img.id);
      if (!r) this.records.set(img.id, (r = { firstDetected: now, lastUsed: 0, size: img.sizeBytes }));
      r.size = img.sizeBytes;
      const names = [img.id, ...img.names, ...img.names.map(shortName)];
      if (names.some((n) => inUseRefs.has(n))) {
        inUse.add(img.id);
        r.lastUsed = now;
      }
      for (const n of names) {
        const t = this.usedRefs.get(n);
        if (t !== undefined && t > r.lastUsed) r.lastUsed = t;
      }
    }
    for (const id of [...this.records.keys()]) if (!seen.has(id)) this.records.delete(id);
    this.usedRefs.clear();
    this.lastImages = images;
    return { images, inUse };
  }

  private async collectIfNeeded(): Promise<void> {
    const { images, inUse } = await this.detect();
    const path = await this.imageStorePath();
    if (!path) return;
    const fs = await fsUsage(path);
    if (!fs || fs.capacityBytes <= 0) return;
    const usagePercent = 100 - Math.floor((fs.availableBytes * 100) / fs.capacityBytes);
    if (usagePercent < this.opts.highThresholdPercent) return;
    const toFree = Math.floor((fs.capacityBytes * (100 - this.opts.lowThresholdPercent)) / 100) - fs.availableBytes;
    this.deps.log.info({ usagePercent, high: this.opts.highThresholdPercent, toFree }, 'image store above the high threshold; removing unused images');
    const freed = await this.free(images, inUse, toFree, false);
    if (freed < toFree) {
      this.deps.event('Warning', 'FreeDiskSpaceFailed', `Failed to garbage collect required amount of images. Attempted to free ${toFree} bytes, but only found ${freed} bytes eligible to free.`);
    }
  }

  /** Removes every unused image (disk pressure): the kubelet's DeleteUnusedImages. */
  async deleteUnused(): Promise<number> {
    const { images, inUse } = await this.detect();
    return this.free(images, inUse, Number.POSITIVE_INFINITY, true);
  }

  private async free(images: RuntimeImage[], inUse: Set<string>, bytes: number, ignoreAge: boolean): Promise<number> {
    const now = this.now();
    const candidates = images
      .filter((i) => !inUse.has(i.id) && !this.deps.pinned(i))
      .map((i) => ({ img: i, rec: this.records.get(i.id)! }))
      .filter((c) => c.rec && (ignoreAge || now - c.rec.firstDetected >= this.opts.minAgeMs))
      .sort((a, b) => a.rec.lastUsed - b.rec.lastUsed || a.rec.firstDetected - b.rec.firstDetected || (a.img.created ?? '').localeCompare(b.img.created ?? ''));
    let freed = 0;
    for (const { img } of candidates) {
      if (freed >= bytes) break;
      try {
        await this.runtime.removeImage(img);
      } catch (err) {
        // refused: a container was made from it meanwhile
        this.deps.log.info({ image: img.names[0] ?? img.id, err: String(err) }, 'image not removed');
        continue;
      }
      freed += img.sizeBytes;
      this.records.delete(img.id);
      this.removed.push(img);
      this.deps.onRemoved?.(img);
      this.lastImages = this.lastImages.filter((i) => i.id !== img.id);
      this.deps.log.info({ image: img.names[0] ?? img.id, sizeBytes: img.sizeBytes }, 'removed unused image');
    }
    return freed;
  }
}

/** docker.io/library/x:1 is listed by some runtimes as x:1. */
function shortName(name: string): string {
  return name.replace(/^docker\.io\/(library\/)?/, '');
}
