// Services end to end on the controller side: a real controller process with its embedded
// broker, a simulated agent, stock kubectl. The Endpoints table, the load balancer status
// and the retained routing payload an agent would read are checked as a user and an agent
// see them.
import test from 'ava';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { compareIp } from '../../controller/controller-manager/endpoints-controller.js';
import { Topics } from '../../protocol/mqtt/topics.js';
import { parseServiceRouting } from '../../protocol/mqtt/validate.js';
import type { ServiceRoutingPayload } from '../../protocol/mqtt/payloads.js';
import { kubectl, removeDir, startAgent, startController, waitFor, type AgentHandle, type ControllerHandle, type Kubectl } from '../helpers/processes.js';

const NODE = `svc-e2e-${randomBytes(3).toString('hex')}`;
let ctrl: ControllerHandle | undefined;
let agent: AgentHandle | undefined;
let k: Kubectl;

test.before(async () => {
  ctrl = await startController();
  k = kubectl(ctrl.kubeconfig);
  agent = startAgent(ctrl, { nodeName: NODE, runtime: 'simulated' });
});

test.after.always(async () => {
  await agent?.kill();
  await ctrl?.kill();
  if (agent) removeDir(agent.dir);
  if (ctrl) removeDir(ctrl.dir);
  if (k) removeDir(k.home);
});

const manifest = (replicas: number) => `
apiVersion: apps/v1
kind: Deployment
metadata: { name: hello, namespace: default }
spec:
  replicas: ${replicas}
  selector: { matchLabels: { app: hello } }
  template:
    metadata: { labels: { app: hello } }
    spec:
      nodeName: ${NODE}
      containers:
      - name: web
        image: busybox
        ports: [{ name: http, containerPort: 8080 }]
---
apiVersion: v1
kind: Service
metadata: { name: hello, namespace: default }
spec:
  type: LoadBalancer
  selector: { app: hello }
  ports: [{ name: web, port: 80, targetPort: http }]
`;

/** The retained routing payload, as a freshly connected subscriber receives it. */
async function retainedRouting(): Promise<ServiceRoutingPayload> {
  const client = await mqtt.connectAsync(ctrl!.mqttUrl, {
    username: 'pikube-controller', password: readFileSync(join(ctrl!.dir, 'mqtt-controller-password'), 'utf8').trim(),
    clientId: `svc-e2e-sub-${randomBytes(4).toString('hex')}`, reconnectPeriod: 0, connectTimeout: 5000,
  });
  try {
    const topic = new Topics().services();
    const got = new Promise<Buffer>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no retained routing payload')), 5000);
      client.on('message', (t, payload, packet) => {
        if (t === topic && packet.retain) { clearTimeout(timer); resolve(payload); }
      });
    });
    await client.subscribeAsync(topic, { qos: 1 });
    return parseServiceRouting(await got);
  } finally {
    await client.endAsync(true);
  }
}

