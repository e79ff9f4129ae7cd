// What this node forwards, derived from the cluster's Service routing payload: one rule
// per Service port and way in (ClusterIP, NodePort, LoadBalancer), with only the ready
// endpoints that way may use. Pure, so both proxy modes and the tests share it.
import type { ServiceRoute, ServiceRoutingPayload } from '../../protocol/mqtt/payloads.js';

export interface Endpoint { ip: string; port: number }

export type RuleKind = 'ClusterIP' | 'NodePort' | 'LoadBalancer';

export interface ServiceRule {
  /** `<namespace>/<name>:<port name or number>`: stable across updates. */
  id: string;
  kind: RuleKind;
  protocol: 'TCP' | 'UDP';
  /** Address to accept on: the ClusterIP, or 0.0.0.0 for every node address. */
  ip: string;
  port: number;
  endpoints: Endpoint[];
  /** sessionAffinity ClientIP: seconds a client stays with its endpoint. */
  affinitySeconds?: number;
  /** externalTrafficPolicy Local: the client address is kept (no masquerade). */
  local: boolean;
}

export const ANY_ADDRESS = '0.0.0.0';
/** Upstream's default sessionAffinityConfig.clientIP.timeoutSeconds. */
export const AFFINITY_SECONDS = 10_800;

export function hasClusterIP(s: ServiceRoute): boolean {
  return !s.headless && !!s.clusterIP && s.clusterIP !== 'None';
}

export function serviceRules(p: ServiceRoutingPayload, nodeName: string): ServiceRule[] {
  const rules: ServiceRule[] = [];
  for (const s of p.services) {
    const affinity = s.sessionAffinity === 'ClientIP' ? { affinitySeconds: AFFINITY_SECONDS } : {};
    for (const port of s.ports) {
      const id = `${s.namespace}/${s.name}:${port.name || port.port}`;
      const ready = port.endpoints.filter((e) => e.ready).map((e) => ({ ip: e.ip, port: e.port }));
      const readyHere = port.endpoints.filter((e) => e.ready && e.nodeName === nodeName).map((e) => ({ ip: e.ip, port: e.port }));
      const local = s.externalTrafficPolicy === 'Local';
      const external = local ? readyHere : ready;
      if (hasClusterIP(s)) rules.push({ id, kind: 'ClusterIP', protocol: port.protocol, ip: s.clusterIP!, port: port.port, endpoints: ready, local: false, ...affinity });
      if ((s.type === 'NodePort' || s.type === 'LoadBalancer') && port.nodePort) {
        rules.push({ id, kind: 'NodePort', protocol: port.protocol, ip: ANY_ADDRESS, port: port.nodePort, endpoints: external, local, ...affinity });
      }
      // ServiceLB style: every node answers, or with policy Local only nodes that hold an endpoint.
      if (s.type === 'LoadBalancer' && (!local || readyHere.length > 0)) {
        rules.push({ id, kind: 'LoadBalancer', protocol: port.protocol, ip: ANY_ADDRESS, port: port.port, endpoints: external, local, ...affinity });
      }
    }
  }
  return rules;
}

/** The ClusterIPs of every Service that has one. */
export function clusterIPs(p: ServiceRoutingPayload): string[] {
  return [...new Set(p.services.filter(hasClusterIP).map((s) => s.clusterIP!))].sort();
}
