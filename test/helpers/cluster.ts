// An in-process control-plane core on a temporary directory: the real store, admission,
// validation and in-process client, with no HTTP and no MQTT. For controller tests.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalStore } from '../../controller/store/local-store.js';
import { ApiCore } from '../../controller/apiserver/api-core.js';
import { Admission } from '../../controller/apiserver/admission/admission.js';
import { LocalClient } from '../../controller/apiserver/local-client.js';
import { bootstrapCluster } from '../../controller/apiserver/bootstrap.js';
import { NodeTelemetry } from '../../controller/client/node-telemetry.js';
import type { ClusterClient } from '../../controller/apiserver/client.js';

export interface TestCluster {
  client: ClusterClient;
  core: ApiCore;
  store: LocalStore;
  telemetry: NodeTelemetry;
  dir: string;
  stop(): Promise<void>;
}

export async function startTestCluster(opts: { dir?: string; keep?: boolean; defaultTolerationSeconds?: number } = {}): Promise<TestCluster> {
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'pikube-test-'));
  const store = new LocalStore({ dir });
  await store.open();
  const core = new ApiCore(store, new Admission(store, { defaultTolerationSeconds: opts.defaultTolerationSeconds ?? 300, serviceCIDR: '10.43.0.0/16' }));
  await bootstrapCluster(core);
  return {
    client: new LocalClient(core), core, store, telemetry: new NodeTelemetry(), dir,
    async stop() {
      await store.close();
      if (!opts.keep && !opts.dir) rmSync(dir, { recursive: true, force: true });
    },
  };
}
