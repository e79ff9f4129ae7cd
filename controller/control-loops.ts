// Starts the scheduler and the controller manager's loops, and gives the pieces the rest
// of the controller needs from them (service-account tokens for pods and the API).
import { join } from 'node:path';
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import type { Pod } from '../protocol/kube/types.js';
import type { DesiredPod } from '../protocol/mqtt/payloads.js';
import type { MqttLink } from '../protocol/mqtt/link.js';
import type { Topics } from '../protocol/mqtt/topics.js';
import type { ApiCore } from './apiserver/api-core.js';
import type { ClusterClient } from './apiserver/client.js';
import type { ExtraRoute, SelfAuthenticatingRoute, UserInfo } from './apiserver/http/server.js';
import type { TokenIssuer } from './apiserver/http/resource-routes.js';
import type { NodeTelemetry } from './bridge/node-telemetry.js';
import type { ControlLoop } from './controllers/framework/controller.js';
import { EventRecorder } from './controllers/framework/event-recorder.js';
import { startControllerManager, TokenSigner } from './controllers/index.js';
import { SharedInformers } from './controllers/shared-informers.js';
import { NodeLifecycleController } from './controllers/node-lifecycle.js';
import type { PodCidrAllocator } from './controllers/pod-cidr.js';
import { EndpointsController } from './controllers/endpoints.js';
import { EndpointSliceController } from './controllers/endpointslices.js';
import { LoadBalancerController } from './controllers/load-balancer.js';
import { Scheduler } from './scheduler/scheduler.js';
import type { ControllerMetrics } from './metrics/controller-metrics.js';
import { HomeAssistantPublisher } from './homeassistant/publisher.js';
import { ClusterView } from './ui/cluster-view.js';
import { statusPageRoute } from './ui/status-page.js';
import { serviceAccountAuthenticator, serviceAccountTokenIssuer } from './service-account-api.js';

export interface ControlLoopDeps {
  client: ClusterClient;
  core: ApiCore;
  telemetry: NodeTelemetry;
  log: Logger;
  dataDir: string;
  nodeMonitorGracePeriodMs: number;
  defaultTolerationSeconds: number;
  podCidrs: PodCidrAllocator;
  link: MqttLink;
  topics: Topics;
  homeassistant: boolean;
  metrics: ControllerMetrics;
  /** pikube's version, for Home Assistant's device info. */
  version?: string;
}

export interface StartedLoops {
  loops: ControlLoop[];
  routes: ExtraRoute[];
  /** The status page (it also takes a cookie, so it checks credentials itself). */
  selfAuthenticatingRoutes: SelfAuthenticatingRoute[];
  authenticateServiceAccount: (token: string) => UserInfo | undefined;
  serviceAccountFor: (cluster: { caCrt: string; apiServer: string }) => (pod: Pod) => DesiredPod['serviceAccount'] | undefined;
  issueToken: TokenIssuer;
}

/** Long-lived pod tokens, signed once per pod and reused, so desired state stays stable. */
const POD_TOKEN_TTL_SECONDS = 365 * 86400;

export async function startControlLoops(deps: ControlLoopDeps): Promise<StartedLoops> {
  const { client, log, telemetry } = deps;
  const host = hostname();
  const informers = new SharedInformers(client);
  const signer = new TokenSigner(join(deps.dataDir, 'pki', 'service-account.key'));
  const scheduler = new Scheduler({
    client, telemetry, informers, log: log.child({ component: 'scheduler' }),
    recorder: new EventRecorder(client, { component: 'default-scheduler' }, log),
    onAttempt: (result, seconds) => deps.metrics.schedulingLatency.observe({ result }, seconds),
  });
  const lifecycle = new NodeLifecycleController({
    client, telemetry, informers, log: log.child({ component: 'node-lifecycle' }),
    recorder: new EventRecorder(client, { component: 'node-controller' }, log),
    nodeMonitorGracePeriodMs: deps.nodeMonitorGracePeriodMs,
    defaultTolerationSeconds: deps.defaultTolerationSeconds,
  });
  // Service plumbing: endpoints, their slices, and load balancers on the nodes' own addresses.
  const serviceLoops = ([
    ['endpoint-controller', EndpointsController], ['endpointslice-controller', EndpointSliceController], ['service-lb-controller', LoadBalancerController],
  ] as const).map(([component, Loop]) => new Loop({
    client, informers, log: log.child({ component }), recorder: new EventRecorder(client, { component, host }, log),
  }));
  deps.metrics.attach({ scheduler: () => scheduler.stats });
  const manager = startControllerManager({ client, log: log.child({ component: 'controller-manager' }), tokenSigner: signer, hostname: host, extra: [lifecycle, ...serviceLoops] });
  await scheduler.start();
  const view = new ClusterView(informers, telemetry);
  const extra: ControlLoop[] = [{ name: 'status-page', start() {}, stop: () => view.stop() }];
  if (deps.homeassistant) {
    const ha = new HomeAssistantPublisher({
      link: deps.link, topics: deps.topics, telemetry, informers, log: log.child({ component: 'homeassistant' }), version: deps.version ?? '0.1.0',
    });
    await ha.start();
    extra.push(ha);
  }
  const tokens = new Map<string, string>();
  return {
    loops: [scheduler, { name: 'controller-manager', start() {}, stop: () => manager.stop() }, ...extra, { name: 'informers', start() {}, stop: () => informers.stop() }],
    routes: [],
    selfAuthenticatingRoutes: [statusPageRoute(view)],
    authenticateServiceAccount: serviceAccountAuthenticator(signer),
    issueToken: serviceAccountTokenIssuer(signer),
    serviceAccountFor: (cluster) => (pod) => {
      const uid = pod.metadata.uid!;
      let token = tokens.get(uid);
      if (!token) {
        const name = pod.spec.serviceAccountName ?? 'default';
        const sa = client.get({ group: '', resource: 'serviceaccounts' }, pod.metadata.namespace, name);
        if (!sa) return undefined;
        token = signer.sign({
          namespace: pod.metadata.namespace!, serviceAccountName: name, uid: sa.metadata.uid!,
          pod: { name: pod.metadata.name!, uid }, ...(pod.spec.nodeName ? { node: { name: pod.spec.nodeName } } : {}),
        }, POD_TOKEN_TTL_SECONDS);
        tokens.set(uid, token);
        if (tokens.size > 20_000) tokens.delete(tokens.keys().next().value as string);
      }
      return { token, caCrt: cluster.caCrt, namespace: pod.metadata.namespace!, apiServer: cluster.apiServer };
    },
  };
}
