import { DockerRuntime } from '../../agent/runtime/docker.js';
import { makeFakeEngine } from './fake-engine.js';
import { runtimeConformance } from './conformance.js';

const IMAGE = 'localhost/busybox:latest';
runtimeConformance('docker (recorded outputs)', async () => {
  const engine = await makeFakeEngine('docker', { images: [IMAGE] });
  return { runtime: new DockerRuntime({ binary: engine.binary }), image: IMAGE, cleanup: () => engine.cleanup() };
}, { exitCodes: true, streams: false });
