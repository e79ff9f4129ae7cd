// A pod calls the API with its service-account token: a real controller, a real agent
// running podman, and a pod whose own curl lists pods over HTTPS, verifying the server with
// the ca.crt and sending the token the agent mounted at
// /var/run/secrets/kubernetes.io/serviceaccount, at the KUBERNETES_SERVICE_HOST/PORT the
// agent put in its environment. (busybox's wget cannot do this: its built-in TLS offers no
// signature algorithms and OpenSSL 3 servers refuse it, so the image adds the host's curl.)
// The pod uses the host network because the controller only listens on loopback here.
import test from 'ava';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { LABEL } from '../../agent/pods/container-labels.js';
import { ensureBusyboxImage } from '../helpers/podman-image.js';
import { ensureCurlImage, CURL_IMAGE } from '../helpers/curl-image.js';
import {
  kubectl, removeDir, startAgent, startController, waitFor,
  type AgentHandle, type ControllerHandle, type Kubectl,
} from '../helpers/processes.js';
import { ClusterApi } from './cluster-api.js';

const NODE = `sa-${randomBytes(3).toString('hex')}`;
const SA_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

let ctrl: ControllerHandle | undefined;
let agent: AgentHandle | undefined;
let k: Kubectl;
let api: ClusterApi;
const scratch = mkdtempSync(join(tmpdir(), 'pikube-sa-test-'));

function podYaml(name: string, extra = ''): string {
  return `apiVersion: v1
kind: Pod
metadata:
  name: ${name}
spec:
  hostNetwork: true
${extra}  containers:
    - name: app
      image: ${CURL_IMAGE}
      imagePullPolicy: Never
      command: ["sleep", "3600"]
`;
}

async function waitPodRunning(name: string): Promise<void> {
  await waitFor(`${name} Running`, async () => {
    const p = await api.get(`/api/v1/namespaces/default/pods/${name}`);
    return p.status?.phase === 'Running';
  }, 90_000, 500);
}

async function podmanIds(args: string[]): Promise<string[]> {
  const r = await execa('podman', args, { reject: false });
  return String(r.stdout).split('\n').map((s) => s.trim()).filter(Boolean);
}

test.before(async () => {
  await ensureBusyboxImage(); // installs podman, busybox-static and runc when missing
  await ensureCurlImage();
  ctrl = await startController();
  k = kubectl(ctrl.kubeconfig);
  api = ClusterApi.forController(ctrl);
  agent = startAgent(ctrl, { nodeName: NODE, runtime: 'podman' });
  await waitFor(`node ${NODE} Ready`, async () => {
    const n = await api.get(`/api/v1/nodes/${NODE}`).catch(() => undefined);
    return n?.status?.conditions?.some((c: { type: string; status: string }) => c.type === 'Ready' && c.status === 'True');
  }, 60_000);
  await waitFor('the default ServiceAccount', async () => (await api.call('GET', '/api/v1/namespaces/default/serviceaccounts/default')).status === 200, 30_000);
  // RBAC: service accounts have no rights of their own; these two may read the namespace.
  await k(['create', 'rolebinding', 'sa-view', '--clusterrole=view', '--serviceaccount=default:default', '--serviceaccount=default:reader']);
  await k(['apply', '-f', '-'], {
    input: [podYaml('caller'), 'apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: reader\n', podYaml('reader-pod', '  serviceAccountName: reader\n'), podYaml('no-token', '  automountServiceAccountToken: false\n')].join('---\n'),
  });
  await Promise.all(['caller', 'reader-pod', 'no-token'].map(waitPodRunning));
});

test.after.always(async () => {
  if (ctrl && k) await k(['delete', 'pods', '--all', '--grace-period=0', '--force', '--wait=false'], { reject: false });
  // Give the agent a moment to remove its containers, then make sure with podman itself.
  if (agent) {
    await waitFor('containers removed', async () => (await podmanIds(['ps', '-aq', '--filter', `label=${LABEL.node}=${NODE}`])).length === 0, 20_000).catch(() => undefined);
    await agent.kill();
  }
  for (const id of await podmanIds(['ps', '-aq', '--filter', `label=${LABEL.node}=${NODE}`])) await execa('podman', ['rm', '-f', '-t', '0', id], { reject: false });
  for (const id of await podmanIds(['pod', 'ps', '-q', '--filter', `label=${LABEL.node}=${NODE}`])) await execa('podman', ['pod', 'rm', '-f', id], { reject: false });
  await ctrl?.kill();
  for (const d of [ctrl?.dir, agent?.dir, k?.home, scratch]) if (d) removeDir(d);
});

