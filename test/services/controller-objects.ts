// Objects for the Service controller tests: pods that a kubelet has started (IP, node,
// readiness), Ready nodes with addresses, and Services.
import type { ContainerPort, Node, Pod } from '../../protocol/kube/types.js';
import { R, type ClusterClient } from '../../controller/apiserver/client.js';
import type { Service } from '../../controller/controller-manager/endpoints-controller.js';
import { rfc3339Seconds } from '../../protocol/kube/time.js';

// Polling a synchronous probe is the controllers' tests' helper; these tests call it waitUntil.
export { waitFor as waitUntil } from '../controller-manager/util.js';

const stamp = () => rfc3339Seconds();

/** A pod bound to a node, optionally with named container ports. */
export async function addPod(client: ClusterClient, name: string, opts: { labels?: Record<string, string>; node?: string; ports?: ContainerPort[]; namespace?: string } = {}): Promise<Pod> {
  return client.create<Pod>(R.pods, {
    apiVersion: 'v1', kind: 'Pod',
    metadata: { name, namespace: opts.namespace ?? 'default', labels: opts.labels ?? { app: 'hello' } },
    spec: { nodeName: opts.node ?? 'node-a', containers: [{ name: 'web', image: 'busybox', ...(opts.ports ? { ports: opts.ports } : {}) }] },
  });
}

/** What the agent reports for a running pod: its IP, and Ready as asked. */
export async function setPodStatus(client: ClusterClient, name: string, ip: string, ready: boolean, namespace = 'default'): Promise<Pod> {
  const pod = structuredClone(client.get<Pod>(R.pods, namespace, name)!);
  const at = stamp();
  pod.status = {
    phase: 'Running', podIP: ip, podIPs: [{ ip }], startTime: at,
    conditions: [
      { type: 'Ready', status: ready ? 'True' : 'False', lastTransitionTime: at },
      { type: 'ContainersReady', status: ready ? 'True' : 'False', lastTransitionTime: at },
    ],
  };
  return client.update<Pod>(R.pods, pod, 'status');
}

export async function addNode(client: ClusterClient, name: string, ip: string, ready = true): Promise<Node> {
  const node = await client.create<Node>(R.nodes, { apiVersion: 'v1', kind: 'Node', metadata: { name, labels: { 'kubernetes.io/hostname': name } }, spec: { podCIDR: `10.42.${Number(ip.split('.')[3])}.0/24` } });
  return setNodeStatus(client, node.metadata.name!, ip, ready);
}

export async function setNodeStatus(client: ClusterClient, name: string, ip: string, ready: boolean): Promise<Node> {
  const node = structuredClone(client.get<Node>(R.nodes, undefined, name)!);
  node.status = {
    ...(node.status ?? {}),
    addresses: [{ type: 'InternalIP', address: ip }, { type: 'Hostname', address: name }],
    conditions: [{ type: 'Ready', status: ready ? 'True' : 'False', lastHeartbeatTime: stamp(), lastTransitionTime: stamp() }],
  };
  return client.update<Node>(R.nodes, node, 'status');
}

export async function addService(client: ClusterClient, name: string, spec: Service['spec'], namespace = 'default'): Promise<Service> {
  return client.create<Service>(R.services, { apiVersion: 'v1', kind: 'Service', metadata: { name, namespace }, spec });
}
