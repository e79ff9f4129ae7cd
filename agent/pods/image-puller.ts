// Makes sure a container's image is present according to its pull policy, with the
// kubelet's events (Pulling, Pulled, Failed, BackOff) and pull back-off
// (pkg/kubelet/images/image_manager.go). One pull per image (and credential) at a time:
// pods that need it meanwhile wait for that pull. With several credentials for a
// registry each is tried in turn, as the kubelet's keyring does.
import type { Container } from '../../protocol/kube/types.js';
import type { RegistryCredential } from '../../protocol/images/docker-config.js';
import { pullCredentialsFor } from '../images/pull-credentials.js';
import { RuntimeError, type ContainerRuntime, type PullCredential, type PullPolicy } from '../runtime/container-runtime.js';
import { goDuration, type Backoff } from './backoff.js';
import type { Clock } from './clock.js';

/** `at` (ms since the epoch) when the event happened earlier than it is told. */
export type EventFn = (type: 'Normal' | 'Warning', reason: string, message: string, at?: number) => void;

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

export interface ImagePullerOptions {
  /** Credentials the agent's registries config holds for a registry host. */
  configuredCredential?: (registry: string) => { username: string; password: string } | undefined;
  /** Told when an image was pulled or used, for image garbage collection. */
  onImageUsed?: (image: string) => void;
}

interface PullResult { totalMs: number; pullMs: number; sizeBytes: Promise<number | undefined> }

/** A prefetched outcome older than this is not trusted: the pass that wanted it never came. */
const PREFETCH_FRESH_MS = 30_000;
/**
 * An image seen in the store this recently is not asked about again: the check is a CLI
 * call (~80 ms with podman), where the kubelet's is a CRI call. Shorter than the image
 * GC's default minimum age, and a run that then finds the image gone makes it forgotten.
 */
const PRESENT_FRESH_MS = 60_000;

export class ImagePuller {
  private readonly inflight = new Map<string, Promise<{ pullMs: number; sizeBytes: Promise<number | undefined> }>>();
  private readonly lastFailure = new Map<string, { at: number; message: string }>();
  /** ensure() outcomes started ahead of time (while the sandbox is being made), by container key. */
  private readonly prefetched = new Map<string, { image: string; at: number; outcome: Promise<PullOutcome> }>();
  /** When each image was last seen in the store. */
  private readonly present = new Map<string, number>();
  /** Pulls the runtime has done, for tests and metrics. */
  pulls = 0;

  constructor(
    private readonly runtime: ContainerRuntime,
    private readonly backoff: Backoff,
    private readonly clock: Clock,
    private readonly opts: ImagePullerOptions = {},
  ) {}

  /**
   * Starts ensure() for a container about to start, while its sandbox is being made: the
   * presence check and, when needed, the pull then overlap the sandbox instead of
   * following it. The ensure() that follows takes this outcome.
   */
  prefetch(c: Container, key: string, event: EventFn, podCredentials: readonly RegistryCredential[] = []): void {
    const e = this.prefetched.get(key);
    if (e && e.image === c.image && this.clock.now() - e.at < PREFETCH_FRESH_MS) return;
    const outcome = this.ensureNow(c, key, event, podCredentials);
    outcome.catch(() => undefined);
    this.prefetched.set(key, { image: c.image, at: this.clock.now(), outcome });
  }

  /** key identifies the container (pod uid + name) for back-off; credentials come from the pod's pull secrets. */
  ensure(c: Container, key: string, event: EventFn, podCredentials: readonly RegistryCredential[] = []): Promise<PullOutcome> {
    const e = this.prefetched.get(key);
    this.prefetched.delete(key);
    if (e && e.image === c.image && this.clock.now() - e.at < PREFETCH_FRESH_MS) return e.outcome;
    return this.ensureNow(c, key, event, podCredentials);
  }

