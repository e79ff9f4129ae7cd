// Payloads carried on the pikube MQTT topics (see topics.ts). Both sides import these
// types; validate.ts checks every payload that arrives before it is used.
import type { Pod, PodStatus, ContainerStatus } from '../kube/types.js';

export const PROTOCOL_VERSION = 'v1';

/** `<base>/v1/nodes/<node>/availability`, retained; the agent's Will says offline. */
export interface AvailabilityPayload { state: 'online' | 'offline' }

export interface NodeAddress { type: 'InternalIP' | 'ExternalIP' | 'Hostname'; address: string }

/** `<base>/v1/nodes/<node>/status`, retained, published on start, on change and every heartbeat. */
export interface NodeStatusPayload {
  /** ISO time the agent took the reading. */
  time: string;
  /** Agent start time; a change means the agent restarted. */
  bootTime: string;
  capacity: { cpuCores: number; memoryBytes: number; pods: number; ephemeralStorageBytes?: number };
  allocatable: { cpuCores: number; memoryBytes: number; pods: number; ephemeralStorageBytes?: number };
  /** Real use of the whole board, not only of pods. */
  usage: { cpuCores: number; memoryBytes: number };
  pressure: { memory: boolean; disk: boolean; pid: boolean };
  nodeInfo: {
    osImage: string; kernelVersion: string; architecture: string; operatingSystem: string;
    containerRuntimeVersion: string; machineID?: string; systemUUID?: string; bootID?: string; agentVersion: string;
  };
  addresses: NodeAddress[];
  /** Labels the agent reports about itself (arch, os, hostname); merged into the Node. */
  labels: Record<string, string>;
  /** SoC temperature, where the board has a sensor. */
  temperatureC?: number;
  /** How Service traffic is forwarded on this node. */
  proxyMode?: 'iptables' | 'userspace' | 'off';
  /** Per-pod usage for metrics.k8s.io. */
  pods: PodUsage[];
  /** Where the agent keeps local-path volumes. */
  storageDir?: string;
  /** The image store's biggest images (status.images), at most 50. */
  images?: { names: string[]; sizeBytes: number }[];
}

export interface PodUsage { uid: string; namespace: string; name: string; containers: { name: string; cpuCores: number; memoryBytes: number }[] }

/**
 * `<base>/v1/nodes/<node>/heartbeat`, not retained: "still here", sent every heartbeat in
 * which nothing worth a full status changed. A few dozen bytes instead of a status.
 */
export interface HeartbeatPayload {
  /** ISO time on the agent's clock. */
  time: string;
}

/**
 * `<base>/v1/cluster/config`, retained, from the controller: how often agents must say
 * they are alive so that the node monitor's grace period holds without flapping.
 */
export interface ClusterConfigPayload {
  /** Seconds between liveness beats (a quarter of the grace period, within bounds). */
  heartbeatSeconds: number;
  /** The controller's --node-monitor-grace-period, in seconds, for the record. */
  nodeMonitorGracePeriodSeconds: number;
  /** Longest time between two full status reports, even when nothing changed. */
  statusRefreshSeconds: number;
}

/** One pod of a node's desired set, with what the agent cannot read from the API itself. */
export interface DesiredPod {
  pod: Pod;
  /** ConfigMap data the pod refers to (env, envFrom, volumes), by name. */
  configMaps: Record<string, Record<string, string>>;
  /** Secret data (base64, as in the API), by name. */
  secrets: Record<string, Record<string, string>>;
  /** Projected service-account token for /var/run/secrets/kubernetes.io/serviceaccount. */
  serviceAccount?: { token: string; caCrt: string; namespace: string; apiServer: string };
  /** The bound volume of each PersistentVolumeClaim the pod mounts, by claim name. */
  claims?: Record<string, ClaimVolume>;
}

/** Where a claim's volume lives, as the agent mounts it. */
export interface ClaimVolume {
  volumeName: string;
  /** A directory on this node (hostPath and local volumes). */
  path?: string;
  /** Made by the agent when missing (volumes the local-path provisioner created). */
  create?: boolean;
  /** A NAS export, mounted on the host and bind-mounted into the containers. */
  nfs?: { server: string; path: string };
  readOnly?: boolean;
  mountOptions?: string[];
}

/** `<base>/v1/nodes/<node>/pods`, retained: the node's whole desired set (level-triggered). */
export interface DesiredPodsPayload {
  /** Rises with every publication; the agent ignores anything older than what it has. */
  generation: number;
  pods: DesiredPod[];
  /** Pod CIDR the controller gave this node, if any. */
  podCIDR?: string;
  /** Cluster DNS settings the pods should use. */
  dns?: { clusterDomain: string; serverIP?: string };
}

