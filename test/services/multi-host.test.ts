// Acceptance for Services and pod networking: two "hosts" on one machine, each a network
// namespace wired to a LAN bridge by a veth pair and running a real agent with podman
// inside it (one in iptables mode, one in user-space mode), and a real controller on the
// LAN. Pods reach each other across hosts by pod IP; a Deployment's Service answers by
// ClusterIP and by name from a pod on the other host, on every host's node port and as a
// LoadBalancer on the hosts' addresses; readiness changes reach the proxies within 2 s
// without cutting an open connection; deleting the Service removes it everywhere. Both
// hosts run the ingress proxy: an Ingress for a Deployment answers on each host's
// address by host name, over TLS with the Secret's certificate too, and stops on both
// within 1 s of its deletion.
import test from 'ava';
import { randomBytes, randomInt } from 'node:crypto';
import { createConnection, type Socket } from 'node:net';
import { get } from 'node:http';
import { execa } from 'execa';
import { ensureBusyboxImage, BUSYBOX_IMAGE } from '../helpers/podman-image.js';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ingressRequest, peerCertificate, selfSignedCert } from '../ingress/ingress-client.js';
import { kubectl, removeDir, startAgent, startController, waitFor, type AgentHandle, type ControllerHandle, type Kubectl } from '../helpers/processes.js';

const suffix = randomBytes(3).toString('hex');
const subnet = `172.31.${randomInt(100, 250)}`;
const clusterCIDR = `10.${randomInt(150, 200)}.0.0/16`;
const serviceCIDR = `10.${randomInt(201, 250)}.0.0/16`;
const bridge = `pkl${suffix}`;
const hosts = [1, 2].map((i) => ({
  i, netns: `pkh${suffix}-${i}`, veth: `pkv${suffix}${i}`, address: `${subnet}.${10 + i}`,
  node: `h${i}-${suffix}`, proxy: i === 1 ? 'iptables' : 'userspace',
}));

/** Ingress ports of the hosts (port 80 is the LoadBalancer test's). */
const INGRESS_HTTP = 8880;
const INGRESS_HTTPS = 8443;

let ctrl: ControllerHandle | undefined;
const agents: AgentHandle[] = [];
let k: Kubectl;

const sh = (cmd: string, args: string[]) => execa(cmd, args, { reject: false });
const inNs = (netns: string, cmd: string, args: string[]) => execa('nsenter', [`--net=/run/netns/${netns}`, cmd, ...args], { reject: false, timeout: 20_000 });

