// PersistentVolumeClaims on the node: a directory (hostPath, local, local-path volumes),
// or a NAS export mounted on the host under the pod's directory, then bind-mounted into
// the containers like any other volume. Local-path directories are removed only when the
// controller reclaims the volume, and only inside the agent's storage directory.
import { promises as fs, readFileSync } from 'node:fs';
import path from 'node:path';
import type { ClaimVolume } from '../../protocol/mqtt/payloads.js';
import { runProcess as run } from '../runtime/child-process.js';

export class ClaimMountError extends Error {}

/**
 * Directories this agent removed for a reclaimed volume. A pass of a pod that is ending
 * may still prepare its volumes after the controller reclaimed them; it must not bring
 * the directory back, or it outlives its volume. Names carry the claim's uid, so a path
 * once reclaimed is never a new volume's.
 */
const reclaimed = new Set<string>();

/** Makes the claim's volume reachable on the host and returns its path. */
export async function mountClaim(claimName: string, cv: ClaimVolume | undefined, mountDir: string): Promise<string> {
  if (!cv) throw new ClaimMountError(`persistentvolumeclaim "${claimName}" is not bound to a volume yet`);
  if (cv.path) {
    const stat = await fs.stat(cv.path).catch(() => undefined);
    if (!stat) {
      if (!cv.create) throw new ClaimMountError(`volume "${cv.volumeName}": path ${cv.path} does not exist`);
      if (reclaimed.has(path.resolve(cv.path))) throw new ClaimMountError(`volume "${cv.volumeName}" was reclaimed: ${cv.path} is gone`);
      // World-writable like k3s's local-path volumes: the pod's user is not known here.
      await fs.mkdir(cv.path, { recursive: true, mode: 0o777 });
      await fs.chmod(cv.path, 0o777);
    } else if (!stat.isDirectory()) {
      throw new ClaimMountError(`volume "${cv.volumeName}": ${cv.path} is not a directory`);
    }
    return cv.path;
  }
  if (cv.nfs) {
    await fs.mkdir(mountDir, { recursive: true, mode: 0o755 });
    if (mountPoints().includes(mountDir)) return mountDir;
    const options = [...(cv.mountOptions ?? []), ...(cv.readOnly ? ['ro'] : [])];
    const args = ['-t', 'nfs', ...(options.length ? ['-o', options.join(',')] : []), `${cv.nfs.server}:${cv.nfs.path}`, mountDir];
    const r = await run('mount', args, { timeoutMs: 60_000 });
    if (r.exitCode !== 0) throw new ClaimMountError(`mount failed: ${(r.failure ?? r.stderr).trim() || `exit status ${r.exitCode}`}`);
    return mountDir;
  }
  throw new ClaimMountError(`volume "${cv.volumeName}" has no source this node can mount`);
}

/** Mount points on the host (the fifth field of /proc/self/mountinfo, unescaped). */
export function mountPoints(): string[] {
  let text = '';
  try { text = readFileSync('/proc/self/mountinfo', 'utf8'); } catch { return []; }
  return text.split('\n').filter(Boolean).map((line) => line.split(' ')[4]!.replace(/\\([0-7]{3})/g, (_m, o: string) => String.fromCharCode(parseInt(o, 8))));
}

/** Unmounts whatever is mounted under dir, deepest first; throws if anything stays mounted. */
export async function unmountUnder(dir: string): Promise<void> {
  const prefix = dir.endsWith('/') ? dir : `${dir}/`;
  const under = mountPoints().filter((m) => m.startsWith(prefix)).sort((a, b) => b.length - a.length);
  for (const m of under) {
    const r = await run('umount', [m], { timeoutMs: 60_000 });
    if (r.exitCode !== 0) {
      const lazy = await run('umount', ['-l', m], { timeoutMs: 60_000 });
      if (lazy.exitCode !== 0) throw new ClaimMountError(`umount ${m}: ${(r.failure ?? r.stderr).trim()}`);
    }
  }
}

/** Removes a reclaimed volume's directory; refuses anything outside storageDir. */
export async function removeLocalVolume(storageDir: string, target: string): Promise<void> {
  const root = path.resolve(storageDir);
  const resolved = path.resolve(target);
  if (path.dirname(resolved) !== root) throw new ClaimMountError(`${target} is not a volume directory of ${root}`);
  if (mountPoints().some((m) => m === resolved || m.startsWith(`${resolved}/`))) throw new ClaimMountError(`${target} is still mounted`);
  reclaimed.add(resolved);
  await fs.rm(resolved, { recursive: true, force: true });
}
