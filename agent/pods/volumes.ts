// Pod volumes as directories under <dataDir>/pods/<uid>/volumes/<name>, bind-mounted
// into the containers. ConfigMap, Secret and projected files are rewritten only when
// their content changes: an SD card should not see writes at rest.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, promises as fs } from 'node:fs';
import path from 'node:path';
import type { Container, Pod, Volume } from '../../protocol/kube/types.js';
import type { DesiredPod } from '../../protocol/mqtt/payloads.js';
import type { Mount } from '../runtime/container-runtime.js';
import { fieldRefValue, resourceFieldValue } from './env.js';
import { ClaimMountError, mountClaim, unmountUnder } from './claim-mounts.js';

/** A volume cannot be set up (missing ConfigMap, bad hostPath): event FailedMount, pod stays ContainerCreating. */
export class VolumeError extends Error {}

export const SERVICE_ACCOUNT_PATH = '/var/run/secrets/kubernetes.io/serviceaccount';
/** Name of the volume holding the automounted service-account token. */
export const AUTO_TOKEN_VOLUME = 'kube-api-access';

export interface PreparedVolume { path: string; readOnly: boolean }
export type PreparedVolumes = Map<string, PreparedVolume>;

export function podDir(dataDir: string, uid: string): string {
  return path.join(dataDir, 'pods', uid);
}

export function volumeDir(dataDir: string, uid: string, name: string): string {
  return path.join(podDir(dataDir, uid), 'volumes', name);
}

interface FileContent { data: Buffer; mode: number }

function checkRelativePath(p: string): string {
  const norm = path.posix.normalize(p);
  if (path.posix.isAbsolute(norm) || norm.startsWith('..')) throw new VolumeError(`invalid path ${JSON.stringify(p)}: must be relative and may not contain '..'`);
  return norm;
}

/**
 * What a pod's file volumes were last written with, by directory, and the directory's
 * mtime then: a pass that would write the same files into a directory nobody has added
 * to or removed from since stats it once instead of reading every file. The pod's worker
 * keeps it, so it lives as long as the pod does on this agent.
 */
export type WrittenVolumes = Map<string, { print: string; mtimeMs: number }>;

function fingerprint(files: Map<string, FileContent>): string {
  const h = createHash('sha1');
  for (const [rel, f] of files) h.update(`${rel}\0${f.mode}\0${f.data.length}\0`).update(f.data);
  return h.digest('hex');
}

/** Writes exactly these files into dir: changed ones are replaced, others removed. */
async function syncFiles(dir: string, files: Map<string, FileContent>, written?: WrittenVolumes): Promise<void> {
  const print = written ? fingerprint(files) : '';
  const last = written?.get(dir);
  if (last?.print === print && (await fs.stat(dir).catch(() => undefined))?.mtimeMs === last.mtimeMs) return;
  written?.delete(dir);
  await fs.mkdir(dir, { recursive: true, mode: 0o755 });
  for (const [rel, f] of files) {
    const target = path.join(dir, rel);
    await fs.mkdir(path.dirname(target), { recursive: true, mode: 0o755 });
    const current = await fs.readFile(target).catch(() => undefined);
    if (!current || !current.equals(f.data)) {
      const tmp = `${target}.tmp-${process.pid}`;
      await fs.writeFile(tmp, f.data, { mode: f.mode });
      await fs.rename(tmp, target);
    }
    await chmodIfNeeded(target, f.mode);
  }
  for (const rel of await listFiles(dir)) {
    if (!files.has(rel)) await fs.rm(path.join(dir, rel), { force: true });
  }
  if (written) written.set(dir, { print, mtimeMs: (await fs.stat(dir)).mtimeMs });
}

/** chmod touches the inode even when nothing changes: only call it when needed. */
async function chmodIfNeeded(target: string, mode: number): Promise<void> {
  if (((await fs.stat(target)).mode & 0o7777) !== mode) await fs.chmod(target, mode);
}

async function listFiles(dir: string, prefix = ''): Promise<string[]> {
  const out: string[] = [];
  for (const e of await fs.readdir(path.join(dir, prefix), { withFileTypes: true })) {
    const rel = prefix ? path.posix.join(prefix, e.name) : e.name;
    if (e.isDirectory()) out.push(...(await listFiles(dir, rel)));
    else out.push(rel);
  }
  return out;
}

