// Which registry credentials a pod's pulls may use: its imagePullSecrets (the API server
// already added its ServiceAccount's), then what the agent's registries config says for
// the registry, like containerd's per-host auth under k3s.
import { credentialsFor, credentialsOfSecret, type RegistryCredential } from '../../protocol/images/docker-config.js';
import { parseImageRef } from '../../protocol/images/image-ref.js';
import type { DesiredPod } from '../../protocol/mqtt/payloads.js';
import type { PullCredential } from '../runtime/container-runtime.js';

export function podPullCredentials(dp: DesiredPod): RegistryCredential[] {
  const out: RegistryCredential[] = [];
  for (const ref of dp.pod.spec.imagePullSecrets ?? []) {
    if (ref?.name) out.push(...credentialsOfSecret(dp.secrets[ref.name]));
  }
  return out;
}

/** The credentials to try for an image, in order; empty means pull anonymously. */
export function pullCredentialsFor(
  image: string,
  fromPod: readonly RegistryCredential[],
  configured?: (registry: string) => { username: string; password: string } | undefined,
): PullCredential[] {
  const registry = parseImageRef(image).registry;
  const out: PullCredential[] = credentialsFor(image, fromPod).map((c) => ({ registry, username: c.username, password: c.password }));
  const fallback = configured?.(registry);
  if (fallback && !out.some((c) => c.username === fallback.username && c.password === fallback.password)) out.push({ registry, ...fallback });
  return out;
}
