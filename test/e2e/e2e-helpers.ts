// Shared by the end-to-end tests: podman look-ups and clean-up by node label, the
// project's example manifests, HTTP probes of pod IPs, pod status through kubectl.
import { execa } from 'execa';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { get } from 'node:http';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import type { Pod } from '../../protocol/kube/types.js';
import type { Kubectl } from '../helpers/processes.js';
import { SPARE_OWNER_LABEL } from '../../agent/runtime/podman.js';

export const NODE_LABEL = 'pikube.io/node';
export const POD_UID_LABEL = 'pikube.io/pod-uid';

/** A node name no other test file uses at the same time. */
export function uniqueNodeName(prefix: string): string {
  return `${prefix}-${randomBytes(3).toString('hex')}`;
}

/** Path of one of the project's example manifests (examples/ at the repository root). */
export function examplePath(name: string): string {
  return fileURLToPath(new URL(`../../../examples/${name}`, import.meta.url));
}

export function exampleManifest<T = Pod>(name: string): T {
  return parse(readFileSync(examplePath(name), 'utf8')) as T;
}

/** IDs of the workload containers (not sandboxes) podman holds for a label filter. */
export async function podmanContainerIds(label: string, opts: { running?: boolean } = {}): Promise<string[]> {
  const r = await execa('podman', ['ps', ...(opts.running ? [] : ['-a']), '-q', '--no-trunc', '--filter', `label=${label}`, '--filter', 'label=pikube.io/kind=app'], { reject: false });
  return String(r.stdout).split('\n').map((s) => s.trim()).filter(Boolean).sort();
}

/** Removes every container and podman pod labelled with the node, its spares too: what a test leaves behind. */
export async function removeNodeContainers(node: string): Promise<void> {
  const ids = String((await execa('podman', ['ps', '-aq', '--filter', `label=${NODE_LABEL}=${node}`], { reject: false })).stdout).split('\n').filter(Boolean);
  if (ids.length) await execa('podman', ['rm', '-f', '-t', '0', ...ids], { reject: false });
  const pods: string[] = [];
  for (const label of [`${NODE_LABEL}=${node}`, `${SPARE_OWNER_LABEL}=${node}`]) {
    pods.push(...String((await execa('podman', ['pod', 'ps', '-q', '--filter', `label=${label}`], { reject: false })).stdout).split('\n').filter(Boolean));
  }
  if (pods.length) await execa('podman', ['pod', 'rm', '-f', '-t', '0', ...pods], { reject: false });
  // The node's pod network too: left behind, its range is "already used" for the next
  // agent given the same one, whose pods would then fall back to the default network.
  await execa('podman', ['network', 'rm', '-f', `pikube-${node}`], { reject: false });
}

/** GET / on host:port; resolves with the status code. */
export function httpStatus(host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = get({ host, port, path: '/', timeout: 2000 }, (res) => { res.resume(); resolve(res.statusCode ?? 0); });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
  });
}

export async function getPod(k: Kubectl, name: string): Promise<Pod | undefined> {
  const r = await k(['get', 'pod', name, '-o', 'json'], { reject: false });
  return r.exitCode === 0 ? (JSON.parse(r.stdout) as Pod) : undefined;
}

/** The STATUS column of `kubectl get pod NAME` (Running, CrashLoopBackOff, ...). */
export async function statusColumn(k: Kubectl, name: string): Promise<string> {
  const r = await k(['get', 'pod', name, '--no-headers'], { reject: false });
  return r.stdout.trim().split(/\s+/)[2] ?? '';
}
