// Spare sandboxes given to pods (sandbox-pool.ts). A spare was made before its pod was
// known, so what the pod asks of its sandbox beyond the network — its labels, hostname,
// DNS and host aliases — cannot be on it. It is kept here instead, one directory per
// sandbox, and every container of the pod is started with it: its own UTS namespace with
// the pod's hostname, and the pod's /etc/hosts and /etc/resolv.conf mounted, much as the
// kubelet mounts the etc-hosts file it writes (pkg/kubelet/kubelet_pods.go, makeMounts).
// claim.json is written last and atomically: a sandbox with one is the pod's, after a
// restart too.
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { readCheckedJson, sealJson, writeFileAtomically } from '../checked-json.js';
import type { SandboxSpec } from './container-runtime.js';

export interface Claim {
  /** The name the pod asked for (the spare keeps its own runtime name). */
  name: string;
  labels: Record<string, string>;
  hostname?: string;
  /** A resolv.conf of the pod's own was written (the pod asked for DNS settings). */
  resolvConf: boolean;
}

const HOSTS_HEAD = [
  '127.0.0.1\tlocalhost',
  '::1\tlocalhost ip6-localhost ip6-loopback',
  'fe00::0\tip6-localnet',
  'ff00::0\tip6-mcastprefix',
  'ff02::1\tip6-allnodes',
  'ff02::2\tip6-allrouters',
];

/** The pod's /etc/hosts: loopback names, its own address under its hostname, then its host aliases. */
export function hostsFile(spec: SandboxSpec, ip: string | undefined): string {
  const lines = [`# pikube: hosts file of pod sandbox ${spec.name}`, ...HOSTS_HEAD];
  if (ip && spec.hostname) lines.push(`${ip}\t${spec.hostname}`);
  for (const [host, addr] of Object.entries(spec.addHosts ?? {})) lines.push(`${addr}\t${host}`);
  return `${lines.join('\n')}\n`;
}

export function resolvConf(dns: NonNullable<SandboxSpec['dns']>): string {
  const lines = dns.servers.map((s) => `nameserver ${s}`);
  if (dns.searches.length) lines.push(`search ${dns.searches.join(' ')}`);
  if (dns.options.length) lines.push(`options ${dns.options.join(' ')}`);
  return `${lines.join('\n')}\n`;
}

/** A podman pod id, as the claim directories are named. */
const SANDBOX_ID = /^[0-9a-f]{12,64}$/;

function isClaim(v: Record<string, unknown>): boolean {
  return typeof v['name'] === 'string' && typeof v['labels'] === 'object' && v['labels'] !== null && typeof v['resolvConf'] === 'boolean';
}

export class ClaimedSandboxes {
  /**
   * Claims read or made, by sandbox id. Only claims: a sandbox without one costs a failed
   * open when asked about, and nothing kept for every sandbox the node ever had.
   */
  private readonly known = new Map<string, Claim>();

  constructor(private readonly dir: string) {}

  private dirOf(id: string): string {
    if (!SANDBOX_ID.test(id)) throw new Error(`not a sandbox id: ${id}`);
    return join(this.dir, id);
  }

  /** Gives sandbox `id` (address `ip`) to the pod `spec` describes. */
  async claim(id: string, spec: SandboxSpec, ip: string | undefined): Promise<Claim> {
    const d = this.dirOf(id);
    await fs.mkdir(d, { recursive: true, mode: 0o755 });
    await fs.writeFile(join(d, 'hosts'), hostsFile(spec, ip), { mode: 0o644 });
    if (spec.dns) await fs.writeFile(join(d, 'resolv.conf'), resolvConf(spec.dns), { mode: 0o644 });
    const claim: Claim = { name: spec.name, labels: { ...spec.labels }, resolvConf: spec.dns !== undefined, ...(spec.hostname ? { hostname: spec.hostname } : {}) };
    await writeFileAtomically(join(d, 'claim.json'), sealJson(claim), 0o644);
    this.known.set(id, claim);
    return claim;
  }

  /** The claim on sandbox `id`, from memory or its directory; undefined when it has none. */
  async get(id: string): Promise<Claim | undefined> {
    const cached = this.known.get(id);
    if (cached) return cached;
    let claim: Claim | undefined;
    try {
      const v = await readCheckedJson(join(this.dirOf(id), 'claim.json'));
      claim = v && isClaim(v) ? (v as unknown as Claim) : undefined;
    } catch {
      claim = undefined; // damaged (set aside) or not an id: no claim
    }
    if (claim) this.known.set(id, claim);
    return claim;
  }

  /** `run` flags that give a container of sandbox `id` the pod's hostname, hosts and DNS. */
  runArgs(id: string, claim: Claim): string[] {
    const d = this.dirOf(id);
    const args = claim.hostname ? ['--hostname', claim.hostname] : [];
    args.push('--volume', `${join(d, 'hosts')}:/etc/hosts`);
    if (claim.resolvConf) args.push('--volume', `${join(d, 'resolv.conf')}:/etc/resolv.conf:ro`);
    return args;
  }

  /** Forgets sandbox `id` and removes its directory. */
  async release(id: string): Promise<void> {
    this.known.delete(id);
    await fs.rm(this.dirOf(id), { recursive: true, force: true });
  }

  /** Ids with a directory here, for removing those of sandboxes that are gone. */
  async ids(): Promise<string[]> {
    const names = await fs.readdir(this.dir).catch(() => [] as string[]);
    return names.filter((n) => SANDBOX_ID.test(n));
  }
}
