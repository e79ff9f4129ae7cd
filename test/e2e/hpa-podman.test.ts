// HorizontalPodAutoscaler with real parts: a podman node reports real CPU usage; a busy
// loop in one pod drives `kubectl autoscale`d Deployment up, and it comes back down once
// the load stops and the (shortened) scale-down stabilisation window has passed.
import test from 'ava';
import { BUSYBOX_IMAGE } from '../helpers/podman-image.js';
import { waitFor, type Kubectl } from '../helpers/processes.js';
import { startPodmanCluster, type PodmanCluster } from './podman-cluster.js';
import { uniqueNodeName } from './e2e-helpers.js';

const NODE = uniqueNodeName('e2e-hpa');
let cluster: PodmanCluster | undefined;
let k: Kubectl;

const manifest = `apiVersion: apps/v1
kind: Deployment
metadata: {name: burn}
spec:
  replicas: 1
  selector: {matchLabels: {app: burn}}
  template:
    metadata: {labels: {app: burn}}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
        - name: c
          image: ${BUSYBOX_IMAGE}
          imagePullPolicy: Never
          command: ["/bin/sh", "-c", "exec /bin/httpd -f -p 8080"]
          resources: {requests: {cpu: 100m, memory: 16Mi}}
          readinessProbe: {tcpSocket: {port: 8080}, periodSeconds: 1}
`;

const replicas = async () => Number((await k(['get', 'deploy', 'burn', '-o', 'jsonpath={.spec.replicas}'])).stdout);

test.before(async () => {
  cluster = await startPodmanCluster(NODE, { agentArgs: ['--heartbeat-interval', '2s'] });
  ({ k } = cluster);
});

test.after.always(async () => {
  await cluster?.stop();
});

test.serial('an HPA scales up under real CPU load and down after the stabilisation window', async (t) => {
  t.timeout(360_000);
  await k(['apply', '-f', '-'], { input: manifest });
  await waitFor('1 ready pod', async () => (await k(['get', 'deploy', 'burn', '-o', 'jsonpath={.status.readyReplicas}'])).stdout === '1', 90_000, 1000);
  t.regex((await k(['autoscale', 'deployment', 'burn', '--min=1', '--max=3', '--cpu-percent=50'])).stdout, /horizontalpodautoscaler.autoscaling\/burn autoscaled/);
  await k(['patch', 'hpa', 'burn', '--type=merge', '-p', '{"spec":{"behavior":{"scaleDown":{"stabilizationWindowSeconds":20}}}}']);
  // Idle: the HPA reads a utilisation well under target and keeps one replica.
  await waitFor('a measured utilisation', async () => /cpu: \d+%\/50%/.test((await k(['get', 'hpa', 'burn'])).stdout), 120_000, 1000);
  t.is(await replicas(), 1);

  const pod = (await k(['get', 'pods', '-l', 'app=burn', '-o', 'jsonpath={.items[0].metadata.name}'])).stdout;
  const load = k(['exec', pod, '--', '/bin/sh', '-c', 'timeout 50 /bin/sh -c "while :; do :; done"; true'], { reject: false, timeoutMs: 90_000 });
  await waitFor('scaled up', async () => (await replicas()) >= 2, 60_000, 1000);
  const hpa = JSON.parse((await k(['get', 'hpa', 'burn', '-o', 'json'])).stdout);
  t.true(hpa.status.currentMetrics[0].resource.current.averageUtilization > 50, JSON.stringify(hpa.status));
  t.regex((await k(['describe', 'hpa', 'burn'])).stdout, /SuccessfulRescale\s.*New size: [23]; reason: cpu resource utilization \(percentage of request\) above target/);
  await load;
  const idleSince = Date.now();
  await waitFor('scaled back to 1', async () => (await replicas()) === 1, 120_000, 1000);
  t.true(Date.now() - idleSince >= 15_000, 'not before the 20s window (less the usage report lag)');
  t.regex((await k(['describe', 'hpa', 'burn'])).stdout, /New size: 1; reason: All metrics below target|New size: 1; reason: cpu resource utilization \(percentage of request\) below target/);
});
