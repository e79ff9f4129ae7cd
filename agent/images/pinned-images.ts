// Images the garbage collector never removes: the sandbox ("pause") images every pod
// needs, like the kubelet pins the CRI's sandbox image.
import type { RuntimeImage } from '../runtime/container-runtime.js';

const SANDBOX_IMAGES = [/(^|\/)podman-pause:/, /^registry\.k8s\.io\/pause:/, /^k8s\.gcr\.io\/pause:/];

export function isPinnedImage(img: RuntimeImage, pauseImage?: string): boolean {
  return img.names.some((n) => n === pauseImage || SANDBOX_IMAGES.some((re) => re.test(n)));
}
