// Starts the scheduler and the controller manager's loops, and gives the pieces the rest
// of the controller needs from them (service-account tokens for pods and the API).
import { join } from 'node:path';
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import type { Pod } from '../protocol/kube/types.js';
import type { DesiredPod } from '../protocol/mqtt/payloads.js';
import type { MessageLink } from '../protocol/mqtt/link.js';
import type { Topics } from '../protocol/mqtt/topics.js';
import type { ApiCore } from './apiserver/api-core.js';
import { R, type ClusterClient } from './apiserver/client.js';
import type { ExtraRoute, SelfAuthenticatingRoute, UserInfo } from './apiserver/http/server.js';
import type { TokenIssuer } from './apiserver/http/resource-routes.js';
import type { NodeTelemetry } from './client/node-telemetry.js';
import type { ControlLoop } from './client/control-loop.js';
import { EventRecorder } from './client/event-recorder.js';
import { startControllerManager, TokenSigner } from './controller-manager/index.js';
import { SharedInformers, type ObjectReader } from './client/shared-informers.js';
import { NodeLifecycleController } from './controller-manager/node-lifecycle.js';
import type { PodCidrAllocator } from './controller-manager/pod-cidr.js';
import { EndpointsController } from './controller-manager/endpoints-controller.js';
import { EndpointSliceController } from './controller-manager/endpointslice-controller.js';
import { LoadBalancerController } from './controller-manager/load-balancer.js';
import { HorizontalPodAutoscalerController, usageFromTelemetry } from './controller-manager/hpa-controller.js';
import { IngressStatusController } from './ingress/ingress-status.js';
import { Scheduler } from './scheduler/scheduler.js';
import { AuthorizedClient, CONTROLLER_MANAGER_USER, SCHEDULER_USER, TOPIC_BINDING_CONTROLLER_USER } from './auth/component-identities.js';
import { LocalClient } from './apiserver/local-client.js';
import { TopicBindingController } from './topicbindings/topic-binding-controller.js';
import { ImagePlatforms } from './images/image-platforms.js';
import type { RegistriesConfig } from '../protocol/images/registries-yaml.js';
import type { ControllerMetrics } from './metrics/controller-metrics.js';
import { HomeAssistantPublisher } from './homeassistant/publisher.js';
import { ClusterView, type AlertSource } from './ui/cluster-view.js';
import { statusPageRoute } from './ui/status-page.js';
import type { UiAuthorize } from './ui/rbac-filter.js';
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
  link: MessageLink;
  topics: Topics;
  homeassistant: boolean;
  metrics: ControllerMetrics;
  /** RBAC, for what the status page shows each reader. */
  authorize?: UiAuthorize;
  /** Longest lifetime a TokenRequest may get (longer requests are shortened). */
  maxTokenSeconds?: number;
  /** Reaches nodes to delete reclaimed local-path volumes. */
  volumeHost?: import('./storage/local-path-provisioner.js').VolumeHost;
  /** pikube's version, for Home Assistant's device info. */
  version?: string;
  /** Control-plane problems for the status page. */
  alerts?: AlertSource;
  /** Placement by images' platforms. */
  images?: { check: boolean; clusterCa?: string; registries?: RegistriesConfig };
}

export interface StartedLoops {
  loops: ControlLoop[];
  routes: ExtraRoute[];
  /** The status page (it also takes a cookie, so it checks credentials itself). */
  selfAuthenticatingRoutes: SelfAuthenticatingRoute[];
  authenticateServiceAccount: (token: string) => UserInfo | undefined;
  /** `read`: whose view of ServiceAccounts the signing goes by (the bridge's own client). */
  serviceAccountFor: (cluster: { caCrt: string; apiServer: string }, read?: ObjectReader) => (pod: Pod) => DesiredPod['serviceAccount'] | undefined;
  issueToken: TokenIssuer;
}

