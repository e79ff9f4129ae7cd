// The default driver: containerd through nerdctl. A pod's sandbox is a pause container;
// members join its network namespace with `--network container:<id>`.
import { CliRuntime, type CliRuntimeOptions } from './container-cli-runtime.js';
import { rec, str } from './container-cli-output.js';
import type { AuthDir } from './container-cli-images.js';
import { parseImageRef } from '../../protocol/images/image-ref.js';

export interface NerdctlOptions extends CliRuntimeOptions {
  /** containerd namespace; pikube keeps its containers apart from `default` and `k8s.io`. */
  namespace?: string;
  /** containerd socket, when not the default /run/containerd/containerd.sock. */
  address?: string;
}

export const DEFAULT_NERDCTL_NAMESPACE = 'pikube';
/** nerdctl's default CNI bridge (nerdctl0, 10.4.0.0/24). */
export const DEFAULT_NERDCTL_NETWORK = 'bridge';

export class NerdctlRuntime extends CliRuntime {
  readonly name = 'nerdctl' as const;
  readonly namespace: string;
  private readonly address: string | undefined;

  constructor(opts: NerdctlOptions = {}) {
    super('nerdctl', { ...opts, network: opts.network ?? DEFAULT_NERDCTL_NETWORK });
    this.namespace = opts.namespace ?? DEFAULT_NERDCTL_NAMESPACE;
    this.address = opts.address;
  }

  protected override globalArgs(): string[] {
    const args = ['--namespace', this.namespace];
    if (this.address) args.push('--address', this.address);
    return args;
  }

  /** Credentials through $DOCKER_CONFIG; mirrors and TLS through a containerd hosts directory. */
  protected override pullInvocation(ref: string, auth: AuthDir | undefined): { args: string[]; env?: Record<string, string> } {
    const args: string[] = [];
    const reg = this.registries;
    if (reg?.hostsDir) args.push('--hosts-dir', reg.hostsDir);
    const host = parseImageRef(ref).registry;
    if (reg && (reg.insecure(host) || reg.mirrorHosts(host).some((m) => reg.insecure(m)))) args.push('--insecure-registry');
    return { args, ...(auth ? { env: { DOCKER_CONFIG: auth.dir } } : {}) };
  }

  /** containerd's default root. */
  async imageStorePath(): Promise<string | undefined> {
    return '/var/lib/containerd';
  }

  /** containerd topics of every namespace; a blank line after each record. */
  protected override eventsArgv(): string[] {
    return ['events', '--format', 'json'];
  }

  protected override eventNamespace(): string {
    return this.namespace;
  }

  /** Reports containerd (what kubelet reports too), or nerdctl itself when no server answered. */
  protected parseVersion(json: Record<string, unknown>): { name: string; version: string } {
    const components = rec(json['Server'])['Components'];
    if (Array.isArray(components)) {
      for (const c of components) {
        const version = str(rec(c)['Version']);
        if (str(rec(c)['Name']) === 'containerd' && version) return { name: 'containerd', version: version.replace(/^v/, '') };
      }
    }
    const client = str(rec(json['Client'])['Version']);
    if (!client) throw new Error('nerdctl version: no Client.Version');
    return { name: 'nerdctl', version: client.replace(/^v/, '') };
  }

  /** nerdctl's inspect `Image` is the reference itself. */
  protected imageRefOf(raw: Record<string, unknown>): string {
    return str(raw['Image']) ?? '';
  }

  protected imageIdOf(_raw: Record<string, unknown>): string | undefined {
    return undefined;
  }
}
