// Payloads carried on the pikube MQTT topics (see topics.ts), each written once as a
// TypeBox schema: the TypeScript type both sides import is derived from it, and
// validate.ts checks every payload that arrives against the same schema before it is
// used. contract.ts maps each topic kind to its schema and size limit.
import { FormatRegistry, Type, type Static, type TLiteral, type TSchema, type TUnion } from '@sinclair/typebox';
import type { ContainerStatus, Pod, PodStatus } from '../kube/types.js';

export const PROTOCOL_VERSION = 'v1';

// ---- building blocks ------------------------------------------------------------------

/** A time Date.parse reads (the agents write RFC 3339). */
export const TIME_FORMAT = 'pikube-time';
if (!FormatRegistry.Has(TIME_FORMAT)) FormatRegistry.Set(TIME_FORMAT, (v) => v.length > 0 && !Number.isNaN(Date.parse(v)));

const Str = () => Type.String();
const NonEmpty = () => Type.String({ minLength: 1 });
const Time = () => Type.String({ format: TIME_FORMAT, minLength: 1 });
const Bool = () => Type.Boolean();
const Num = () => Type.Number();
const NonNegative = () => Type.Number({ minimum: 0 });
const Count = (minimum = 0) => Type.Integer({ minimum });
const StringMap = () => Type.Record(Type.String(), Type.String());
const Opt = <T extends TSchema>(t: T) => Type.Optional(t);

/** One of a fixed set of strings. */
export function OneOf<const T extends readonly string[]>(values: T): TUnion<TLiteral<T[number]>[]> {
  return Type.Union(values.map((v) => Type.Literal(v))) as unknown as TUnion<TLiteral<T[number]>[]>;
}

// ---- node → controller ----------------------------------------------------------------

/** `<base>/v1/nodes/<node>/availability`, retained; the agent's Will says offline. */
export const AvailabilityPayload = Type.Object({ state: OneOf(['online', 'offline'] as const) });
export type AvailabilityPayload = Static<typeof AvailabilityPayload>;

export const NodeAddress = Type.Object({ type: OneOf(['InternalIP', 'ExternalIP', 'Hostname'] as const), address: NonEmpty() });
export type NodeAddress = Static<typeof NodeAddress>;

const Resources = Type.Object({ cpuCores: NonNegative(), memoryBytes: NonNegative(), pods: Count(), ephemeralStorageBytes: Opt(NonNegative()) });

export const PodUsage = Type.Object({
  uid: NonEmpty(),
  namespace: Str(),
  name: Str(),
  containers: Type.Array(Type.Object({ name: Str(), cpuCores: NonNegative(), memoryBytes: NonNegative() })),
});
export type PodUsage = Static<typeof PodUsage>;

/** `<base>/v1/nodes/<node>/status`, retained, published on start, on change and every heartbeat. */
export const NodeStatusPayload = Type.Object({
  /** ISO time the agent took the reading. */
  time: Time(),
  /** Agent start time; a change means the agent restarted. */
  bootTime: Time(),
  capacity: Resources,
  allocatable: Resources,
  /** Real use of the whole board, not only of pods. */
  usage: Type.Object({ cpuCores: NonNegative(), memoryBytes: NonNegative() }),
  pressure: Type.Object({ memory: Bool(), disk: Bool(), pid: Bool() }),
  nodeInfo: Type.Object({
    osImage: Str(), kernelVersion: Str(), architecture: Str(), operatingSystem: Str(),
    containerRuntimeVersion: Str(), machineID: Opt(Str()), systemUUID: Opt(Str()), bootID: Opt(Str()), agentVersion: Str(),
  }),
  addresses: Type.Array(NodeAddress),
  /** Labels the agent reports about itself (arch, os, hostname); merged into the Node. */
  labels: StringMap(),
  /** SoC temperature, where the board has a sensor. */
  temperatureC: Opt(Num()),
  /** How Service traffic is forwarded on this node. */
  proxyMode: Opt(OneOf(['iptables', 'userspace', 'off'] as const)),
  /** Per-pod usage for metrics.k8s.io. */
  pods: Type.Array(PodUsage),
  /** Where the agent keeps local-path volumes. */
  storageDir: Opt(NonEmpty()),
  /** The image store's biggest images (status.images), at most 50. */
  images: Opt(Type.Array(Type.Object({ names: Type.Array(NonEmpty()), sizeBytes: NonNegative() }))),
});
export type NodeStatusPayload = Static<typeof NodeStatusPayload>;