  private async ensureNow(c: Container, key: string, event: EventFn, podCredentials: readonly RegistryCredential[]): Promise<PullOutcome> {
    const image = c.image;
    const policy = effectivePullPolicy(c);
    if (policy !== 'Always') {
      const seen = this.present.get(image);
      const fresh = seen !== undefined && this.clock.now() - seen < PRESENT_FRESH_MS;
      if (fresh || (await this.runtime.imageExists(image))) {
        if (!fresh) this.present.set(image, this.clock.now());
        this.opts.onImageUsed?.(image);
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
    const failed = this.lastFailure.get(key);
    if (failed !== undefined && this.backoff.inBackoff(key, failed.at)) {
      event('Normal', 'BackOff', `Back-off pulling image "${image}"`);
      // the status keeps the registry's reason, as upstream's "Back-off pulling image …: ErrImagePull: …"
      return { ok: false, reason: 'ImagePullBackOff', message: `Back-off pulling image "${image}": ErrImagePull: ${failed.message}`, retryInMs: this.backoff.remaining(key, failed.at) };
    }
    event('Normal', 'Pulling', `Pulling image "${image}"`);
    let result: PullResult;
    try {
      result = await this.pullWithCredentials(image, pullCredentialsFor(image, podCredentials, this.opts.configuredCredential));
    } catch (err) {
      const detail = err instanceof RuntimeError || err instanceof Error ? err.message : String(err);
      const message = `Failed to pull image "${image}": ${detail}`;
      this.lastFailure.set(key, { at: this.clock.now(), message });
      this.backoff.next(key);
      event('Warning', 'Failed', message);
      event('Warning', 'Failed', 'Error: ErrImagePull');
      return { ok: false, reason: 'ErrImagePull', message, retryInMs: this.backoff.remaining(key, this.clock.now()) };
    }
    this.lastFailure.delete(key);
    this.backoff.reset(key);
    this.present.set(image, this.clock.now());
    this.opts.onImageUsed?.(image);
    // the size takes one more runtime call: the container starts meanwhile, and the event
    // carries the time the pull ended
    const pulledAt = this.clock.now();
    void result.sizeBytes.then((bytes) => {
      const size = bytes !== undefined ? ` Image size: ${bytes} bytes.` : '';
      event('Normal', 'Pulled', `Successfully pulled image "${image}" in ${goDuration(result.pullMs)} (${goDuration(result.totalMs)} including waiting).${size}`, pulledAt);
    });
    return { ok: true };
  }

  private async pullWithCredentials(image: string, creds: PullCredential[]): Promise<PullResult> {
    const t0 = this.clock.now();
    const attempts: (PullCredential | undefined)[] = creds.length ? creds : [undefined];
    let lastErr: unknown;
    for (const cred of attempts) {
      try {
        const r = await this.pullOnce(image, cred);
        return { totalMs: Math.max(r.pullMs, this.clock.now() - t0), ...r };
      } catch (err) {
        lastErr = err;
        // only refused credentials make another credential worth a try
        if (!(err instanceof RuntimeError && err.kind === 'Unauthorized')) throw err;
      }
    }
    throw lastErr;
  }

  private pullOnce(image: string, cred: PullCredential | undefined): Promise<{ pullMs: number; sizeBytes: Promise<number | undefined> }> {
    const key = `${image}\0${cred ? `${cred.username}\0${cred.password}` : ''}`;
    let p = this.inflight.get(key);
    if (!p) {
      const started = this.clock.now();
      this.pulls++;
      p = this.runtime.pull(image, cred ? { credential: cred } : {})
        .then(() => ({ pullMs: this.clock.now() - started, sizeBytes: this.runtime.inspectImage(image).then((img) => img?.sizeBytes, () => undefined) }))
        .finally(() => this.inflight.delete(key));
      this.inflight.set(key, p);
    }
    return p;
  }

  /** The runtime could not find `image` after all: ask again next time. */
  forgetImage(image: string): void {
    this.present.delete(image);
  }

  /** Images were removed from the store (by any of their names): ask again about every one. */
  forgetImages(): void {
    this.present.clear();
  }

  forgetPrefix(prefix: string): void {
    for (const k of this.prefetched.keys()) if (k.startsWith(prefix)) this.prefetched.delete(k);
    for (const k of this.lastFailure.keys()) if (k.startsWith(prefix)) this.lastFailure.delete(k);
    this.backoff.forgetPrefix(prefix);
  }
}