async function must(cmd: string, args: string[]): Promise<void> {
  const r = await sh(cmd, args);
  if (r.exitCode !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr}`);
}

test.before(async () => {
  await ensureBusyboxImage();
  await must('ip', ['link', 'add', bridge, 'type', 'bridge']);
  await must('ip', ['addr', 'add', `${subnet}.1/24`, 'dev', bridge]);
  await must('ip', ['link', 'set', bridge, 'up']);
  for (const h of hosts) {
    await must('ip', ['netns', 'add', h.netns]);
    await must('ip', ['link', 'add', h.veth, 'type', 'veth', 'peer', 'name', `pkp${suffix}${h.i}`]);
    await must('ip', ['link', 'set', `pkp${suffix}${h.i}`, 'netns', h.netns]);
    await must('ip', ['link', 'set', h.veth, 'master', bridge, 'up']);
    const n = (args: string[]) => must('nsenter', [`--net=/run/netns/${h.netns}`, 'ip', ...args]);
    await n(['link', 'set', `pkp${suffix}${h.i}`, 'name', 'lan0']);
    await n(['addr', 'add', `${h.address}/24`, 'dev', 'lan0']);
    await n(['link', 'set', 'lan0', 'up']);
    await n(['link', 'set', 'lo', 'up']);
  }
  ctrl = await startController({ host: `${subnet}.1`, args: ['--cluster-cidr', clusterCIDR, '--service-cluster-ip-range', serviceCIDR, '--node-monitor-grace-period', '60s'] });
  k = kubectl(ctrl.kubeconfig);
  for (const h of hosts) {
    agents.push(startAgent(ctrl, { nodeName: h.node, runtime: 'podman', netns: h.netns, args: ['--proxy-mode', h.proxy, '--heartbeat-interval', '2s', '--ingress', 'on', '--ingress-http-port', String(INGRESS_HTTP), '--ingress-https-port', String(INGRESS_HTTPS)] }));
  }
  await waitFor('both nodes Ready with a pod CIDR', async () => {
    const r = await k(['get', 'nodes', '-o', 'json'], { reject: false });
    if (r.exitCode !== 0) return false;
    const items = JSON.parse(r.stdout).items as { spec?: { podCIDR?: string }; status?: { conditions?: { type: string; status: string }[] } }[];
    return items.length === 2 && items.every((n) => n.spec?.podCIDR && n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'));
  }, 60_000, 500);
});

test.after.always(async () => {
  if (ctrl) await k?.(['delete', 'ingress,deployment,service,pod', '--all', '--wait=false'], { reject: false }).catch(() => undefined);
  for (const a of agents) await a.stop().catch(() => undefined);
  for (const h of hosts) {
    // inside the host's namespace, where the pods' bridge is, so their network is torn down too
    const pods = await inNs(h.netns, 'podman', ['pod', 'ps', '-q', '--filter', `label=pikube.io/node=${h.node}`]);
    for (const id of pods.stdout.split('\n').filter(Boolean)) await inNs(h.netns, 'podman', ['pod', 'rm', '-f', '-t', '0', id]);
    const ctrs = await inNs(h.netns, 'podman', ['ps', '-aq', '--filter', `label=pikube.io/node=${h.node}`]);
    for (const id of ctrs.stdout.split('\n').filter(Boolean)) await inNs(h.netns, 'podman', ['rm', '-f', '-t', '0', id]);
    await inNs(h.netns, 'podman', ['network', 'rm', '-f', `pikube-${h.node}`]);
    await sh('ip', ['netns', 'del', h.netns]);
    await sh('ip', ['link', 'del', h.veth]);
  }
  await sh('ip', ['link', 'del', bridge]);
  await ctrl?.kill();
  if (process.env['PIKUBE_TEST_LOGS']) for (const a of agents) console.log(a.log().slice(-6000));
});

const webPod = (name: string, node: string, labels: Record<string, string> = {}) => ({
  apiVersion: 'v1', kind: 'Pod', metadata: { name, labels },
  spec: { nodeName: node, terminationGracePeriodSeconds: 0, containers: [webContainer()] },
});

/** httpd on 8080 answering its host name; on 9000 a greeting (host name) then an echo. */
function webContainer() {
  return {
    name: 'web', image: BUSYBOX_IMAGE, imagePullPolicy: 'Never',
    command: ['sh', '-c', 'hostname > /tmp/index.html; echo "hostname; exec cat" > /tmp/greet.sh; nc -ll -p 9000 -e sh /tmp/greet.sh & exec httpd -f -p 8080 -h /tmp'],
    ports: [{ name: 'http', containerPort: 8080 }, { name: 'echo', containerPort: 9000 }],
    // One failure makes the pod unready at once (the readiness test below), but a slow
    // `podman exec` (two agents share one podman) is not a failure.
    readinessProbe: { exec: { command: ['sh', '-c', '[ ! -e /tmp/unready ]'] }, periodSeconds: 1, failureThreshold: 1, timeoutSeconds: 5 },
  };
}

async function apply(obj: object): Promise<void> {
  await k(['apply', '-f', '-'], { input: JSON.stringify(obj) });
}

async function podIP(name: string): Promise<string> {
  return waitFor(`pod ${name} running with an IP`, async () => {
    const r = await k(['get', 'pod', name, '-o', 'json'], { reject: false });
    if (r.exitCode !== 0) return false;
    const p = JSON.parse(r.stdout);
    const ready = p.status?.conditions?.some((c: { type: string; status: string }) => c.type === 'Ready' && c.status === 'True');
    return ready && p.status?.podIP ? String(p.status.podIP) : false;
  }, 90_000, 500);
}

async function execIn(pod: string, cmd: string[]): Promise<string> {
  const r = await k(['exec', pod, '--', ...cmd], { reject: false, timeoutMs: 30_000 });
  if (r.exitCode !== 0) throw new Error(`exec ${cmd.join(' ')} in ${pod}: ${r.exitCode} ${r.stderr}`);
  return r.stdout;
}

/** In-process GET (no child process), so polling measures the proxy rather than process start-up. */
function httpGet(url: string): Promise<string | undefined> {
  return new Promise((resolve) => {
    const req = get(url, { timeout: 2000, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => { body += d; });
      res.on('end', () => resolve(res.statusCode === 200 ? body.trim() : undefined));
      res.on('error', () => resolve(undefined));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(undefined));
  });
}

async function httpFrom(netns: string | undefined, url: string): Promise<string | undefined> {
  const args = ['-s', '--max-time', '2', url];
  const r = netns ? await inNs(netns, 'curl', args) : await sh('curl', args);
  return r.exitCode === 0 ? r.stdout.trim() : undefined;
}

test.serial('pods reach each other across hosts by pod IP', async (t) => {
  await apply(webPod(`web-${suffix}`, hosts[1]!.node));
  await apply({ ...webPod(`client-${suffix}`, hosts[0]!.node) });
  const [webIP, clientIP] = await Promise.all([podIP(`web-${suffix}`), podIP(`client-${suffix}`)]);
  const cidrs = JSON.parse((await k(['get', 'nodes', '-o', 'json'])).stdout).items.map((n: { spec: { podCIDR: string } }) => n.spec.podCIDR);
  t.true(cidrs.every((c: string) => c.startsWith(clusterCIDR.split('.').slice(0, 2).join('.'))), 'nodes have ranges of the cluster CIDR');
  t.not(webIP.split('.').slice(0, 3).join('.'), clientIP.split('.').slice(0, 3).join('.'), 'the two pods live in different node ranges');
  // timeout 2: an attempt made before the route is in place must not hang for TCP's connect
  // timeout and use up the whole wait; a failed attempt's error is what a timeout reports.
  const body = await waitFor('client on host 1 reaches web on host 2 by pod IP', () => execIn(`client-${suffix}`, ['busybox', 'timeout', '2', 'wget', '-qO-', `http://${webIP}:8080/`]), 30_000, 1000);
  t.is(body.trim(), `web-${suffix}`);
});