test.serial('kubectl apply of a Deployment and a LoadBalancer Service: endpoints, status and the routing payload', async (t) => {
  await k(['apply', '-f', '-'], { input: manifest(3) });

  // kubectl get endpoints: `hello   ip:8080,ip:8080,ip:8080   age`, as upstream prints it.
  const row = await waitFor('three endpoints', async () => {
    const r = await k(['get', 'endpoints', 'hello', '--no-headers']);
    return /^hello\s+(\d+\.\d+\.\d+\.\d+:8080,){2}\d+\.\d+\.\d+\.\d+:8080\s+\d+s$/.test(r.stdout.trim()) && r.stdout.trim();
  }, 90_000, 300);
  const endpointIps = row.split(/\s+/)[1]!.split(',').map((x) => x.replace(/:8080$/, '')).sort();
  const header = (await k(['get', 'endpoints', 'hello'])).stdout.split('\n')[0]!;
  t.regex(header, /^NAME\s+ENDPOINTS\s+AGE$/);
  const podIps = (await k(['get', 'pods', '-l', 'app=hello', '-o', 'jsonpath={.items[*].status.podIP}'])).stdout.split(' ').sort();
  t.deepEqual(endpointIps, podIps);

  // The node's own addresses are the load balancer's (re-read: a board's addresses may change).
  const nodeIps = async () => (await k(['get', 'node', NODE, '-o', 'jsonpath={.status.addresses[?(@.type=="InternalIP")].address}'])).stdout.trim().split(/\s+/).filter(Boolean).sort(compareIp);
  t.true((await nodeIps()).every((ip) => /^\d+\.\d+\.\d+\.\d+$/.test(ip)));
  await waitFor('load balancer ingress', async () => {
    const r = await k(['get', 'svc', 'hello', '--no-headers']);
    return r.stdout.split(/\s+/)[3] === (await nodeIps()).join(',');
  }, 30_000, 300);

  // EndpointSlices are served and listed as upstream.
  const slices = await k(['get', 'endpointslices', '-l', 'kubernetes.io/service-name=hello', '--no-headers']);
  t.regex(slices.stdout.trim(), /^hello-\w+\s+IPv4\s+8080\s+\S+/);

  // The retained routing payload an agent reads.
  const payload = await waitFor('routing payload with three endpoints', async () => {
    const p = await retainedRouting();
    const hello = p.services.find((s) => s.namespace === 'default' && s.name === 'hello');
    const node = p.nodes?.find((n) => n.name === NODE);
    return hello?.ports[0]?.endpoints.filter((e) => e.ready).length === 3 && node && node.addresses.length > 0
      && JSON.stringify(hello.loadBalancerIPs) === JSON.stringify([...node.addresses].sort(compareIp)) && p;
  }, 20_000, 300);
  const hello = payload.services.find((s) => s.name === 'hello')!;
  const clusterIP = (await k(['get', 'svc', 'hello', '-o', 'jsonpath={.spec.clusterIP}'])).stdout.trim();
  const nodePort = Number((await k(['get', 'svc', 'hello', '-o', 'jsonpath={.spec.ports[0].nodePort}'])).stdout.trim());
  t.like(hello, { type: 'LoadBalancer', clusterIP, headless: false, sessionAffinity: 'None', externalTrafficPolicy: 'Cluster' });
  t.like(hello.ports[0], { name: 'web', protocol: 'TCP', port: 80, nodePort });
  t.deepEqual(hello.ports[0]!.endpoints.map((e) => e.ip).sort(), podIps);
  t.true(hello.ports[0]!.endpoints.every((e) => e.port === 8080 && e.nodeName === NODE));
  t.truthy(payload.services.find((s) => s.name === 'kubernetes' && s.clusterIP && s.ports[0]!.endpoints.length === 1));
  t.like(payload.nodes?.find((n) => n.name === NODE), { podCIDR: (await k(['get', 'node', NODE, '-o', 'jsonpath={.spec.podCIDR}'])).stdout.trim() });
  t.is(payload.clusterDomain, 'cluster.local');

  // Scaling down shrinks the endpoints and the payload.
  await k(['scale', 'deployment/hello', '--replicas=1']);
  await waitFor('one endpoint', async () => /^hello\s+\d+\.\d+\.\d+\.\d+:8080\s/.test((await k(['get', 'ep', 'hello', '--no-headers'])).stdout.trim()), 60_000, 300);
  const later = await waitFor('payload follows', async () => {
    const p = await retainedRouting();
    return p.services.find((s) => s.name === 'hello')?.ports[0]?.endpoints.length === 1 && p;
  }, 20_000, 300);
  t.true(later.generation > payload.generation);

  // Deleting the Service takes its Endpoints and its route with it.
  await k(['delete', 'service', 'hello']);
  await waitFor('endpoints gone', async () => (await k(['get', 'endpoints', 'hello'], { reject: false })).stderr.includes('NotFound'), 20_000, 300);
  await waitFor('route gone', async () => !(await retainedRouting()).services.some((s) => s.name === 'hello'), 20_000, 300);
  await waitFor('slices gone', async () => (await k(['get', 'endpointslices', '-l', 'kubernetes.io/service-name=hello', '-o', 'name'])).stdout.trim() === '', 20_000, 300);
  await k(['delete', 'deployment', 'hello', '--wait=false']);
  t.pass();
});