test.afterEach.always((t) => {
  if (!t.passed && agent) t.log(agent.log().split('\n').slice(-20).join('\n'));
});

/** Runs a shell line inside the pod; resolves with stdout, stderr and the exit code. */
async function inPod(pod: string, script: string) {
  return k(['exec', pod, '--', 'sh', '-c', script], { reject: false });
}

const API_URL = '"https://$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT/api/v1/namespaces/$(cat ' + SA_DIR + '/namespace)/pods"';
/** curl inside the pod, verifying the API server with the mounted CA; `token` is shell text. */
const callApi = (token: string, curlArgs = '-sS --fail-with-body') =>
  `curl ${curlArgs} --cacert ${SA_DIR}/ca.crt -H "Authorization: Bearer ${token}" ${API_URL}`;
const STATUS_ONLY = "-s -o /dev/null -w '%{http_code}'";

const claimsOf = (token: string) => JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8')) as Record<string, unknown>;

test.serial('the pod lists pods through the API with its own mounted token and CA', async (t) => {
  const r = await inPod('caller', callApi(`$(cat ${SA_DIR}/token)`));
  t.is(r.exitCode, 0, r.stderr);
  const list = JSON.parse(r.stdout) as { kind: string; items: { metadata: { name: string } }[] };
  t.is(list.kind, 'PodList');
  t.true(list.items.some((p) => p.metadata.name === 'caller'), 'the pod sees itself');
});

test.serial('a tampered or forged token is refused with 401; no token is not let in', async (t) => {
  const token = (await inPod('caller', `cat ${SA_DIR}/token`)).stdout.trim();
  t.is(token.split('.').length, 3, 'a JWT');
  const [h, p, s] = token.split('.') as [string, string, string];
  const tampered = `${h}.${p}.${s.slice(0, -4)}${s.endsWith('AAAA') ? 'BBBB' : 'AAAA'}`;
  const forged = `${h}.${Buffer.from(JSON.stringify({ ...claimsOf(token), sub: 'system:serviceaccount:kube-system:admin' })).toString('base64url')}.${s}`;
  t.is((await inPod('caller', callApi(token, STATUS_ONLY))).stdout, '200');
  t.is((await inPod('caller', callApi(tampered, STATUS_ONLY))).stdout, '401', 'changed signature');
  t.is((await inPod('caller', callApi(forged, STATUS_ONLY))).stdout, '401', 'changed claims');
  const anonymous = (await inPod('caller', `curl ${STATUS_ONLY} --cacert ${SA_DIR}/ca.crt ${API_URL}`)).stdout;
  t.true(anonymous === '401' || anonymous === '403', `no token: ${anonymous}`);
});

test.serial("the token names the pod's ServiceAccount; the mounted namespace and env are right", async (t) => {
  const token = (await inPod('caller', `cat ${SA_DIR}/token`)).stdout.trim();
  t.is(claimsOf(token).sub, 'system:serviceaccount:default:default');
  t.is((await inPod('caller', `cat ${SA_DIR}/namespace`)).stdout.trim(), 'default');
  const env = (await inPod('caller', 'echo "$KUBERNETES_SERVICE_HOST $KUBERNETES_SERVICE_PORT"')).stdout.trim().split(' ');
  const url = new URL(ctrl!.apiUrl);
  t.deepEqual(env, [url.hostname, url.port], 'KUBERNETES_SERVICE_HOST/PORT are where the API answers');
  // The mounted CA is the cluster's: curl on the host verifies the server with it too.
  writeFileSync(join(scratch, 'ca.crt'), (await inPod('caller', `cat ${SA_DIR}/ca.crt`)).stdout);
  const host = await execa('curl', ['-sS', '--cacert', join(scratch, 'ca.crt'), '-o', '/dev/null', '-w', '%{http_code}', '--max-time', '10', '-H', `Authorization: Bearer ${token}`, `${ctrl!.apiUrl}/api/v1/namespaces/default/pods`], { reject: false });
  t.is(host.stdout, '200', host.stderr);
});

test.serial('a named ServiceAccount gets its own identity; automountServiceAccountToken: false mounts nothing', async (t) => {
  const token = (await inPod('reader-pod', `cat ${SA_DIR}/token`)).stdout.trim();
  t.is(claimsOf(token).sub, 'system:serviceaccount:default:reader');
  const r = await inPod('reader-pod', callApi(`$(cat ${SA_DIR}/token)`));
  t.is(r.exitCode, 0, r.stderr);

  const none = await inPod('no-token', `ls ${SA_DIR}`);
  t.not(none.exitCode, 0, `no token directory expected: ${none.stdout}`);
});