test.serial('a Deployment\'s Service: ClusterIP and name from another host, NodePort on every host, LoadBalancer on the hosts\' addresses, readiness, deletion', async (t) => {
  const node2 = hosts[1]!.node;
  await apply({
    apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'hello' },
    spec: { replicas: 1, selector: { matchLabels: { app: 'hello' } }, template: { metadata: { labels: { app: 'hello' } }, spec: { nodeSelector: { 'kubernetes.io/hostname': node2 }, terminationGracePeriodSeconds: 0, containers: [webContainer()] } } },
  });
  await apply({
    apiVersion: 'v1', kind: 'Service', metadata: { name: 'hello' },
    spec: { type: 'LoadBalancer', selector: { app: 'hello' }, ports: [{ name: 'http', port: 80, targetPort: 'http' }, { name: 'echo', port: 9000, targetPort: 9000 }] },
  });
  const svc = await waitFor('the Service with a ClusterIP, node ports and LoadBalancer ingress', async () => {
    const s = JSON.parse((await k(['get', 'service', 'hello', '-o', 'json'])).stdout);
    return s.spec.clusterIP && s.status?.loadBalancer?.ingress?.length === 2 ? s : false;
  }, 60_000, 500);
  const clusterIP: string = svc.spec.clusterIP;
  const nodePort: number = svc.spec.ports.find((p: { name: string }) => p.name === 'http').nodePort;
  const echoNodePort: number = svc.spec.ports.find((p: { name: string }) => p.name === 'echo').nodePort;
  t.deepEqual(svc.status.loadBalancer.ingress.map((i: { ip: string }) => i.ip).sort(), hosts.map((h) => h.address).sort());

  await waitFor('the Deployment has a ready pod', async () => {
    const ep = JSON.parse((await k(['get', 'endpoints', 'hello', '-o', 'json'])).stdout);
    return ep.subsets?.[0]?.addresses?.length === 1;
  }, 90_000, 500);
  const client = `client-${suffix}`;
  const byIP = await waitFor('ClusterIP from a pod on host 1', () => execIn(client, ['busybox', 'timeout', '2', 'wget', '-qO-', `http://${clusterIP}/`]), 30_000, 1000);
  t.regex(byIP, /^hello-/);
  const byName = await waitFor('the Service by name from a pod on host 1', () => execIn(client, ['busybox', 'timeout', '2', 'wget', '-qO-', 'http://hello.default.svc.cluster.local']), 30_000, 1000);
  t.regex(byName, /^hello-/);
  const short = await execIn(client, ['wget', '-qO-', 'http://hello']);
  t.regex(short, /^hello-/, 'the short name through the search path');
  for (const h of hosts) {
    t.regex(await waitFor(`NodePort on ${h.address}`, () => httpFrom(undefined, `http://${h.address}:${nodePort}/`), 20_000, 500), /^hello-/);
    t.regex(await waitFor(`LoadBalancer on ${h.address}:80`, () => httpFrom(undefined, `http://${h.address}/`), 20_000, 500), /^hello-/);
    // and from the host itself, on loopback
    t.regex(await waitFor(`NodePort on 127.0.0.1 of ${h.node}`, () => httpFrom(h.netns, `http://127.0.0.1:${nodePort}/`), 20_000, 500) ?? '', /^hello-/);
  }

  // scale to two; an open connection through host 1's node port; the other pod turns unready
  await k(['scale', 'deployment', 'hello', '--replicas', '2']);
  const scaleStart = Date.now();
  await waitFor('two ready endpoints', async () => JSON.parse((await k(['get', 'endpoints', 'hello', '-o', 'json'])).stdout).subsets?.[0]?.addresses?.length === 2, 90_000, 200);
  const seen = new Set<string>();
  await waitFor('both endpoints answer through host 1 and host 2', async () => {
    for (const h of hosts) { const b = await httpFrom(undefined, `http://${h.address}:${nodePort}/`); if (b) seen.add(`${h.i}:${b}`); }
    return seen.size === 4;
  }, 20_000, 100);
  t.log(`scale-up: new endpoint served by both proxies ${Date.now() - scaleStart} ms after the scale command (includes pod start)`);

  const held = await openEcho(hosts[0]!.address, echoNodePort);
  t.teardown(() => held.socket.destroy());
  const keeper = held.greeting;
  const pods = JSON.parse((await k(['get', 'pods', '-l', 'app=hello', '-o', 'json'])).stdout).items.map((p: { metadata: { name: string } }) => p.metadata.name) as string[];
  t.true(pods.includes(keeper));
  const victim = pods.find((p) => p !== keeper)!;
  await execIn(victim, ['sh', '-c', 'echo x > /tmp/unready']);
  const endpointAt = await waitFor('the victim in notReadyAddresses', async () => {
    const ep = JSON.parse((await k(['get', 'endpoints', 'hello', '-o', 'json'])).stdout);
    return ep.subsets?.[0]?.notReadyAddresses?.length === 1 ? Date.now() : false;
  }, 30_000, 100);
  const proxiedAt = await waitFor('both proxies stop using the unready pod', async () => {
    for (let i = 0; i < 6; i++) {
      for (const h of hosts) if ((await httpGet(`http://${h.address}:${nodePort}/`)) !== keeper) return false;
    }
    return Date.now();
  }, 20_000, 50);
  t.log(`readiness: proxies follow ${proxiedAt - endpointAt} ms after Endpoints changed`);
  t.true(proxiedAt - endpointAt <= 2000, `proxy followed Endpoints within 2 s (took ${proxiedAt - endpointAt} ms)`);
  t.is(await held.say('still-here'), 'still-here', 'the open connection to the remaining endpoint survived');
  t.false(held.closed());

  // deleting the Service removes listeners and rules on every host
  await k(['delete', 'service', 'hello']);
  for (const h of hosts) {
    await waitFor(`node port closed on ${h.node}`, async () => (await httpFrom(undefined, `http://${h.address}:${nodePort}/`)) === undefined, 10_000, 200);
    await waitFor(`LoadBalancer port closed on ${h.node}`, async () => (await httpFrom(undefined, `http://${h.address}/`)) === undefined, 10_000, 200);
    await waitFor(`ClusterIP gone on ${h.node}`, async () => (await inNs(h.netns, 'ip', ['-4', 'addr', 'show', 'dev', 'lo'])).stdout.includes(clusterIP) === false, 10_000, 200);
  }
  const rules = await inNs(hosts[0]!.netns, 'iptables-save', ['-t', 'nat']);
  t.notRegex(rules.stdout, new RegExp(clusterIP.replace(/\./g, '\\.')), 'no iptables rule mentions the ClusterIP');
  t.notRegex(rules.stdout, /default\/hello/, 'no rule of the deleted Service is left');
  t.regex(rules.stdout, /default\/kubernetes:https cluster IP/, 'other Services keep their rules');
});

