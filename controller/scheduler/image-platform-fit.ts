// Whether a node can run a pod's images, from the platforms their registries list: the
// node's kubernetes.io/os and kubernetes.io/arch, and for ARM the variant its agent
// reports. Compatibility follows containerd's platform matcher (containerd/platforms):
// an arm64 board also runs arm/v8, v7, v6 and v5 images, an armv7 board v7, v6 and v5,
// amd64 also runs 386. Images without platform data never rule a node out.
import type { Platform } from '../images/registry-client.js';
import { platformText } from '../images/image-platforms.js';

/** The ARM variant the agent reports (v6, v7, v8). */
export const ARCH_VARIANT_LABEL = 'pikube.io/arch-variant';

export interface NodePlatform { os: string; architecture: string; variant?: string }

export function nodePlatformOf(labels: Record<string, string>): NodePlatform | undefined {
  const architecture = labels['kubernetes.io/arch'];
  if (!architecture) return undefined;
  const variant = labels[ARCH_VARIANT_LABEL];
  return { os: labels['kubernetes.io/os'] ?? 'linux', architecture, ...(variant ? { variant } : {}) };
}

const ARM_ORDER = ['v5', 'v6', 'v7', 'v8'];

function armLevel(variant: string | undefined, fallback: string): number {
  return ARM_ORDER.indexOf(variant && ARM_ORDER.includes(variant) ? variant : fallback);
}

export function canRun(node: NodePlatform, image: Platform): boolean {
  if ((image.os || 'linux') !== node.os) return false;
  const arch = node.architecture;
  if (image.architecture === arch) {
    if (arch !== 'arm') return true;
    // an armv6 board cannot run v7 code
    return armLevel(image.variant, 'v7') <= armLevel(node.variant, 'v7');
  }
  if (arch === 'amd64') return image.architecture === '386';
  if (arch === 'arm64') return image.architecture === 'arm';
  return false;
}

/** The per-node reason when an image has no platform the node can run. */
export function imagePlatformReason(image: string, platforms: Platform[]): string {
  return `node(s) didn't match the platforms of image "${image}" (${platforms.map(platformText).join(', ') || 'none'})`;
}

/** The first of a pod's images the node cannot run, as a filter reason; undefined when all fit. */
export function imagePlatformMismatch(labels: Record<string, string>, images: readonly { image: string; platforms: Platform[] }[]): string | undefined {
  if (!images.length) return undefined;
  const node = nodePlatformOf(labels);
  if (!node) return undefined;
  for (const { image, platforms } of images) {
    if (platforms.length && !platforms.some((p) => canRun(node, p))) return imagePlatformReason(image, platforms);
  }
  return undefined;
}
