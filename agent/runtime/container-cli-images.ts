// Image commands shared by the docker-grammar CLIs: pulls with credentials kept in a
// private directory for the length of one pull (mode 0700, file 0600, removed after), the
// store's images read from `image inspect`, removal by name so that an image still used
// by a container is refused rather than forced.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dockerConfigJson } from '../../protocol/images/docker-config.js';
import type { CliExec, CliResult } from './container-cli-exec.js';
import { runtimeError } from './container-cli-errors.js';
import { num, parseJsonRecords, str } from './container-cli-output.js';
import { RuntimeError, type PullCredential, type RuntimeImage } from './container-runtime.js';

/** Pulls of big images over Wi-Fi take long; a stuck one must still end. */
export const PULL_TIMEOUT_MS = 30 * 60_000;

/** A private directory with a docker config.json holding one credential. */
export interface AuthDir { dir: string; file: string }

export async function withAuthDir<T>(cred: PullCredential | undefined, parent: string | undefined, fn: (a: AuthDir | undefined) => Promise<T>): Promise<T> {
  if (!cred) return fn(undefined);
  // mkdtemp makes the directory 0700; the file is 0600 and gone when the pull ends
  const dir = await mkdtemp(join(parent ?? tmpdir(), 'pikube-pull-'));
  const file = join(dir, 'config.json');
  try {
    await writeFile(file, dockerConfigJson(cred.registry, cred), { mode: 0o600 });
    return await fn({ dir, file });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** A failed pull as a RuntimeError: whatever pull says is about the image. */
export function pullError(ref: string, r: CliResult): RuntimeError {
  const err = runtimeError(`pull ${ref}`, r);
  return err.kind === 'Unknown' ? new RuntimeError('ImageNotFound', err.message, err.stderr) : err;
}

function dateOf(v: unknown): string | undefined {
  if (typeof v === 'number' && v > 0) return new Date(v * 1000).toISOString();
  if (typeof v === 'string' && v && !v.startsWith('0001-')) {
    const t = Date.parse(v);
    return Number.isNaN(t) ? undefined : new Date(t).toISOString();
  }
  return undefined;
}

/** One record of `image inspect` (docker, nerdctl and podman print the same fields). */
export function imageOfInspect(raw: Record<string, unknown>): RuntimeImage | undefined {
  const id = str(raw['Id']) ?? str(raw['ID']);
  if (!id) return undefined;
  const names: string[] = [];
  for (const key of ['RepoTags', 'RepoDigests']) {
    const v = raw[key];
    if (Array.isArray(v)) for (const n of v) if (typeof n === 'string' && n && !n.startsWith('<none>')) names.push(n);
  }
  const img: RuntimeImage = { id, names, sizeBytes: num(raw['Size']) ?? 0 };
  const created = dateOf(raw['Created']);
  if (created) img.created = created;
  return img;
}

export async function inspectImages(cli: CliExec, refs: string[]): Promise<RuntimeImage[]> {
  if (!refs.length) return [];
  const r = await cli.run(['image', 'inspect', ...refs]);
  // one missing image fails the whole command: fall back to one at a time
  if (r.exitCode !== 0) {
    if (refs.length === 1) return [];
    const each = await Promise.all(refs.map((ref) => inspectImages(cli, [ref])));
    return each.flat();
  }
  return parseJsonRecords(r.stdout).map(imageOfInspect).filter((i): i is RuntimeImage => !!i);
}

export async function listImages(cli: CliExec): Promise<RuntimeImage[]> {
  const r = await cli.run(['images', '-q', '--no-trunc']);
  if (r.exitCode !== 0) throw runtimeError('images', r);
  const ids = [...new Set(r.stdout.split('\n').map((l) => l.trim()).filter(Boolean))];
  return inspectImages(cli, ids);
}

/**
 * Untags every name (the last one removes the image), or removes by id when it has none.
 * Never forced: a container using the image makes the runtime refuse.
 */
export async function removeImage(cli: CliExec, image: RuntimeImage): Promise<void> {
  const r = await cli.run(['rmi', ...(image.names.filter((n) => !n.includes('@')).length ? image.names.filter((n) => !n.includes('@')) : [image.id])]);
  if (r.exitCode !== 0) {
    const err = runtimeError(`rmi ${image.id}`, r);
    if (/no such image|image not known|not found/i.test(err.message)) return;
    throw err;
  }
}