/**
 * `<base>/v1/nodes/<node>/heartbeat`, not retained: "still here", sent every heartbeat in
 * which nothing worth a full status changed. A few dozen bytes instead of a status.
 */
export const HeartbeatPayload = Type.Object({
  /** ISO time on the agent's clock. */
  time: Time(),
});
export type HeartbeatPayload = Static<typeof HeartbeatPayload>;

/** What the controller relies on in a reported pod status; the rest is the kubelet's shape (kube/types.ts). */
const PodStatusShape = Type.Unsafe<PodStatus>(Type.Object({
  phase: Opt(OneOf(['Pending', 'Running', 'Succeeded', 'Failed', 'Unknown'] as const)),
  conditions: Opt(Type.Array(Type.Unknown())),
  containerStatuses: Opt(Type.Array(Type.Object({ name: NonEmpty() }))),
  initContainerStatuses: Opt(Type.Array(Type.Object({ name: NonEmpty() }))),
}));

export const PodStatusUpdate = Type.Object({
  uid: NonEmpty(),
  namespace: NonEmpty(),
  name: NonEmpty(),
  /** metadata.generation of the desired pod this status answers. */
  observedGeneration: Opt(Count()),
  /** True once every container of a pod that is no longer desired (or terminating) is gone. */
  gone: Opt(Bool()),
  status: Opt(PodStatusShape),
});
export type PodStatusUpdate = Static<typeof PodStatusUpdate>;

/** `<base>/v1/nodes/<node>/pod-status`, not retained. */
export const PodStatusPayload = Type.Object({ updates: Type.Array(PodStatusUpdate) });
export type PodStatusPayload = Static<typeof PodStatusPayload>;

export const NodeEvent = Type.Object({
  involvedObject: Type.Object({ kind: NonEmpty(), namespace: Opt(Str()), name: NonEmpty(), uid: Opt(Str()), fieldPath: Opt(Str()) }),
  type: OneOf(['Normal', 'Warning'] as const),
  reason: NonEmpty(),
  message: Str(),
  /** ISO time. */
  time: Time(),
});
export type NodeEvent = Static<typeof NodeEvent>;

/** `<base>/v1/nodes/<node>/events`, not retained. */
export const EventsPayload = Type.Object({ events: Type.Array(NodeEvent) });
export type EventsPayload = Static<typeof EventsPayload>;

// ---- controller → node ----------------------------------------------------------------

/**
 * `<base>/v1/cluster/config`, retained, from the controller: how often agents must say
 * they are alive so that the node monitor's grace period holds without flapping.
 */
export const ClusterConfigPayload = Type.Object({
  /** Seconds between liveness beats (a quarter of the grace period, within bounds). */
  heartbeatSeconds: Type.Number({ minimum: 0.1 }),
  /** The controller's --node-monitor-grace-period, in seconds, for the record. */
  nodeMonitorGracePeriodSeconds: NonNegative(),
  /** Longest time between two full status reports, even when nothing changed. */
  statusRefreshSeconds: Type.Number({ minimum: 1 }),
});
export type ClusterConfigPayload = Static<typeof ClusterConfigPayload>;

/** What the agent relies on in a desired pod; the rest is the API's Pod (kube/types.ts). */
const ContainerShape = Type.Object({ name: NonEmpty(), image: NonEmpty() });
const PodShape = Type.Unsafe<Pod>(Type.Object({
  metadata: Type.Object({ name: NonEmpty(), namespace: NonEmpty(), uid: NonEmpty() }),
  spec: Type.Object({ containers: Type.Array(ContainerShape, { minItems: 1 }), initContainers: Opt(Type.Array(ContainerShape)) }),
}));

/** Where a claim's volume lives, as the agent mounts it. */
export const ClaimVolume = Type.Object({
  volumeName: NonEmpty(),
  /** A directory on this node (hostPath and local volumes). */
  path: Opt(NonEmpty()),
  /** Made by the agent when missing (volumes the local-path provisioner created). */
  create: Opt(Bool()),
  /** A NAS export, mounted on the host and bind-mounted into the containers. */
  nfs: Opt(Type.Object({ server: NonEmpty(), path: NonEmpty() })),
  readOnly: Opt(Bool()),
  mountOptions: Opt(Type.Array(Str())),
});
export type ClaimVolume = Static<typeof ClaimVolume>;

