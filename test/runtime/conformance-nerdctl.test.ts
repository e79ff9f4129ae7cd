import { NerdctlRuntime } from '../../agent/runtime/nerdctl.js';
import { makeFakeEngine } from './fake-engine.js';
import { runtimeConformance } from './conformance.js';

const IMAGE = 'localhost/busybox:latest';
runtimeConformance('nerdctl (recorded outputs)', async () => {
  const engine = await makeFakeEngine('nerdctl', { images: [IMAGE] });
  return { runtime: new NerdctlRuntime({ binary: engine.binary }), image: IMAGE, cleanup: () => engine.cleanup() };
}, { exitCodes: true, streams: false });
