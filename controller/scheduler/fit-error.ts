// The message of a failed scheduling attempt, worded and ordered like upstream's
// FitError (a histogram of "<count> <reason>" strings, sorted as strings), followed by
// the preemption summary. pikube never preempts, so every node where preemption could
// in principle help reports that no victims were found.
import type { Pod } from '../../protocol/kube/types.js';
import type { FilterFailure } from './filters.js';

export const NO_NODES_MESSAGE = 'no nodes available to schedule pods';
export const NO_VICTIMS = 'No preemption victims found for incoming pod';
export const PREEMPTION_NOT_HELPFUL = 'Preemption is not helpful for scheduling';

function histogram(reasons: Iterable<string>): string {
  const counts = new Map<string, number>();
  for (const r of reasons) counts.set(r, (counts.get(r) ?? 0) + 1);
  const parts = [...counts].map(([reason, n]) => `${n} ${reason}`);
  // Plain code-unit order, like Go's sort.Strings ("10 x" sorts before "2 y").
  parts.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return parts.join(', ');
}

function* allReasons(failures: readonly FilterFailure[]): Generator<string> {
  for (const f of failures) yield* f.reasons;
}

function* preemptionOutcomes(failures: readonly FilterFailure[]): Generator<string> {
  for (const f of failures) yield f.preemptionMightHelp ? NO_VICTIMS : PREEMPTION_NOT_HELPFUL;
}

/** `failures` holds one entry per node that was judged (all of them failed). */
export function fitErrorMessage(pod: Pod, totalNodes: number, failures: readonly FilterFailure[]): string {
  if (totalNodes === 0) return NO_NODES_MESSAGE;
  let message = `0/${totalNodes} nodes are available: ${histogram(allReasons(failures))}.`;
  if ((pod.spec as { preemptionPolicy?: string } | undefined)?.preemptionPolicy === 'Never') {
    message += ' preemption: not eligible due to preemptionPolicy=Never.';
  } else {
    message += ` preemption: 0/${totalNodes} nodes are available: ${histogram(preemptionOutcomes(failures))}.`;
  }
  return message;
}

/** A rejection before any node was looked at (upstream's PreFilter message). */
export function prefilterMessage(pod: Pod, totalNodes: number, reason: string): string {
  if (totalNodes === 0) return NO_NODES_MESSAGE;
  let message = `0/${totalNodes} nodes are available: ${reason}.`;
  if ((pod.spec as { preemptionPolicy?: string } | undefined)?.preemptionPolicy === 'Never') message += ' preemption: not eligible due to preemptionPolicy=Never.';
  else message += ` preemption: 0/${totalNodes} nodes are available: ${totalNodes} ${PREEMPTION_NOT_HELPFUL}.`;
  return message;
}
