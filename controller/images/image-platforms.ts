// What the scheduler knows of the platforms each image offers. Lookups run in the
// background (the scheduler's decisions stay synchronous): a pod whose images are not
// known yet waits for them for a short while, then is placed as if they could run
// anywhere, as are pods whose images cannot be read at all (no registry, refused
// credentials, offline). Results are cached per image; failures for less long.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { Container, Pod } from '../../protocol/kube/types.js';
import { credentialsFor, credentialsOfSecret, type RegistryCredential } from '../../protocol/images/docker-config.js';
import { parseImageRef, type ImageRef } from '../../protocol/images/image-ref.js';
import { endpointHost, type RegistriesConfig } from '../../protocol/images/registries-yaml.js';
import { R, type ClusterClient } from '../apiserver/client.js';
import { RegistryClient, type Platform } from './registry-client.js';

/** A pod carrying this annotation with value "ignore" is placed without looking at its images' platforms. */
export const IMAGE_PLATFORMS_ANNOTATION = 'pikube.io/image-platforms';

export interface ImagePlatformsOptions {
  client: ClusterClient;
  /** The agents' registries.yaml, for mirrors, CAs and credentials. */
  registries?: RegistriesConfig;
  /** PEM CAs trusted for every registry (the cluster's own CA). */
  trustedCas?: string[];
  /** containers-certs.d(5) directories: <dir>/<host[:port]>/*.crt are trusted for that host. */
  certsDirs?: string[];
  /** How long a pod waits for its images' lookups before it is placed as usual (default 3 s). */
  maxWaitMs?: number;
  ttlMs?: number;
  failureTtlMs?: number;
  log?: Logger;
}

type Entry =
  | { state: 'pending'; since: number }
  | { state: 'known'; platforms: Platform[]; at: number }
  | { state: 'failed'; error: string; at: number };

export type PodImages =
  | { state: 'pending'; images: string[] }
  | { state: 'ready'; images: { image: string; platforms: Platform[] }[] };

const DEFAULT_CERTS_DIRS = ['/etc/containers/certs.d', '/etc/docker/certs.d'];
const MAX_ENTRIES = 2000;

function ignored(pod: Pod): boolean {
  return pod.metadata.annotations?.[IMAGE_PLATFORMS_ANNOTATION] === 'ignore';
}

/** Images the registry can tell us about: pulled from a registry, not local-only names. */
function inspectable(c: Container): boolean {
  if (c.imagePullPolicy === 'Never') return false;
  const ref = parseImageRef(c.image);
  return ref.registry !== 'localhost';
}

export function platformText(p: Platform): string {
  return `${p.os}/${p.architecture}${p.variant ? `/${p.variant}` : ''}`;
}

export class ImagePlatforms {
  private readonly cache = new Map<string, Entry>();
  private readonly listeners = new Set<(image: string) => void>();
  private readonly maxWaitMs: number;
  private readonly ttlMs: number;
  private readonly failureTtlMs: number;

  constructor(private readonly opts: ImagePlatformsOptions) {
    this.maxWaitMs = opts.maxWaitMs ?? 3000;
    this.ttlMs = opts.ttlMs ?? 60 * 60_000;
    this.failureTtlMs = opts.failureTtlMs ?? 2 * 60_000;
  }

  /** Called when a lookup ends (or waited long enough): pods of that image may be tried again. */
  onSettled(fn: (image: string) => void): void {
    this.listeners.add(fn);
  }

