// Makes sure a container's image is present according to its pull policy, with the
// kubelet's events (Pulling, Pulled, Failed, BackOff) and pull back-off. Concurrent
// pulls of the same image share one runtime pull.
import type { Container } from '../../protocol/kube/types.js';
import { RuntimeError, type ContainerRuntime, type PullPolicy } from '../runtime/types.js';
import type { Backoff } from './backoff.js';
import type { Clock } from './clock.js';

export type EventFn = (type: 'Normal' | 'Warning', reason: string, message: string) => void;

export type PullOutcome =
  | { ok: true }
  | { ok: false; reason: 'ErrImagePull' | 'ImagePullBackOff' | 'ErrImageNeverPull'; message: string; retryInMs?: number };

/** Upstream default: Always for `:latest` or no tag, IfNotPresent otherwise. */
export function effectivePullPolicy(c: Container): PullPolicy {
  if (c.imagePullPolicy) return c.imagePullPolicy;
  const ref = c.image;
  if (ref.includes('@')) return 'IfNotPresent';
  const lastPart = ref.slice(ref.lastIndexOf('/') + 1);
  const tag = lastPart.includes(':') ? lastPart.slice(lastPart.indexOf(':') + 1) : '';
  return tag === '' || tag === 'latest' ? 'Always' : 'IfNotPresent';
}

export class ImagePuller {
  private readonly inflight = new Map<string, Promise<void>>();
  private readonly lastFailure = new Map<string, number>();
  /** Presence checks started ahead of time (while the sandbox is being made), by image. */
  private readonly early = new Map<string, { at: number; present: Promise<boolean> }>();

  constructor(private readonly runtime: ContainerRuntime, private readonly backoff: Backoff, private readonly clock: Clock) {}

  /** Starts the presence check of a container's image now, for an ensure() that follows shortly. */
  warm(c: Container): void {
    const e = this.early.get(c.image);
    if (effectivePullPolicy(c) === 'Always' || (e && this.clock.now() - e.at < 5000)) return;
    this.early.set(c.image, { at: this.clock.now(), present: this.runtime.imageExists(c.image).catch(() => false) });
  }

  private async present(image: string): Promise<boolean> {
    const e = this.early.get(image);
    this.early.delete(image);
    if (e && this.clock.now() - e.at < 5000) return e.present;
    return this.runtime.imageExists(image);
  }

  /** key identifies the container (pod uid + name) for back-off. */
  async ensure(c: Container, key: string, event: EventFn): Promise<PullOutcome> {
    const image = c.image;
    const policy = effectivePullPolicy(c);
    if (policy !== 'Always') {
      const present = await this.present(image);
      if (present) {
        event('Normal', 'Pulled', `Container image "${image}" already present on machine`);
        return { ok: true };
      }
      if (policy === 'Never') {
        const message = `Container image "${image}" is not present with pull policy of Never`;
        event('Warning', 'ErrImageNeverPull', message);
        event('Warning', 'Failed', 'Error: ErrImageNeverPull');
        return { ok: false, reason: 'ErrImageNeverPull', message };
      }
    }
    const failedAt = this.lastFailure.get(key);
    if (failedAt !== undefined && this.backoff.inBackoff(key, failedAt)) {
      const message = `Back-off pulling image "${image}"`;
      event('Normal', 'BackOff', message);
      return { ok: false, reason: 'ImagePullBackOff', message, retryInMs: this.backoff.remaining(key, failedAt) };
    }
    event('Normal', 'Pulling', `Pulling image "${image}"`);
    const t0 = this.clock.now();
    try {
      await this.pullOnce(image);
    } catch (err) {
      this.lastFailure.set(key, this.clock.now());
      this.backoff.next(key);
      const detail = err instanceof RuntimeError || err instanceof Error ? err.message : String(err);
      const message = `Failed to pull image "${image}": ${detail}`;
      event('Warning', 'Failed', message);
      event('Warning', 'Failed', 'Error: ErrImagePull');
      return { ok: false, reason: 'ErrImagePull', message, retryInMs: this.backoff.remaining(key, this.clock.now()) };
    }
    this.lastFailure.delete(key);
    this.backoff.reset(key);
    event('Normal', 'Pulled', `Successfully pulled image "${image}" in ${this.clock.now() - t0}ms`);
    return { ok: true };
  }

  private pullOnce(image: string): Promise<void> {
    let p = this.inflight.get(image);
    if (!p) {
      p = this.runtime.pull(image).finally(() => this.inflight.delete(image));
      this.inflight.set(image, p);
    }
    return p;
  }

  forgetPrefix(prefix: string): void {
    for (const k of this.lastFailure.keys()) if (k.startsWith(prefix)) this.lastFailure.delete(k);
    this.backoff.forgetPrefix(prefix);
  }
}
