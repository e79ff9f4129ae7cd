// The controller manager: starts every workload control loop over one set of shared
// informers and stops them together.
import type { Logger } from 'pino';
import type { ClusterClient } from '../apiserver/client.js';
import type { ControlLoop } from '../client/control-loop.js';
import { EventRecorder } from '../client/event-recorder.js';
import { DaemonSetController } from './daemonset-controller.js';
import { CronJobController } from './cronjob-controller.js';
import { JobController } from './job-controller.js';
import { DisruptionController } from './disruption-controller.js';
import { DeploymentController } from './deployment-controller.js';
import { GarbageCollector } from './garbage-collector.js';
import { NamespaceController } from './namespace-controller.js';
import { ReplicaSetController } from './replicaset-controller.js';
import { serviceAccountLookup, type TokenSigner } from './service-account-tokens.js';
import { ServiceAccountController } from './serviceaccount-controller.js';
import { SharedInformers } from '../client/shared-informers.js';
import { PersistentVolumeController } from '../storage/persistent-volume-controller.js';
import { StatefulSetController } from './statefulset/statefulset-controller.js';
import { StorageProtectionController } from '../storage/protection-controller.js';
import type { VolumeHost } from '../storage/local-path-provisioner.js';

export interface ControllerManagerDeps {
  client: ClusterClient;
  log: Logger;
  tokenSigner: TokenSigner;
  /** Reported as the source host of events. */
  hostname?: string;
  /** Reaches nodes to delete reclaimed local-path volumes. */
  volumeHost?: VolumeHost;
  /** More loops to run alongside (node lifecycle, endpoints, load balancers...). */
  extra?: ControlLoop[];
}

export interface ControllerManager {
  readonly loops: readonly ControlLoop[];
  stop(): Promise<void>;
}

export function startControllerManager(deps: ControllerManagerDeps): ControllerManager {
  const { client, log } = deps;
  const informers = new SharedInformers(client);
  const recorder = (component: string) => new EventRecorder(client, { component, ...(deps.hostname ? { host: deps.hostname } : {}) }, log);
  const base = { client, log, informers };
  // Tokens are checked against live ServiceAccounts unless the caller said otherwise.
  if (!deps.tokenSigner.hasLookup) deps.tokenSigner.setLookup(serviceAccountLookup(client));
  const loops: ControlLoop[] = [
    new GarbageCollector({ ...base, recorder: recorder('garbage-collector') }),
    new NamespaceController({ ...base, recorder: recorder('namespace-controller') }),
    new ServiceAccountController({ ...base, recorder: recorder('serviceaccount-controller') }),
    new ReplicaSetController({ ...base, recorder: recorder('replicaset-controller') }),
    new DeploymentController({ ...base, recorder: recorder('deployment-controller') }),
    new DaemonSetController({ ...base, recorder: recorder('daemonset-controller') }),
    new JobController({ ...base, recorder: recorder('job-controller') }),
    new CronJobController({ ...base, recorder: recorder('cronjob-controller') }),
    new DisruptionController({ ...base, recorder: recorder('disruption-controller') }),
    new PersistentVolumeController({ ...base, recorder: recorder('persistentvolume-controller'), ...(deps.volumeHost ? { volumeHost: deps.volumeHost } : {}) }),
    new StorageProtectionController({ ...base, recorder: recorder('pvc-protection-controller') }),
    new StatefulSetController({ ...base, recorder: recorder('statefulset-controller') }),
    ...(deps.extra ?? []),
  ];
  const started: Promise<void>[] = loops.map(async (loop) => {
    try {
      await loop.start();
      log.debug({ loop: loop.name }, 'control loop started');
    } catch (err) {
      log.error({ loop: loop.name, err: String(err) }, 'control loop failed to start');
    }
  });
  return {
    loops,
    async stop() {
      await Promise.allSettled(started);
      await Promise.allSettled(loops.map(async (loop) => loop.stop()));
      informers.stop();
    },
  };
}

export { TokenSigner, serviceAccountLookup } from './service-account-tokens.js';
export type { ServiceAccountUser, TokenSubject } from './service-account-tokens.js';