  /** The platforms of a pod's images, starting lookups for those not known. */
  forPod(pod: Pod): PodImages {
    if (ignored(pod)) return { state: 'ready', images: [] };
    const now = Date.now();
    const pending: string[] = [];
    const images: { image: string; platforms: Platform[] }[] = [];
    for (const c of [...(pod.spec.initContainers ?? []), ...pod.spec.containers]) {
      if (!inspectable(c)) continue;
      let e = this.cache.get(c.image);
      const stale = e && e.state !== 'pending' && now - e.at > (e.state === 'known' ? this.ttlMs : this.failureTtlMs);
      if (!e || stale) {
        e = { state: 'pending', since: now };
        this.start(c.image, pod, e);
      }
      if (e.state === 'pending' && now - e.since < this.maxWaitMs) pending.push(c.image);
      else if (e.state === 'known') images.push({ image: c.image, platforms: e.platforms });
    }
    return pending.length ? { state: 'pending', images: pending } : { state: 'ready', images };
  }

  private start(image: string, pod: Pod, entry: Entry): void {
    if (this.cache.size >= MAX_ENTRIES) this.cache.delete(this.cache.keys().next().value!);
    this.cache.set(image, entry);
    const wake = setTimeout(() => this.settled(image), this.maxWaitMs + 10);
    wake.unref();
    this.lookup(image, this.podCredentials(pod))
      .then((platforms) => {
        this.cache.set(image, { state: 'known', platforms, at: Date.now() });
        this.opts.log?.debug({ image, platforms: platforms.map(platformText) }, 'image platforms read');
      }, (err: unknown) => {
        const error = err instanceof Error ? err.message : String(err);
        this.cache.set(image, { state: 'failed', error, at: Date.now() });
        this.opts.log?.info({ image, err: error }, 'image platforms unknown; placing its pods on any node');
      })
      .finally(() => {
        clearTimeout(wake);
        this.settled(image);
      });
  }

  private settled(image: string): void {
    for (const fn of this.listeners) fn(image);
  }

  private podCredentials(pod: Pod): RegistryCredential[] {
    const out: RegistryCredential[] = [];
    for (const ref of pod.spec.imagePullSecrets ?? []) {
      const s = ref?.name ? this.opts.client.get(R.secrets, pod.metadata.namespace, ref.name) : undefined;
      if (s) out.push(...credentialsOfSecret(s.data as Record<string, string> | undefined));
    }
    return out;
  }

  /** Mirrors first (as the nodes pull), then the registry itself; the first answer wins. */
  private async lookup(image: string, fromPod: RegistryCredential[]): Promise<Platform[]> {
    const ref = parseImageRef(image);
    const reg = this.opts.registries;
    const endpoints = [...(reg?.mirrors[ref.registry]?.endpoints ?? []).map((e) => endpointHost(e)), { host: ref.registry, plainHttp: false }];
    let lastErr: unknown;
    for (const ep of endpoints) {
      try {
        const target: ImageRef = { ...ref, registry: ep.host };
        const creds = credentialsFor(image, fromPod).map((c) => ({ username: c.username, password: c.password }));
        const configured = reg?.configs[ep.host]?.auth;
        if (configured) creds.push(configured);
        const client = new RegistryClient(target, {
          credentials: creds,
          ca: await this.casFor(ep.host),
          insecureSkipVerify: reg?.configs[ep.host]?.tls?.insecureSkipVerify === true,
          plainHttp: ep.plainHttp,
        });
        return await client.platforms();
      } catch (err) {
        lastErr = err;
      }
    }
    throw lastErr;
  }

  private async casFor(host: string): Promise<string[] | undefined> {
    const cas: string[] = [...(this.opts.trustedCas ?? [])];
    const caFile = this.opts.registries?.configs[host]?.tls?.caFile;
    if (caFile) cas.push(await readFile(caFile, 'utf8'));
    for (const dir of this.opts.certsDirs ?? DEFAULT_CERTS_DIRS) {
      const d = join(dir, host);
      const files = await readdir(d).catch(() => [] as string[]);
      for (const f of files) if (f.endsWith('.crt')) cas.push(await readFile(join(d, f), 'utf8').catch(() => ''));
    }
    const extra = cas.filter(Boolean);
    if (!extra.length) return undefined;
    // the system's roots stay trusted alongside
    const { rootCertificates } = await import('node:tls');
    return [...rootCertificates, ...extra];
  }
}
