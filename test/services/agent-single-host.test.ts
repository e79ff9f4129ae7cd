// One podman agent straight on the machine (no namespaces), as a single-board home lab
// runs it: the Service's NodePort and LoadBalancer answer on 127.0.0.1, and a pod finds
// the Service by name through the agent's cluster DNS and reaches it.
import test from 'ava';
import { randomBytes, randomInt } from 'node:crypto';
import { execa } from 'execa';
import { ensureBusyboxImage, BUSYBOX_IMAGE } from '../helpers/podman-image.js';
import { freePort, kubectl, startAgent, startController, waitFor, type AgentHandle, type ControllerHandle, type Kubectl } from '../helpers/processes.js';

const suffix = randomBytes(3).toString('hex');
const node = `single-${suffix}`;
const a = randomInt(100, 125);
let ctrl: ControllerHandle | undefined;
let agent: AgentHandle | undefined;
let k: Kubectl;

const sh = (cmd: string, args: string[]) => execa(cmd, args, { reject: false, timeout: 30_000 });

test.before(async () => {
  await ensureBusyboxImage();
  ctrl = await startController({ args: ['--cluster-cidr', `10.${a}.0.0/16`, '--service-cluster-ip-range', `10.${a + 25}.0.0/16`] });
  k = kubectl(ctrl.kubeconfig);
  agent = startAgent(ctrl, { nodeName: node, runtime: 'podman', args: ['--proxy-mode', 'userspace', '--heartbeat-interval', '2s'] });
  await waitFor('the node Ready', async () => {
    const r = await k(['get', 'node', node, '-o', 'json'], { reject: false });
    return r.exitCode === 0 && JSON.parse(r.stdout).status?.conditions?.some((c: { type: string; status: string }) => c.type === 'Ready' && c.status === 'True');
  }, 60_000, 500);
});

test.after.always(async () => {
  await agent?.stop().catch(() => undefined);
  const pods = await sh('podman', ['pod', 'ps', '-q', '--filter', `label=pikube.io/node=${node}`]);
  for (const id of pods.stdout.split('\n').filter(Boolean)) await sh('podman', ['pod', 'rm', '-f', '-t', '0', id]);
  const ctrs = await sh('podman', ['ps', '-aq', '--filter', `label=pikube.io/node=${node}`]);
  for (const id of ctrs.stdout.split('\n').filter(Boolean)) await sh('podman', ['rm', '-f', '-t', '0', id]);
  await sh('podman', ['network', 'rm', '-f', `pikube-${node}`]);
  await ctrl?.kill();
  if (process.env['PIKUBE_TEST_LOGS']) console.log(agent?.log().slice(-6000));
});

async function curl(url: string): Promise<string | undefined> {
  const r = await sh('curl', ['-s', '--max-time', '2', url]);
  return r.exitCode === 0 ? r.stdout.trim() : undefined;
}

test('NodePort and LoadBalancer on 127.0.0.1, the Service by name from a pod', async (t) => {
  const lbPort = await freePort();
  const web = {
    name: 'web', image: BUSYBOX_IMAGE, imagePullPolicy: 'Never',
    command: ['sh', '-c', 'hostname > /tmp/index.html; exec httpd -f -p 8080 -h /tmp'],
    ports: [{ name: 'http', containerPort: 8080 }],
  };
  const manifests = [
    { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'hello' }, spec: { replicas: 1, selector: { matchLabels: { app: 'hello' } }, template: { metadata: { labels: { app: 'hello' } }, spec: { terminationGracePeriodSeconds: 0, containers: [web] } } } },
    { apiVersion: 'v1', kind: 'Service', metadata: { name: 'hello' }, spec: { type: 'LoadBalancer', selector: { app: 'hello' }, ports: [{ name: 'http', port: lbPort, targetPort: 'http' }] } },
    { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'client' }, spec: { terminationGracePeriodSeconds: 0, containers: [{ name: 'c', image: BUSYBOX_IMAGE, imagePullPolicy: 'Never', command: ['sleep', '3600'] }] } },
  ];
  await k(['apply', '-f', '-'], { input: manifests.map((m) => JSON.stringify(m)).join('\n') });
  const svc = await waitFor('the Service with a node port', async () => {
    const s = JSON.parse((await k(['get', 'service', 'hello', '-o', 'json'])).stdout);
    return s.spec.ports[0].nodePort ? s : false;
  }, 30_000, 500);
  const nodePort: number = svc.spec.ports[0].nodePort;
  t.regex(await waitFor('NodePort on 127.0.0.1', () => curl(`http://127.0.0.1:${nodePort}/`), 90_000, 500), /^hello-/);
  t.regex(await waitFor('LoadBalancer on 127.0.0.1', () => curl(`http://127.0.0.1:${lbPort}/`), 20_000, 500), /^hello-/);
  await waitFor('the client pod running', async () => JSON.parse((await k(['get', 'pod', 'client', '-o', 'json'])).stdout).status?.phase === 'Running', 60_000, 500);
  const resolv = (await k(['exec', 'client', '--', 'cat', '/etc/resolv.conf'])).stdout;
  t.regex(resolv, /search default\.svc\.cluster\.local svc\.cluster\.local cluster\.local/);
  t.regex(resolv, new RegExp(`nameserver 10\\.${a}\\.0\\.1`), 'the nameserver is the pod network gateway');
  t.regex(resolv, /options ndots:5/);
  const body = await waitFor('the client reaches hello by name', async () => {
    const r = await k(['exec', 'client', '--', 'busybox', 'timeout', '2', 'wget', '-qO-', `http://hello.default.svc.cluster.local:${lbPort}/`], { reject: false });
    return r.exitCode === 0 ? r.stdout.trim() : false;
  }, 30_000, 1000);
  t.regex(body, /^hello-/);
  await k(['delete', 'service', 'hello']);
  await waitFor('NodePort and LoadBalancer closed', async () => (await curl(`http://127.0.0.1:${nodePort}/`)) === undefined && (await curl(`http://127.0.0.1:${lbPort}/`)) === undefined, 10_000, 200);
  await k(['delete', 'deployment,pod', '--all', '--wait=false'], { reject: false });
});
