// The agent's registry settings (k3s's registries.yaml, see protocol/images/registries-yaml.ts).
// Each driver gets them in its own form: podman a registries.conf and per-host cert dirs, nerdctl a containerd
// hosts directory; files are written under the agent's data dir, readable by root only.
import { chmod, copyFile, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DOCKER_HUB, DOCKER_HUB_API } from '../../protocol/images/image-ref.js';
import { endpointHost as hostOf, parseRegistriesConfig, type RegistriesConfig } from '../../protocol/images/registries-yaml.js';

export { RegistriesConfigError, parseRegistriesConfig, type RegistriesConfig } from '../../protocol/images/registries-yaml.js';

/** What the drivers read: generated files, per-host facts. */
export class RegistrySettings {
  /** podman: CONTAINERS_REGISTRIES_CONF for pulls. */
  podmanRegistriesConf?: string;
  /** nerdctl: --hosts-dir for pulls. */
  hostsDir?: string;
  private readonly certDirs = new Map<string, string>();

  constructor(readonly config: RegistriesConfig) {}

  /** Credentials configured for a registry host (used when the pod brings none). */
  credential(registry: string): { username: string; password: string } | undefined {
    return this.config.configs[registry]?.auth;
  }

  /** podman --cert-dir for pulls from this registry (its CA and client certificate). */
  certDir(registry: string): string | undefined {
    return this.certDirs.get(registry) ?? this.certDirs.get(this.mirrorHosts(registry)[0] ?? '');
  }

  /** TLS not verified, or plain HTTP: the registry or its mirror is insecure. */
  insecure(host: string): boolean {
    if (this.config.configs[host]?.tls?.insecureSkipVerify) return true;
    return Object.values(this.config.mirrors).some((m) => m.endpoints.some((e) => hostOf(e).host === host && hostOf(e).plainHttp));
  }

  mirrorHosts(registry: string): string[] {
    return (this.config.mirrors[registry]?.endpoints ?? []).map((e) => hostOf(e).host);
  }

  get hasMirrors(): boolean {
    return Object.keys(this.config.mirrors).length > 0;
  }

  /** Writes the drivers' files under dir (replacing what an earlier start wrote). */
  async materialise(dir: string): Promise<void> {
    await rm(dir, { recursive: true, force: true });
    await mkdir(dir, { recursive: true, mode: 0o700 });
    await chmod(dir, 0o700);
    // per-host certificate dirs, in containers-certs.d(5) layout: ca.crt, client.cert, client.key
    for (const [host, c] of Object.entries(this.config.configs)) {
      const t = c.tls;
      if (!t?.caFile && !t?.certFile) continue;
      const d = join(dir, 'certs.d', host);
      await mkdir(d, { recursive: true, mode: 0o700 });
      if (t.caFile) await copyFile(t.caFile, join(d, 'ca.crt'));
      if (t.certFile) await copyFile(t.certFile, join(d, 'client.cert'));
      if (t.keyFile) await copyFile(t.keyFile, join(d, 'client.key'));
      this.certDirs.set(host, d);
    }
    this.podmanRegistriesConf = join(dir, 'registries.conf');
    await writeFile(this.podmanRegistriesConf, this.podmanConf(), { mode: 0o600 });
    this.hostsDir = join(dir, 'hosts');
    for (const [host, body] of this.containerdHosts()) {
      await mkdir(join(this.hostsDir, host), { recursive: true, mode: 0o700 });
      await writeFile(join(this.hostsDir, host, 'hosts.toml'), body, { mode: 0o600 });
    }
  }

  /** registries.conf v2: Kubernetes semantics for short names (Docker Hub), mirrors, insecure hosts. */
  podmanConf(): string {
    const q = (s: string) => JSON.stringify(s);
    const lines = ['# written by pikube agent from its registries config', 'unqualified-search-registries = ["docker.io"]', 'short-name-mode = "permissive"', ''];
    const hosts = new Set([...Object.keys(this.config.mirrors), ...Object.keys(this.config.configs)].filter((h) => h !== '*'));
    for (const host of hosts) {
      lines.push('[[registry]]', `prefix = ${q(host)}`, `location = ${q(host)}`);
      if (this.config.configs[host]?.tls?.insecureSkipVerify) lines.push('insecure = true');
      for (const e of this.config.mirrors[host]?.endpoints ?? []) {
        const h = hostOf(e);
        lines.push('[[registry.mirror]]', `location = ${q(h.host)}`);
        if (h.plainHttp || this.config.configs[h.host]?.tls?.insecureSkipVerify) lines.push('insecure = true');
      }
      lines.push('');
    }
    return lines.join('\n');
  }

  /** containerd hosts.toml per registry (what nerdctl's --hosts-dir reads). */
  containerdHosts(): Map<string, string> {
    const out = new Map<string, string>();
    const q = (s: string) => JSON.stringify(s);
    const hostBlock = (url: string, host: string, caps: string[]) => {
      const c = this.config.configs[host]?.tls;
      const lines = [`[host.${q(url)}]`, `  capabilities = [${caps.map(q).join(', ')}]`];
      if (c?.caFile) lines.push(`  ca = ${q(c.caFile)}`);
      if (c?.certFile && c.keyFile) lines.push(`  client = [[${q(c.certFile)}, ${q(c.keyFile)}]]`);
      if (c?.insecureSkipVerify) lines.push('  skip_verify = true');
      return lines.join('\n');
    };
    const hosts = new Set([...Object.keys(this.config.mirrors), ...Object.keys(this.config.configs)]);
    for (const host of hosts) {
      const upstream = host === DOCKER_HUB ? `https://${DOCKER_HUB_API}` : `https://${host}`;
      const blocks = [`server = ${q(upstream)}`, ''];
      for (const e of this.config.mirrors[host]?.endpoints ?? []) {
        const url = /^https?:\/\//i.test(e) ? e : `https://${e}`;
        blocks.push(hostBlock(url, hostOf(e).host, ['pull', 'resolve']), '');
      }
      if (this.config.configs[host]?.tls) blocks.push(hostBlock(upstream, host, ['pull', 'resolve', 'push']), '');
      out.set(host === '*' ? '_default' : host, blocks.join('\n'));
    }
    return out;
  }
}

export async function loadRegistrySettings(file: string, dir: string): Promise<RegistrySettings> {
  const text = await readFile(file, 'utf8');
  const s = new RegistrySettings(parseRegistriesConfig(text));
  await s.materialise(dir);
  return s;
}
