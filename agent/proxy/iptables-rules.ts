// The kernel-mode proxy as an iptables-restore script for the nat table: ClusterIPs are
// DNAT-ed in PREROUTING and OUTPUT, node ports and LoadBalancer ports on any local
// address (loopback excepted: the user-space listeners answer there), endpoints chosen
// with `statistic --mode random` and ClientIP affinity with `recent`. Pure function.
import { createHash } from 'node:crypto';
import type { ServiceRule } from './service-rules.js';

export const CHAIN = {
  services: 'PIKUBE-SERVICES',
  nodePorts: 'PIKUBE-NODEPORTS',
  postrouting: 'PIKUBE-POSTROUTING',
  markMasq: 'PIKUBE-MARK-MASQ',
} as const;

/** Chains we own in nat; per-Service chains are PIKUBE-SVC-*, PIKUBE-EXT-*, PIKUBE-SEP-*. */
export const OWNED_CHAIN = /^PIKUBE-/;

/** Jumps from the built-in chains into ours: [chain, rule args]. */
export const JUMPS: [string, string[]][] = [
  ['PREROUTING', ['-m', 'comment', '--comment', 'pikube service portals', '-j', CHAIN.services]],
  ['OUTPUT', ['-m', 'comment', '--comment', 'pikube service portals', '-j', CHAIN.services]],
  ['POSTROUTING', ['-m', 'comment', '--comment', 'pikube postrouting', '-j', CHAIN.postrouting]],
];

const MASQ_MARK = '0x4000';

function chainName(prefix: string, ...parts: string[]): string {
  // iptables chain names are at most 28 characters
  return `${prefix}-${createHash('sha256').update(parts.join('|')).digest('base64url').replace(/[-_]/g, 'x').slice(0, 16).toUpperCase()}`;
}

function comment(text: string): string {
  return `-m comment --comment "${text.replace(/["\\]/g, '')}"`;
}

export interface IptablesInput {
  rules: ServiceRule[];
  /** This node's pod range: traffic from elsewhere to a ClusterIP is masqueraded. */
  podCIDR?: string;
  /** Per-Service chains present now, to be removed when no longer used. */
  existingChains?: string[];
}

/** The iptables-restore --noflush script, and the per-Service chains it keeps. */
export function iptablesScript(input: IptablesInput): { script: string; chains: string[] } {
  const chains = new Set<string>();
  const body: string[] = [];
  const proto = (r: ServiceRule) => r.protocol.toLowerCase();

  body.push(`-A ${CHAIN.markMasq} -j MARK --or-mark ${MASQ_MARK}`);
  body.push(`-A ${CHAIN.postrouting} -m mark ! --mark ${MASQ_MARK}/${MASQ_MARK} -j RETURN`);
  body.push(`-A ${CHAIN.postrouting} -j MARK --xor-mark ${MASQ_MARK}`);
  body.push(`-A ${CHAIN.postrouting} ${comment('pikube service traffic requiring SNAT')} -j MASQUERADE`);

  /** A chain spreading over endpoints; returns its name, or undefined when there are none. */
  const balance = (prefix: 'SVC' | 'EXT', r: ServiceRule): string | undefined => {
    if (r.endpoints.length === 0) return undefined;
    const svc = chainName(`PIKUBE-${prefix}`, r.kind === 'ClusterIP' ? 'cluster' : 'external', r.local ? 'local' : 'all', r.protocol, r.id);
    if (chains.has(svc)) return svc;
    chains.add(svc);
    const seps = r.endpoints.map((e) => {
      const sep = chainName('PIKUBE-SEP', r.protocol, r.id, `${e.ip}:${e.port}`);
      if (!chains.has(sep)) {
        chains.add(sep);
        const recent = r.affinitySeconds ? ` -m recent --name ${sep} --set --rsource` : '';
        body.push(`-A ${sep} -s ${e.ip}/32 -j ${CHAIN.markMasq}`);
        body.push(`-A ${sep} -p ${proto(r)} -m ${proto(r)}${recent} ${comment(r.id)} -j DNAT --to-destination ${e.ip}:${e.port}`);
      }
      return sep;
    });
    if (r.affinitySeconds) {
      for (const sep of seps) body.push(`-A ${svc} -m recent --name ${sep} --rcheck --seconds ${r.affinitySeconds} --reap --rsource -j ${sep}`);
    }
    seps.forEach((sep, i) => {
      const left = seps.length - i;
      body.push(left > 1
        ? `-A ${svc} -m statistic --mode random --probability ${(1 / left).toFixed(10)} -j ${sep}`
        : `-A ${svc} -j ${sep}`);
    });
    return svc;
  };

  const external: string[] = [];
  for (const r of input.rules) {
    const match = `-p ${proto(r)} -m ${proto(r)} --dport ${r.port}`;
    if (r.kind === 'ClusterIP') {
      const svc = balance('SVC', r);
      if (!svc) continue;
      const dst = `-d ${r.ip}/32 ${match}`;
      if (input.podCIDR) body.push(`-A ${CHAIN.services} ! -s ${input.podCIDR} ${dst} -j ${CHAIN.markMasq}`);
      else body.push(`-A ${CHAIN.services} ${dst} -j ${CHAIN.markMasq}`);
      body.push(`-A ${CHAIN.services} ${dst} ${comment(`${r.id} cluster IP`)} -j ${svc}`);
    } else {
      const chain = balance('EXT', r);
      if (!chain) continue;
      // Policy Cluster may send to another node: masquerade so replies come back here.
      if (!r.local) external.push(`-A ${CHAIN.nodePorts} ${match} -j ${CHAIN.markMasq}`);
      external.push(`-A ${CHAIN.nodePorts} ${match} ${comment(`${r.id} ${r.kind}`)} -j ${chain}`);
    }
  }
  body.push(...external);
  body.push(`-A ${CHAIN.services} -m addrtype --dst-type LOCAL ! -d 127.0.0.0/8 -j ${CHAIN.nodePorts}`);

  const fixed = Object.values(CHAIN);
  const stale = (input.existingChains ?? []).filter((c) => OWNED_CHAIN.test(c) && !fixed.includes(c as never) && !chains.has(c));
  const lines = ['*nat'];
  for (const c of [...fixed, ...chains, ...stale]) lines.push(`:${c} - [0:0]`);
  lines.push(...body);
  for (const c of stale) lines.push(`-X ${c}`);
  lines.push('COMMIT', '');
  return { script: lines.join('\n'), chains: [...chains] };
}

/** A script that empties and deletes every chain we own. */
export function iptablesCleanupScript(existingChains: string[]): string {
  const owned = existingChains.filter((c) => OWNED_CHAIN.test(c));
  return ['*nat', ...owned.map((c) => `:${c} - [0:0]`), ...owned.map((c) => `-X ${c}`), 'COMMIT', ''].join('\n');
}

/** Chain names declared in `iptables-save -t nat` output. */
export function chainsIn(save: string): string[] {
  return [...save.matchAll(/^:(\S+) /gm)].map((m) => m[1]!);
}
