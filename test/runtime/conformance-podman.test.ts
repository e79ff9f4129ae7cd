import { PodmanRuntime } from '../../agent/runtime/podman.js';
import { BUSYBOX_IMAGE, ensureBusyboxImage } from '../helpers/podman-image.js';
import { runtimeConformance } from './conformance.js';

runtimeConformance('podman', async () => {
  await ensureBusyboxImage();
  return { runtime: new PodmanRuntime(), image: BUSYBOX_IMAGE, cleanup: async () => undefined };
}, { exitCodes: true, streams: true });
