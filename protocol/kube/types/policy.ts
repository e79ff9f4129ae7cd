// policy/v1 PodDisruptionBudget.
import type { KubeObject, LabelSelector } from '../types.js';

export interface PodDisruptionBudgetStatus {
  observedGeneration?: number; disruptedPods?: Record<string, string>; disruptionsAllowed?: number;
  currentHealthy?: number; desiredHealthy?: number; expectedPods?: number; conditions?: { type: string; status: string; reason?: string; message?: string; lastTransitionTime?: string; observedGeneration?: number }[];
}

export interface PodDisruptionBudget extends KubeObject {
  spec: { minAvailable?: number | string; maxUnavailable?: number | string; selector?: LabelSelector; unhealthyPodEvictionPolicy?: 'IfHealthyBudget' | 'AlwaysAllow' };
  status?: PodDisruptionBudgetStatus;
}
