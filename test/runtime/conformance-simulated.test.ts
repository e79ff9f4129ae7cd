import { SimulatedRuntime } from '../../agent/runtime/simulated.js';
import { runtimeConformance } from './conformance.js';

runtimeConformance('simulated', async () => ({ runtime: new SimulatedRuntime({ exitDelayMs: 20 }), image: 'localhost/busybox:latest', cleanup: async () => undefined }), { exitCodes: true, streams: false });