function keyedFiles(
  kind: 'ConfigMap' | 'Secret', name: string, data: Record<string, string> | undefined, optional: boolean | undefined,
  items: { key: string; path: string; mode?: number }[] | undefined, mode: number, namespace: string,
): Map<string, FileContent> {
  const files = new Map<string, FileContent>();
  if (!data) {
    if (optional) return files;
    throw new VolumeError(`${kind === 'ConfigMap' ? 'configmap' : 'secret'} "${name}" not found`);
  }
  const decode = (v: string) => (kind === 'Secret' ? Buffer.from(v, 'base64') : Buffer.from(v, 'utf8'));
  if (items && items.length) {
    for (const it of items) {
      if (!(it.key in data)) {
        if (optional) continue;
        throw new VolumeError(`configmap references non-existent config key: ${it.key} (${kind} ${namespace}/${name})`);
      }
      files.set(checkRelativePath(it.path), { data: decode(data[it.key]!), mode: it.mode ?? mode });
    }
  } else {
    for (const [k, v] of Object.entries(data)) files.set(checkRelativePath(k), { data: decode(v), mode });
  }
  return files;
}

function tokenFiles(desired: DesiredPod, mode: number): Map<string, FileContent> {
  const sa = desired.serviceAccount!;
  return new Map([
    ['token', { data: Buffer.from(sa.token), mode }],
    ['ca.crt', { data: Buffer.from(sa.caCrt), mode }],
    ['namespace', { data: Buffer.from(sa.namespace), mode }],
  ]);
}

function projectedFiles(desired: DesiredPod, v: Volume, ctx: { podIP?: string; hostIP?: string }): Map<string, FileContent> {
  const mode = v.projected!.defaultMode ?? 0o644;
  const namespace = desired.pod.metadata.namespace ?? 'default';
  const files = new Map<string, FileContent>();
  for (const src of v.projected!.sources ?? []) {
    if (src.serviceAccountToken) {
      if (!desired.serviceAccount) throw new VolumeError('service account token is not available for this pod');
      files.set(checkRelativePath(src.serviceAccountToken.path ?? 'token'), { data: Buffer.from(desired.serviceAccount.token), mode });
    } else if (src.configMap) {
      let data = desired.configMaps[src.configMap.name];
      // the cluster CA bundle that every namespace carries
      if (!data && src.configMap.name === 'kube-root-ca.crt' && desired.serviceAccount) data = { 'ca.crt': desired.serviceAccount.caCrt };
      for (const [k, f] of keyedFiles('ConfigMap', src.configMap.name, data, src.configMap.optional, src.configMap.items, mode, namespace)) files.set(k, f);
    } else if (src.secret) {
      const data = desired.secrets[src.secret.name];
      for (const [k, f] of keyedFiles('Secret', src.secret.name, data, src.secret.optional, src.secret.items, mode, namespace)) files.set(k, f);
    } else if (src.downwardAPI) {
      for (const f of downwardFiles(desired, src.downwardAPI.items ?? [], mode, ctx)) files.set(f[0], f[1]);
    }
  }
  return files;
}

function downwardFiles(
  desired: DesiredPod, items: { path: string; mode?: number; fieldRef?: { fieldPath: string }; resourceFieldRef?: { resource: string; containerName?: string; divisor?: string } }[],
  mode: number, ctx: { podIP?: string; hostIP?: string },
): Map<string, FileContent> {
  const files = new Map<string, FileContent>();
  const envCtx = { desired, container: desired.pod.spec.containers[0]!, podIP: ctx.podIP, hostIP: ctx.hostIP };
  for (const it of items) {
    let text = '';
    if (it.fieldRef) {
      const meta = desired.pod.metadata;
      if (it.fieldRef.fieldPath === 'metadata.labels') text = Object.entries(meta.labels ?? {}).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join('\n');
      else if (it.fieldRef.fieldPath === 'metadata.annotations') text = Object.entries(meta.annotations ?? {}).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join('\n');
      else text = fieldRefValue(envCtx, it.fieldRef.fieldPath);
    } else if (it.resourceFieldRef) {
      text = resourceFieldValue(envCtx, it.resourceFieldRef);
    }
    files.set(checkRelativePath(it.path), { data: Buffer.from(text), mode: it.mode ?? mode });
  }
  return files;
}

/** True when the pod gets the service-account token mounted without asking for it. */
export function wantsAutoToken(desired: DesiredPod): boolean {
  if (!desired.serviceAccount || desired.pod.spec.automountServiceAccountToken === false) return false;
  // a projected volume (added by admission upstream) already carries it
  return !(desired.pod.spec.volumes ?? []).some((v) => v.projected?.sources?.some((s) => s.serviceAccountToken));
}