export interface PodStatusUpdate {
  uid: string;
  namespace: string;
  name: string;
  /** metadata.generation of the desired pod this status answers. */
  observedGeneration?: number;
  /** True once every container of a pod that is no longer desired (or terminating) is gone. */
  gone?: boolean;
  status?: PodStatus;
}

/** `<base>/v1/nodes/<node>/pod-status`, not retained. */
export interface PodStatusPayload { updates: PodStatusUpdate[] }

export interface NodeEvent {
  involvedObject: { kind: string; namespace?: string; name: string; uid?: string; fieldPath?: string };
  type: 'Normal' | 'Warning';
  reason: string;
  message: string;
  /** ISO time. */
  time: string;
}

/** `<base>/v1/nodes/<node>/events`, not retained. */
export interface EventsPayload { events: NodeEvent[] }

/** Cluster-wide Service routing, `<base>/v1/cluster/services`, retained, read by every node. */
export interface ServiceRoutingPayload {
  generation: number;
  services: ServiceRoute[];
  /** Every node's pod range and addresses, for host-gateway routes between boards. */
  nodes?: { name: string; podCIDR?: string; addresses: string[] }[];
  /** Cluster DNS domain (default cluster.local). */
  clusterDomain?: string;
}

export interface ServiceRoute {
  namespace: string;
  name: string;
  type: 'ClusterIP' | 'NodePort' | 'LoadBalancer';
  clusterIP?: string;
  headless: boolean;
  sessionAffinity: 'None' | 'ClientIP';
  externalTrafficPolicy: 'Cluster' | 'Local';
  ports: { name?: string; protocol: 'TCP' | 'UDP'; port: number; nodePort?: number; endpoints: { ip: string; port: number; nodeName?: string; ready: boolean; /** Pod hostname under a headless Service (StatefulSet pods). */ hostname?: string }[] }[];
  /** Addresses the LoadBalancer answers on. */
  loadBalancerIPs: string[];
}

/** `<base>/v1/nodes/<node>/request/<op>`, not retained. */
export type RequestPayload = LogsRequest | ExecRequest | ExecInput | CancelRequest | RemoveVolumeRequest;

export interface LogsRequest {
  op: 'logs'; transaction: string;
  namespace: string; pod: string; uid: string; container: string;
  follow: boolean; tailLines?: number; timestamps: boolean; sinceSeconds?: number; previous?: boolean;
}
export interface ExecRequest {
  op: 'exec'; transaction: string;
  namespace: string; pod: string; uid: string; container: string;
  command: string[]; stdin: boolean; tty: boolean;
}
/** Stdin for a running exec, in order by seq; `eof` closes it. */
export interface ExecInput { op: 'exec-input'; transaction: string; seq: number; data?: string; eof?: boolean }
export interface CancelRequest { op: 'cancel'; transaction: string }
/** Deletes a reclaimed local-path volume's directory (only inside the agent's storage directory). */
export interface RemoveVolumeRequest { op: 'remove-volume'; transaction: string; path: string }

/** `<base>/v1/nodes/<node>/response/<op>`: ordered chunks of one reply. */
export interface ResponseChunk {
  transaction: string;
  seq: number;
  stream?: 'stdout' | 'stderr';
  /** base64 */
  data?: string;
  done?: boolean;
  exitCode?: number;
  error?: string;
}

/** Joining: `<base>/v1/join/<node>/request` → `<base>/v1/join/<node>/response`. */
export interface JoinRequest { token: string; nonce: string }
export interface JoinResponse { nonce: string; ok: boolean; username?: string; password?: string; error?: string }

/** Verbs of the Kubernetes API over MQTT (`<base>/v1/api/request/<user>`). */
export const API_VERBS = ['get', 'list', 'create', 'update', 'patch', 'delete', 'scale', 'watch', 'cancel'] as const;
export type ApiVerb = (typeof API_VERBS)[number];
export const API_PATCH_TYPES = ['merge', 'strategic', 'json', 'apply'] as const;

/** A request a home-lab automation sends; answered on `<base>/v1/api/response/<user>/<id>`. */
export interface ApiRequest {
  id: string;
  verb: ApiVerb;
  /** '' or absent: the core group. */
  group?: string;
  version?: string;
  resource?: string;
  namespace?: string;
  name?: string;
  subresource?: string;
  body?: unknown;
  patchType?: (typeof API_PATCH_TYPES)[number];
  labelSelector?: string;
  fieldSelector?: string;
  /** Server-side apply's field manager (default pikube-mqtt). */
  fieldManager?: string;
}

/** The answer: the HTTP API's status code and its Status or object; watches send one per event. */
export interface ApiResponse {
  id: string;
  code: number;
  status?: unknown;
  object?: unknown;
  /** Watch events, one per message, until `done`. */
  event?: { type: string; object: unknown };
  done?: boolean;
}

export type { Pod, PodStatus, ContainerStatus };
