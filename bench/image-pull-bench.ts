// Pod start with a registry pull: a ~5 MB image from a real registry on loopback (TLS,
// htpasswd auth, pull secret), create → Running seen by the API, against `podman pull`
// plus `podman run -d` of an image of the same size on the same machine. Each side pulls
// its own image, so neither finds the other's layers cached.
import { execa } from 'execa';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { PodmanRuntime } from '../agent/runtime/podman.js';
import { ensureBusyboxImage, BUSYBOX_IMAGE } from '../test/helpers/podman-image.js';
import { removeDir, startAgent, startController, waitFor } from '../test/helpers/processes.js';
import { busyboxRootfs, REGISTRY_PASSWORD, REGISTRY_USER, startTestRegistry } from '../test/helpers/test-registry.js';
import { ApiClient } from '../test/helpers/api-client.js';
import type { Metric } from './metric.js';

const FILLER = 3_000_000; // with the 2 MB busybox: about 5 MB

export async function benchImagePull(): Promise<Metric[]> {
  await ensureBusyboxImage();
  const reg = await startTestRegistry();
  const refs: string[] = [];
  try {
    const mine = await reg.push('bench/pod:1', await busyboxRootfs('/usr/bin/busybox', { fillerBytes: FILLER }));
    const bare = await reg.push('bench/bare:1', await busyboxRootfs('/usr/bin/busybox', { fillerBytes: FILLER }));
    refs.push(mine, bare);
    const podMs = await podStartWithPull(reg.registriesYaml, reg.host, mine);
    const bareMs = await barePullAndRun(join(reg.dir, 'certs.d'), bare);
    return [
      { metric: 'pod_start_with_pull_ms', value: podMs, unit: 'ms', note: 'one run: create → Running, ~5 MB image from a TLS + htpasswd registry on loopback, pull secret' },
      { metric: 'bare_podman_pull_run_ms', value: bareMs, unit: 'ms', note: '`podman pull` + `podman run -d` of a same-size image, same registry' },
      { metric: 'pod_start_with_pull_vs_bare', value: podMs / bareMs, unit: 'ratio', goal: { op: '<=', value: 1.3 } },
    ];
  } finally {
    for (const r of refs) await execa('podman', ['rmi', r], { reject: false });
    await reg.stop();
  }
}

async function podStartWithPull(registriesYaml: string, host: string, image: string): Promise<number> {
  const ctrl = await startController({ args: ['--registries-config', registriesYaml] });
  const node = `bench-pull-${randomBytes(3).toString('hex')}`;
  const agent = startAgent(ctrl, { nodeName: node, runtime: 'podman', args: ['--registries-config', registriesYaml] });
  const api = new ApiClient(ctrl.kubeconfig, { maxSockets: 4 });
  try {
    await waitFor(`node ${node} Ready`, async () => {
      const r = await api.get(`/api/v1/nodes/${node}`);
      return r.status === 200 && (r.body as { status?: { conditions?: { type: string; status: string }[] } }).status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
    }, 60_000, 200);
    const auth = Buffer.from(`${REGISTRY_USER}:${REGISTRY_PASSWORD}`).toString('base64');
    await api.post('/api/v1/namespaces/default/secrets', {
      apiVersion: 'v1', kind: 'Secret', metadata: { name: 'regcred' }, type: 'kubernetes.io/dockerconfigjson',
      data: { '.dockerconfigjson': Buffer.from(JSON.stringify({ auths: { [host]: { auth } } })).toString('base64') },
    });
    // the first pod pays for the sandbox image and the driver's adaptation, as in `podman run`'s warm-up below
    const sleeper = (name: string, img: string, extra: object, pullPolicy?: string) => ({
      apiVersion: 'v1', kind: 'Pod', metadata: { name },
      spec: { nodeName: node, terminationGracePeriodSeconds: 0, ...extra, containers: [{ name: 'c', image: img, ...(pullPolicy ? { imagePullPolicy: pullPolicy } : {}), command: ['/bin/sleep', '3600'] }] },
    });
    const running = async (name: string) => waitFor(`${name} Running`, async () => {
      const r = await api.get(`/api/v1/namespaces/default/pods/${name}`);
      return (r.body as { status?: { phase?: string } }).status?.phase === 'Running';
    }, 180_000, 10);
    // the local test image (":latest" would mean Always, and it is in no registry)
    await api.post('/api/v1/namespaces/default/pods', sleeper('warm', BUSYBOX_IMAGE, {}, 'Never'));
    await running('warm');
    const t0 = performance.now();
    const r = await api.post('/api/v1/namespaces/default/pods', sleeper('pulled', image, { imagePullSecrets: [{ name: 'regcred' }] }));
    if (r.status !== 201) throw new Error(`create: ${r.status} ${r.text}`);
    await running('pulled');
    return performance.now() - t0;
  } finally {
    api.close();
    await agent.kill();
    await ctrl.kill();
    const ids = (await execa('podman', ['ps', '-aq', '--filter', `label=pikube.io/node=${node}`], { reject: false })).stdout.split('\n').filter(Boolean);
    if (ids.length) await execa('podman', ['rm', '-f', '-t', '0', ...ids], { reject: false });
    const pods = (await execa('podman', ['pod', 'ps', '-q', '--filter', `label=pikube.io/node=${node}`], { reject: false })).stdout.split('\n').filter(Boolean);
    if (pods.length) await execa('podman', ['pod', 'rm', '-f', '-t', '0', ...pods], { reject: false });
    removeDir(ctrl.dir);
    removeDir(agent.dir);
  }
}

async function barePullAndRun(certDir: string, image: string): Promise<number> {
  const rt = new PodmanRuntime();
  const name = `bench-bare-pull-${randomBytes(3).toString('hex')}`;
  // the same host adaptations the agent's driver makes (ulimits, OCI runtime)
  await rt.run({ name: `${name}-warm`, image: BUSYBOX_IMAGE, pullPolicy: 'Never', env: {}, labels: {}, mounts: [], command: ['/bin/true'] }).catch(() => undefined);
  await rt.remove(`${name}-warm`).catch(() => undefined);
  const a = rt.adaptations;
  const global = a.ociRuntime ? ['--runtime', a.ociRuntime] : [];
  const ulimits = (a.ulimits ?? []).flatMap((u) => ['--ulimit', u]);
  try {
    const t0 = performance.now();
    await execa('podman', ['pull', '-q', '--cert-dir', certDir, '--creds', `${REGISTRY_USER}:${REGISTRY_PASSWORD}`, image]);
    await execa('podman', [...global, 'run', '-d', '--name', name, '--pull', 'never', ...ulimits, image, '/bin/sleep', '3600']);
    return performance.now() - t0;
  } finally {
    await execa('podman', ['rm', '-f', '-t', '0', name], { reject: false });
  }
}
