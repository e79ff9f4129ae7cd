// Whether a node can run a pod's images, from the platforms their registries list: the
// node's kubernetes.io/os and kubernetes.io/arch, the ARM variant its agent reports, and
// the container runtime it reports (nodeInfo.containerRuntimeVersion), because what a
// node can run is what its runtime will pull:
// - containerd as nerdctl and the CRI's transfer service (containerd 2, as k3s runs it)
//   pull with a strict matcher (containerd/platforms OnlyStrict / Ordered(DefaultSpec)):
//   the board's own normalized platform only, from an index and for a single manifest;
// - docker (moby) matches with containerd/platforms Only: an arm64 board also takes
//   arm/v8, v7, v6 and v5, an armv7 board v6 and v5, amd64 also 386;
// - podman (containers/image WantedPlatforms) takes from an index the board's own
//   architecture only, ARM variants at or below its own, but pulls a single manifest of
//   any platform and runs what the kernel can execute (the same fall-backs as Only).
// Images without platform data never rule a node out.
import type { Platform } from '../images/registry-client.js';
import { platformText } from '../images/image-platforms.js';

/** The ARM variant the agent reports (v6, v7, v8). */
export const ARCH_VARIANT_LABEL = 'pikube.io/arch-variant';

export interface NodePlatform { os: string; architecture: string; variant?: string }

export type PullMatcher = 'strict' | 'containerd-only' | 'containers-image';

/** From nodeInfo.containerRuntimeVersion ("podman://4.3.1"): how the node's runtime picks a platform. */
export function pullMatcherOf(containerRuntimeVersion: string | undefined): PullMatcher {
  const runtime = (containerRuntimeVersion ?? '').split('://')[0];
  if (runtime === 'podman') return 'containers-image';
  if (runtime === 'docker') return 'containerd-only';
  return 'strict';
}

export function nodePlatformOf(labels: Record<string, string>): NodePlatform | undefined {
  const architecture = labels['kubernetes.io/arch'];
  if (!architecture) return undefined;
  const variant = labels[ARCH_VARIANT_LABEL];
  return { os: labels['kubernetes.io/os'] ?? 'linux', architecture, ...(variant ? { variant } : {}) };
}

/** containerd/platforms Normalize, for the architectures boards have. */
function normalize(p: { os?: string; architecture: string; variant?: string }): { os: string; architecture: string; variant: string } {
  let architecture = p.architecture.toLowerCase();
  let variant = (p.variant ?? '').toLowerCase();
  if (architecture === 'aarch64') architecture = 'arm64';
  if (architecture === 'x86_64' || architecture === 'x86-64') architecture = 'amd64';
  if (architecture === 'i386') architecture = '386';
  if (architecture === 'armhf') { architecture = 'arm'; variant = 'v7'; }
  if (architecture === 'armel') { architecture = 'arm'; variant = 'v6'; }
  if (architecture === 'arm64' && ['8', 'v8', 'v8.0'].includes(variant)) variant = '';
  if (architecture === 'amd64' && ['1', 'v1'].includes(variant)) variant = '';
  if (architecture === 'arm') {
    if (variant === '' || variant === '7') variant = 'v7';
    else if (/^[5-8]$/.test(variant)) variant = `v${variant}`;
  }
  return { os: (p.os || 'linux').toLowerCase(), architecture, variant };
}

const ARM_LEVELS = ['v5', 'v6', 'v7', 'v8'];

/** containerd/platforms Only: the board's platform, then what it also executes. */
function onlyMatch(node: ReturnType<typeof normalize>, image: ReturnType<typeof normalize>): boolean {
  if (image.architecture === node.architecture && image.variant === node.variant) return true;
  if (node.architecture === 'amd64') return image.architecture === '386';
  if (node.architecture === 'arm64') return image.architecture === 'arm' && ARM_LEVELS.includes(image.variant);
  if (node.architecture === 'arm') {
    const n = ARM_LEVELS.indexOf(node.variant);
    const i = ARM_LEVELS.indexOf(image.variant);
    return image.architecture === 'arm' && i >= 0 && n >= 0 && i <= n;
  }
  return false;
}

/** containers/image WantedPlatforms for an index: the board's architecture, ARM variants at or below its own. */
function containersImageMatch(node: ReturnType<typeof normalize>, image: ReturnType<typeof normalize>): boolean {
  if (image.architecture !== node.architecture) return false;
  if (node.architecture === 'arm') return ARM_LEVELS.indexOf(image.variant) >= 0 && ARM_LEVELS.indexOf(image.variant) <= ARM_LEVELS.indexOf(node.variant);
  if (node.architecture === 'arm64') return image.variant === '';
  return true;
}

export function canRun(nodePlatform: NodePlatform, imagePlatform: Platform, matcher: PullMatcher = 'strict'): boolean {
  const node = normalize(nodePlatform);
  const image = normalize(imagePlatform);
  if (image.os !== node.os) return false;
  switch (matcher) {
    case 'strict': return image.architecture === node.architecture && image.variant === node.variant;
    case 'containerd-only': return onlyMatch(node, image);
    case 'containers-image': return imagePlatform.soleManifest ? onlyMatch(node, image) : containersImageMatch(node, image);
  }
}

/** The per-node reason when an image has no platform the node can run. */
export function imagePlatformReason(image: string, platforms: Platform[]): string {
  return `node(s) didn't match the platforms of image "${image}" (${platforms.map(platformText).join(', ') || 'none'})`;
}

/** The first of a pod's images the node cannot run, as a filter reason; undefined when all fit. */
export function imagePlatformMismatch(labels: Record<string, string>, images: readonly { image: string; platforms: Platform[] }[], containerRuntimeVersion?: string): string | undefined {
  if (!images.length) return undefined;
  const node = nodePlatformOf(labels);
  if (!node) return undefined;
  const matcher = pullMatcherOf(containerRuntimeVersion);
  for (const { image, platforms } of images) {
    if (platforms.length && !platforms.some((p) => canRun(node, p, matcher))) return imagePlatformReason(image, platforms);
  }
  return undefined;
}
