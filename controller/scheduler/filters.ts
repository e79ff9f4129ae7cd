// Whether a node can take a pod at all. Checks run in upstream's plugin order and stop
// at the first that fails, so each node contributes the reasons of one check to the
// "0/N nodes are available" summary. The wording is upstream's, because users search it.
import type { Taint } from '../../protocol/kube/types.js';
import type { NodeInfo } from './node-info.js';
import type { PodProfile } from './pod-profile.js';
import type { Platform } from '../images/registry-client.js';
import { imagePlatformMismatch } from './image-platform-fit.js';
import { TAINT_NOT_READY, TAINT_UNREACHABLE, TAINT_UNSCHEDULABLE, firstUntoleratedTaint, tolerates } from './taints.js';

export const REASON_UNSCHEDULABLE = "node(s) were unschedulable";
export const REASON_NODE_AFFINITY = "node(s) didn't match Pod's node affinity/selector";
export const REASON_HOST_PORTS = "node(s) didn't have free ports for the requested pod ports";
export const REASON_TOO_MANY_PODS = 'Too many pods';
export const untoleratedTaintReason = (t: Taint): string => `node(s) had untolerated taint {${t.key}: ${t.value ?? ''}}`;
export const insufficientReason = (resource: string): string => `Insufficient ${resource}`;

export interface FilterFailure {
  reasons: string[];
  /** False when evicting other pods could never make room (a label or taint mismatch). */
  preemptionMightHelp: boolean;
}

const UNSCHEDULABLE_TAINT: Taint = { key: TAINT_UNSCHEDULABLE, effect: 'NoSchedule' };

/**
 * The taint upstream's node lifecycle would have put on a node that is not ready or
 * whose agent is offline, for nodes that do not carry it (yet). A pod that tolerates it
 * (a DaemonSet pod, say) may still land there.
 */
export function conditionTaint(node: NodeInfo, online: boolean): Taint | undefined {
  let key: string | undefined;
  if (!online || node.ready === 'Unknown') key = TAINT_UNREACHABLE;
  else if (node.ready !== 'True') key = TAINT_NOT_READY;
  if (!key) return undefined;
  for (const t of node.taints) if (t.key === key && t.effect === 'NoSchedule') return undefined;
  return { key, effect: 'NoSchedule' };
}

function unresolvable(reason: string): FilterFailure {
  return { reasons: [reason], preemptionMightHelp: false };
}

export function filterNode(p: PodProfile, n: NodeInfo, online: boolean, images: readonly { image: string; platforms: Platform[] }[] = []): FilterFailure | undefined {
  if (n.unschedulable && !tolerates(p.tolerations, UNSCHEDULABLE_TAINT)) return unresolvable(REASON_UNSCHEDULABLE);

  const taint = firstUntoleratedTaint(n.taints, p.tolerations);
  if (taint) return unresolvable(untoleratedTaintReason(taint));
  const synthetic = conditionTaint(n, online);
  if (synthetic && !tolerates(p.tolerations, synthetic)) return unresolvable(untoleratedTaintReason(synthetic));

  if (p.required && !p.required(n.labels, n.name)) return unresolvable(REASON_NODE_AFFINITY);

  const platform = imagePlatformMismatch(n.labels, images, n.node?.status?.nodeInfo?.containerRuntimeVersion);
  if (platform) return unresolvable(platform);

  if (p.ports.length > 0 && n.portsConflict(p.ports)) return { reasons: [REASON_HOST_PORTS], preemptionMightHelp: true };

  let reasons: string[] | undefined;
  const r = p.requests;
  const a = n.allocatable;
  if (n.podCount + 1 > a.pods) (reasons ??= []).push(REASON_TOO_MANY_PODS);
  if (r.milliCpu > 0 && r.milliCpu > a.milliCpu - n.requestedMilliCpu) (reasons ??= []).push(insufficientReason('cpu'));
  if (r.memory > 0 && r.memory > a.memory - n.requestedMemory) (reasons ??= []).push(insufficientReason('memory'));
  if (r.scalar) {
    for (const [k, v] of r.scalar) {
      if (v > (a.scalar.get(k) ?? 0) - (n.requestedScalar.get(k) ?? 0)) (reasons ??= []).push(insufficientReason(k));
    }
  }
  return reasons ? { reasons, preemptionMightHelp: true } : undefined;
}