/** One pod of a node's desired set, with what the agent cannot read from the API itself. */
export const DesiredPod = Type.Object({
  pod: PodShape,
  /** ConfigMap data the pod refers to (env, envFrom, volumes), by name. */
  configMaps: Type.Record(Type.String(), StringMap()),
  /** Secret data (base64, as in the API), by name. */
  secrets: Type.Record(Type.String(), StringMap()),
  /** Projected service-account token for /var/run/secrets/kubernetes.io/serviceaccount. */
  serviceAccount: Opt(Type.Object({ token: Str(), caCrt: Str(), namespace: Str(), apiServer: Str() })),
  /** The bound volume of each PersistentVolumeClaim the pod mounts, by claim name. */
  claims: Opt(Type.Record(Type.String(), ClaimVolume)),
});
export type DesiredPod = Static<typeof DesiredPod>;

/** `<base>/v1/nodes/<node>/pods`, retained: the node's whole desired set (level-triggered). */
export const DesiredPodsPayload = Type.Object({
  /** Rises with every publication; the agent ignores anything older than what it has. */
  generation: Count(),
  pods: Type.Array(DesiredPod),
  /** Pod CIDR the controller gave this node, if any. */
  podCIDR: Opt(Str()),
  /** Cluster DNS settings the pods should use. */
  dns: Opt(Type.Object({ clusterDomain: NonEmpty(), serverIP: Opt(Str()) })),
});
export type DesiredPodsPayload = Static<typeof DesiredPodsPayload>;

export const ServiceRoute = Type.Object({
  namespace: NonEmpty(),
  name: NonEmpty(),
  type: OneOf(['ClusterIP', 'NodePort', 'LoadBalancer'] as const),
  clusterIP: Opt(Str()),
  headless: Bool(),
  sessionAffinity: OneOf(['None', 'ClientIP'] as const),
  externalTrafficPolicy: OneOf(['Cluster', 'Local'] as const),
  ports: Type.Array(Type.Object({
    name: Opt(Str()),
    protocol: OneOf(['TCP', 'UDP'] as const),
    port: Count(1),
    nodePort: Opt(Count(1)),
    endpoints: Type.Array(Type.Object({
      ip: NonEmpty(),
      port: Count(1),
      nodeName: Opt(Str()),
      ready: Bool(),
      /** Pod hostname under a headless Service (StatefulSet pods). */
      hostname: Opt(Str()),
    })),
  })),
  /** Addresses the LoadBalancer answers on. */
  loadBalancerIPs: Type.Array(Str()),
});
export type ServiceRoute = Static<typeof ServiceRoute>;

/** Cluster-wide Service routing, `<base>/v1/cluster/services`, retained, read by every node. */
export const ServiceRoutingPayload = Type.Object({
  generation: Count(),
  services: Type.Array(ServiceRoute),
  /** Every node's pod range and addresses, for host-gateway routes between boards. */
  nodes: Opt(Type.Array(Type.Object({ name: NonEmpty(), podCIDR: Opt(Str()), addresses: Type.Array(Str()) }))),
  /** Cluster DNS domain (default cluster.local). */
  clusterDomain: Opt(NonEmpty()),
});
export type ServiceRoutingPayload = Static<typeof ServiceRoutingPayload>;

// ---- requests to a node and their replies ------------------------------------------------

const PodTarget = { namespace: NonEmpty(), pod: NonEmpty(), uid: NonEmpty(), container: NonEmpty() };

export const LogsRequest = Type.Object({
  op: Type.Literal('logs'), transaction: NonEmpty(), ...PodTarget,
  follow: Bool(), tailLines: Opt(Count()), timestamps: Bool(), sinceSeconds: Opt(Count()), previous: Opt(Bool()),
});
export type LogsRequest = Static<typeof LogsRequest>;

export const ExecRequest = Type.Object({
  op: Type.Literal('exec'), transaction: NonEmpty(), ...PodTarget,
  command: Type.Array(Str(), { minItems: 1 }), stdin: Bool(), tty: Bool(),
});
export type ExecRequest = Static<typeof ExecRequest>;