/** A pod's token lives an hour (upstream's kube-api-access volume asks 3607 s) and is bound to the pod. */
export const POD_TOKEN_TTL_SECONDS = 3607;
/** Tokens are re-signed after 80 % of their life, as the kubelet's token manager does. */
const REFRESH_FRACTION = 0.8;
/** Upper bound of `kubectl create token --duration` unless --service-account-max-token-expiration says otherwise. */
export const DEFAULT_MAX_TOKEN_SECONDS = 48 * 3600;

/** An in-process client for one control-plane user, checked by RBAC (unchecked without an authorizer). */
function componentClient(deps: ControlLoopDeps, user: UserInfo): ClusterClient {
  if (!deps.authorize) return deps.client;
  return new AuthorizedClient({ client: new LocalClient(deps.core, user), user, authorize: deps.authorize, log: deps.log });
}

export async function startControlLoops(deps: ControlLoopDeps): Promise<StartedLoops> {
  const { client, log, telemetry } = deps;
  const host = hostname();
  // The caches the scheduler and the controller manager share read as the controller
  // manager, as upstream's controller manager builds its informers on its own credentials.
  const cm = componentClient(deps, CONTROLLER_MANAGER_USER);
  const informers = new SharedInformers(cm);
  const signer = new TokenSigner(join(deps.dataDir, 'pki', 'service-account.key'));
  // The scheduler's own calls go through RBAC as system:kube-scheduler.
  const schedulerClient = componentClient(deps, SCHEDULER_USER);
  const scheduler = new Scheduler({
    client: schedulerClient, telemetry, informers, log: log.child({ component: 'scheduler' }),
    recorder: new EventRecorder(schedulerClient, { component: 'default-scheduler' }, log),
    onAttempt: (result, seconds) => deps.metrics.schedulingLatency.observe({ result }, seconds),
    ...(deps.images?.check ? { imagePlatforms: new ImagePlatforms({
      client: schedulerClient, log: log.child({ component: 'image-platforms' }),
      ...(deps.images.clusterCa ? { trustedCas: [deps.images.clusterCa] } : {}),
      ...(deps.images.registries ? { registries: deps.images.registries } : {}),
    }) } : {}),
  });
  // The controller manager's loops as system:kube-controller-manager (`cm`, above).
  const lifecycle = new NodeLifecycleController({
    client: cm, telemetry, informers, log: log.child({ component: 'node-lifecycle' }),
    recorder: new EventRecorder(cm, { component: 'node-controller' }, log),
    nodeMonitorGracePeriodMs: deps.nodeMonitorGracePeriodMs,
    defaultTolerationSeconds: deps.defaultTolerationSeconds,
  });
  // Service plumbing: endpoints, their slices, and load balancers on the nodes' own addresses.
  const serviceLoops = ([
    ['endpoint-controller', EndpointsController], ['endpointslice-controller', EndpointSliceController], ['service-lb-controller', LoadBalancerController],
    ['ingress-status-controller', IngressStatusController],
  ] as const).map(([component, Loop]) => new Loop({
    client: cm, informers, log: log.child({ component }), recorder: new EventRecorder(cm, { component, host }, log),
  }));
  const autoscaler = new HorizontalPodAutoscalerController({
    client: cm, informers, log: log.child({ component: 'horizontal-pod-autoscaler' }), usage: usageFromTelemetry(telemetry),
    recorder: new EventRecorder(cm, { component: 'horizontal-pod-autoscaler', host }, log),
  });
  deps.metrics.attach({ scheduler: () => scheduler.stats });
  const manager = startControllerManager({ client: cm, log: log.child({ component: 'controller-manager' }), tokenSigner: signer, hostname: host, ...(deps.volumeHost ? { volumeHost: deps.volumeHost } : {}), extra: [lifecycle, ...serviceLoops, autoscaler] });
  await scheduler.start();
  const view = new ClusterView(informers, telemetry, undefined, deps.alerts);
  // The namespaces the page offers each reader (filtered by the reader's own rights).
  const namespaceCache = informers.get(R.namespaces);
  namespaceCache.start();
  const extra: ControlLoop[] = [{ name: 'status-page', start() {}, stop: () => view.stop() }];
  // Node taints and labels from home-lab MQTT topics.
  // Its writes as its own user; its caches are the controller manager's.
  const topicBindingClient = componentClient(deps, TOPIC_BINDING_CONTROLLER_USER);
  const topicBindings = new TopicBindingController({
    client: topicBindingClient, informers, link: deps.link, baseTopic: deps.topics.base, log: log.child({ component: 'topicbinding-controller' }),
    recorder: new EventRecorder(topicBindingClient, { component: 'topicbinding-controller', host }, log),
  });
  topicBindings.start();
  extra.push(topicBindings);
  if (deps.homeassistant) {
    const ha = new HomeAssistantPublisher({
      link: deps.link, topics: deps.topics, telemetry, informers, log: log.child({ component: 'homeassistant' }), version: deps.version ?? '0.1.0',
    });
    await ha.start();
    extra.push(ha);
  }
  const tokens = new Map<string, { token: string; refreshAt: number }>();
  const maxTokenSeconds = deps.maxTokenSeconds ?? DEFAULT_MAX_TOKEN_SECONDS;
  return {
    loops: [scheduler, { name: 'controller-manager', start() {}, stop: () => manager.stop() }, ...extra, { name: 'informers', start() {}, stop: () => informers.stop() }],
    routes: [],
    selfAuthenticatingRoutes: [statusPageRoute(view, {
      ...(deps.authorize ? { authorize: deps.authorize } : {}),
      namespaces: () => namespaceCache.list().map((n) => n.metadata.name!).sort(),
    })],
    // The API server's own check that a token's account, pod and secret still exist reads
    // its storage directly, as upstream's token authenticator does through its getters.
    authenticateServiceAccount: serviceAccountAuthenticator(signer, client),
    issueToken: serviceAccountTokenIssuer(signer, maxTokenSeconds),
    serviceAccountFor: (cluster, read = client) => (pod) => {
      const uid = pod.metadata.uid!;
      const name = pod.spec.serviceAccountName ?? 'default';
      const sa = read.get({ group: '', resource: 'serviceaccounts' }, pod.metadata.namespace, name);
      if (!sa) return undefined;
      const projected = projectedToken(pod);
      // automountServiceAccountToken: false on the pod, or (unless the pod says) on its account.
      const automount = pod.spec.automountServiceAccountToken ?? (sa as { automountServiceAccountToken?: boolean }).automountServiceAccountToken ?? true;
      if (!automount && !projected) return undefined;
      let cached = tokens.get(uid);
      if (!cached || Date.now() >= cached.refreshAt) {
        const ttl = Math.max(600, Math.min(projected?.expirationSeconds ?? POD_TOKEN_TTL_SECONDS, maxTokenSeconds));
        const token = signer.sign({
          namespace: pod.metadata.namespace!, serviceAccountName: name, uid: sa.metadata.uid!,
          pod: { name: pod.metadata.name!, uid }, ...(pod.spec.nodeName ? { node: { name: pod.spec.nodeName } } : {}),
          ...(projected?.audience ? { audiences: [projected.audience] } : {}),
        }, ttl);
        cached = { token, refreshAt: Date.now() + ttl * 1000 * REFRESH_FRACTION };
        tokens.delete(uid);
        tokens.set(uid, cached);
        if (tokens.size > 20_000) tokens.delete(tokens.keys().next().value as string);
      }
      return { token: cached.token, caCrt: cluster.caCrt, namespace: pod.metadata.namespace!, apiServer: cluster.apiServer };
    },
  };
}

/** The pod's own projected serviceAccountToken source, if it asks for one. */
function projectedToken(pod: Pod): { expirationSeconds?: number; audience?: string } | undefined {
  for (const v of pod.spec.volumes ?? []) {
    for (const src of v.projected?.sources ?? []) {
      if (src.serviceAccountToken) return src.serviceAccountToken;
    }
  }
  return undefined;
}