/** An open TCP connection to the echo port: greeting = the pod's host name. */
async function openEcho(host: string, port: number): Promise<{ socket: Socket; greeting: string; say(text: string): Promise<string>; closed(): boolean }> {
  const socket = createConnection({ host, port });
  let closed = false;
  socket.on('close', () => { closed = true; });
  socket.on('error', () => undefined);
  socket.setEncoding('utf8');
  let buf = '';
  const lines: string[] = [];
  const waiters: ((l: string) => void)[] = [];
  socket.on('data', (d: string) => {
    buf += d;
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      const l = buf.slice(0, i); buf = buf.slice(i + 1);
      const w = waiters.shift(); if (w) w(l); else lines.push(l);
    }
  });
  const next = () => new Promise<string>((resolve, reject) => {
    const l = lines.shift();
    if (l !== undefined) return resolve(l);
    const timer = setTimeout(() => reject(new Error('no line within 5 s')), 5000);
    waiters.push((x) => { clearTimeout(timer); resolve(x); });
  });
  const greeting = await next();
  return { socket, greeting, closed: () => closed, say: async (text) => { socket.write(`${text}\n`); return next(); } };
}

test.serial('an Ingress answers on both hosts by host name and over TLS, and stops on both within 1 s of its deletion', async (t) => {
  const work = mkdtempSync(join(tmpdir(), 'pikube-mh-ingress-'));
  t.teardown(() => removeDir(work));
  await apply({
    apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'site' },
    spec: { replicas: 2, selector: { matchLabels: { app: 'site' } }, template: { metadata: { labels: { app: 'site' } }, spec: { terminationGracePeriodSeconds: 0, containers: [webContainer()] } } },
  });
  await apply({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'site' }, spec: { selector: { app: 'site' }, ports: [{ name: 'web', port: 80, targetPort: 'http' }] } });
  const cert = await selfSignedCert(work, 'secure.home.lan');
  await k(['create', 'secret', 'tls', 'site-tls', `--cert=${cert.certFile}`, `--key=${cert.keyFile}`]);
  const rule = (host: string) => ({ host, http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'site', port: { name: 'web' } } } }] } });
  await apply({
    apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', metadata: { name: 'site' },
    spec: { tls: [{ hosts: ['secure.home.lan'], secretName: 'site-tls' }], rules: [rule('hello.home.lan'), rule('secure.home.lan')] },
  });
  await waitFor('two ready site endpoints', async () => JSON.parse((await k(['get', 'endpoints', 'site', '-o', 'json'])).stdout).subsets?.[0]?.addresses?.length === 2, 90_000, 500);
  for (const h of hosts) {
    const plain = { host: h.address, port: INGRESS_HTTP };
    const body = await waitFor(`hello.home.lan through ${h.node}'s ingress`, async () => {
      const a = await ingressRequest(plain, 'hello.home.lan', '/').catch(() => undefined);
      return a?.status === 200 ? a.body.trim() : false;
    }, 20_000, 200);
    t.regex(body, /^site-/, `answered by a pod through ${h.node}`);
    t.is((await ingressRequest(plain, 'nope.home.lan', '/')).status, 404);
    const secure = { host: h.address, port: INGRESS_HTTPS };
    t.deepEqual(await peerCertificate(secure, 'secure.home.lan', cert.cert), { authorized: true, cn: 'secure.home.lan' });
    const over = await ingressRequest(secure, 'secure.home.lan', '/', { secure: true, ca: cert.cert });
    t.is(over.status, 200, over.body);
    t.regex(over.body, /^site-/);
  }
  const status = await waitFor('Ingress status lists both hosts', async () => {
    const ing = JSON.parse((await k(['get', 'ingress', 'site', '-o', 'json'])).stdout);
    return ing.status?.loadBalancer?.ingress?.length === 2 ? ing.status.loadBalancer.ingress : false;
  }, 20_000, 500);
  t.deepEqual(status.map((i: { ip: string }) => i.ip).sort(), hosts.map((h) => h.address).sort());

  await k(['delete', 'ingress', 'site']);
  const deleted = Date.now();
  const gone = await Promise.all(hosts.map((h) => waitFor(`route gone on ${h.node}`, async () => {
    const a = await ingressRequest({ host: h.address, port: INGRESS_HTTP }, 'hello.home.lan', '/').catch(() => undefined);
    return a?.status === 404 ? Date.now() - deleted : false;
  }, 10_000, 20)));
  t.log(`route gone ${gone.join(' / ')} ms after kubectl delete returned`);
  for (const ms of gone) t.true(ms <= 1000, `route removed within 1 s (took ${ms} ms)`);
});