/** Stdin for a running exec, in order by seq; `eof` closes it. */
export const ExecInput = Type.Object({ op: Type.Literal('exec-input'), transaction: NonEmpty(), seq: Count(), data: Opt(Str()), eof: Opt(Bool()) });
export type ExecInput = Static<typeof ExecInput>;

export const CancelRequest = Type.Object({ op: Type.Literal('cancel'), transaction: NonEmpty() });
export type CancelRequest = Static<typeof CancelRequest>;

/** Deletes a reclaimed local-path volume's directory (only inside the agent's storage directory). */
export const RemoveVolumeRequest = Type.Object({ op: Type.Literal('remove-volume'), transaction: NonEmpty(), path: NonEmpty() });
export type RemoveVolumeRequest = Static<typeof RemoveVolumeRequest>;

/** The request schemas by `op`: a request is checked against the one its op names. */
export const REQUEST_OPS = {
  logs: LogsRequest,
  exec: ExecRequest,
  'exec-input': ExecInput,
  cancel: CancelRequest,
  'remove-volume': RemoveVolumeRequest,
} as const;

/** `<base>/v1/nodes/<node>/request/<op>`, not retained. */
export const RequestPayload = Type.Union([LogsRequest, ExecRequest, ExecInput, CancelRequest, RemoveVolumeRequest]);
export type RequestPayload = Static<typeof RequestPayload>;

/** `<base>/v1/nodes/<node>/response/<op>`: ordered chunks of one reply. */
export const ResponseChunk = Type.Object({
  transaction: NonEmpty(),
  seq: Count(),
  stream: Opt(OneOf(['stdout', 'stderr'] as const)),
  /** base64 */
  data: Opt(Str()),
  done: Opt(Bool()),
  exitCode: Opt(Type.Integer()),
  error: Opt(Str()),
});
export type ResponseChunk = Static<typeof ResponseChunk>;

// ---- joining ---------------------------------------------------------------------------

/** Joining: `<base>/v1/join/<node>/request` → `<base>/v1/join/<node>/response`. */
export const JoinRequest = Type.Object({ token: NonEmpty(), nonce: NonEmpty() });
export type JoinRequest = Static<typeof JoinRequest>;

/** ok: true carries username and password, ok: false an error (validate.ts checks which). */
export const JoinResponse = Type.Object({ nonce: NonEmpty(), ok: Bool(), username: Opt(Str()), password: Opt(Str()), error: Opt(Str()) });
export type JoinResponse = Static<typeof JoinResponse>;

// ---- the Kubernetes API over MQTT --------------------------------------------------------

/** Verbs of the Kubernetes API over MQTT (`<base>/v1/api/request/<user>`). */
export const API_VERBS = ['get', 'list', 'create', 'update', 'patch', 'delete', 'scale', 'watch', 'cancel'] as const;
export type ApiVerb = (typeof API_VERBS)[number];
export const API_PATCH_TYPES = ['merge', 'strategic', 'json', 'apply'] as const;

/** A request a home-lab automation sends; answered on `<base>/v1/api/response/<user>/<id>`. Rules that depend on the verb are in validate.ts. */
export const ApiRequest = Type.Object({
  id: NonEmpty(),
  verb: OneOf(API_VERBS),
  /** '' or absent: the core group. */
  group: Opt(Str()),
  version: Opt(Str()),
  resource: Opt(Str()),
  namespace: Opt(Str()),
  name: Opt(Str()),
  subresource: Opt(Str()),
  body: Opt(Type.Unknown()),
  patchType: Opt(OneOf(API_PATCH_TYPES)),
  labelSelector: Opt(Str()),
  fieldSelector: Opt(Str()),
  /** Server-side apply's field manager (default pikube-mqtt). */
  fieldManager: Opt(Str()),
});
export type ApiRequest = Static<typeof ApiRequest>;

/** The answer: the HTTP API's status code and its Status or object; watches send one per event. */
export const ApiResponse = Type.Object({
  id: NonEmpty(),
  code: Count(100),
  status: Opt(Type.Unknown()),
  object: Opt(Type.Unknown()),
  /** Watch events, one per message, until `done`. */
  event: Opt(Type.Object({ type: Str(), object: Type.Unknown() })),
  done: Opt(Bool()),
});
export type ApiResponse = Static<typeof ApiResponse>;

export type { Pod, PodStatus, ContainerStatus };