/** Creates or refreshes every volume of the pod. Throws VolumeError. */
export async function prepareVolumes(dataDir: string, desired: DesiredPod, ctx: { podIP?: string; hostIP?: string; written?: WrittenVolumes }): Promise<PreparedVolumes> {
  const pod: Pod = desired.pod;
  const uid = pod.metadata.uid!;
  const namespace = pod.metadata.namespace ?? 'default';
  const out: PreparedVolumes = new Map();
  for (const v of pod.spec.volumes ?? []) {
    const dir = volumeDir(dataDir, uid, v.name);
    if (v.hostPath) {
      out.set(v.name, { path: await hostPath(v.hostPath), readOnly: false });
    } else if (v.persistentVolumeClaim) {
      const claim = v.persistentVolumeClaim;
      const cv = desired.claims?.[claim.claimName];
      try {
        out.set(v.name, { path: await mountClaim(claim.claimName, cv, dir), readOnly: claim.readOnly === true || cv?.readOnly === true });
      } catch (err) {
        if (err instanceof ClaimMountError) throw new VolumeError(err.message);
        throw err;
      }
    } else if (v.configMap) {
      const cm = v.configMap;
      await syncFiles(dir, keyedFiles('ConfigMap', cm.name, desired.configMaps[cm.name], cm.optional, cm.items, cm.defaultMode ?? 0o644, namespace), ctx.written);
      out.set(v.name, { path: dir, readOnly: true });
    } else if (v.secret) {
      const s = v.secret;
      await syncFiles(dir, keyedFiles('Secret', s.secretName, desired.secrets[s.secretName], s.optional, s.items, s.defaultMode ?? 0o644, namespace), ctx.written);
      out.set(v.name, { path: dir, readOnly: true });
    } else if (v.projected) {
      await syncFiles(dir, projectedFiles(desired, v, ctx), ctx.written);
      out.set(v.name, { path: dir, readOnly: true });
    } else if (v.downwardAPI) {
      const d = v.downwardAPI;
      await syncFiles(dir, downwardFiles(desired, d.items ?? [], d.defaultMode ?? 0o644, ctx), ctx.written);
      out.set(v.name, { path: dir, readOnly: true });
    } else {
      // emptyDir, and any type we do not know: a scratch directory that lives as long as the pod
      await fs.mkdir(dir, { recursive: true });
      await chmodIfNeeded(dir, 0o777);
      out.set(v.name, { path: dir, readOnly: false });
    }
  }
  if (wantsAutoToken(desired)) {
    const dir = volumeDir(dataDir, uid, AUTO_TOKEN_VOLUME);
    await syncFiles(dir, tokenFiles(desired, 0o644), ctx.written);
    out.set(AUTO_TOKEN_VOLUME, { path: dir, readOnly: true });
  }
  return out;
}

async function hostPath(hp: { path: string; type?: string }): Promise<string> {
  const p = hp.path;
  const stat = await fs.stat(p).catch(() => undefined);
  switch (hp.type ?? '') {
    case 'DirectoryOrCreate':
      if (!stat) await fs.mkdir(p, { recursive: true, mode: 0o755 });
      else if (!stat.isDirectory()) throw new VolumeError(`hostPath type check failed: ${p} is not a directory`);
      break;
    case 'FileOrCreate':
      if (!stat) { await fs.mkdir(path.dirname(p), { recursive: true }); await fs.writeFile(p, '', { mode: 0o644 }); }
      else if (!stat.isFile()) throw new VolumeError(`hostPath type check failed: ${p} is not a file`);
      break;
    case 'Directory':
      if (!stat?.isDirectory()) throw new VolumeError(`hostPath type check failed: ${p} is not a directory`);
      break;
    case 'File':
      if (!stat?.isFile()) throw new VolumeError(`hostPath type check failed: ${p} is not a file`);
      break;
    case 'Socket':
      if (!stat?.isSocket()) throw new VolumeError(`hostPath type check failed: ${p} is not a socket file`);
      break;
    default:
      break; // '' : no check, like upstream
  }
  return p;
}

/** The bind mounts of one container. Throws VolumeError for a mount of an unknown volume. */
export function containerMounts(c: Container, volumes: PreparedVolumes): Mount[] {
  const mounts: Mount[] = [];
  for (const vm of c.volumeMounts ?? []) {
    const v = volumes.get(vm.name);
    if (!v) throw new VolumeError(`volume "${vm.name}" of container "${c.name}" is not defined in the pod`);
    const source = vm.subPath ? path.join(v.path, checkRelativePath(vm.subPath)) : v.path;
    // like upstream, a missing subPath of a writable volume is created as a directory
    if (vm.subPath && !v.readOnly && !existsSync(source)) mkdirSync(source, { recursive: true, mode: 0o755 });
    mounts.push({ source, target: vm.mountPath, readOnly: v.readOnly || vm.readOnly === true });
  }
  const auto = volumes.get(AUTO_TOKEN_VOLUME);
  if (auto && !mounts.some((m) => m.target === SERVICE_ACCOUNT_PATH)) {
    mounts.push({ source: auto.path, target: SERVICE_ACCOUNT_PATH, readOnly: true });
  }
  return mounts;
}

export async function removePodDir(dataDir: string, uid: string): Promise<void> {
  if (!uid) return;
  // A NAS export mounted for a claim must go first: removing through it would erase the share.
  await unmountUnder(podDir(dataDir, uid));
  await fs.rm(podDir(dataDir, uid), { recursive: true, force: true });
}
