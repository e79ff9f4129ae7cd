// autoscaling/v2 HorizontalPodAutoscaler (v1 is served by conversion from it).
import type { KubeObject } from '../types.js';

export interface MetricTarget { type: 'Utilization' | 'AverageValue' | 'Value'; averageUtilization?: number; averageValue?: string; value?: string }
export interface MetricValueStatus { averageUtilization?: number; averageValue?: string; value?: string }
export interface MetricSpec { type: string; resource?: { name: string; target: MetricTarget }; [extra: string]: unknown }
export interface MetricStatus { type: string; resource?: { name: string; current: MetricValueStatus }; [extra: string]: unknown }

export interface ScalingPolicy { type: 'Pods' | 'Percent'; value: number; periodSeconds: number }
export interface ScalingRules { stabilizationWindowSeconds?: number; selectPolicy?: 'Max' | 'Min' | 'Disabled'; policies?: ScalingPolicy[] }

export interface CrossVersionObjectReference { apiVersion?: string; kind: string; name: string }

export interface HorizontalPodAutoscalerSpec {
  scaleTargetRef: CrossVersionObjectReference;
  minReplicas?: number; maxReplicas: number; metrics?: MetricSpec[];
  behavior?: { scaleUp?: ScalingRules; scaleDown?: ScalingRules };
}

export interface HorizontalPodAutoscalerStatus {
  observedGeneration?: number; lastScaleTime?: string; currentReplicas?: number; desiredReplicas?: number;
  currentMetrics?: MetricStatus[];
  conditions?: { type: string; status: string; reason?: string; message?: string; lastTransitionTime?: string }[];
}

export interface HorizontalPodAutoscaler extends KubeObject { spec: HorizontalPodAutoscalerSpec; status?: HorizontalPodAutoscalerStatus }

/** autoscaling/v1's shape of the same object. */
export interface HorizontalPodAutoscalerV1Spec {
  scaleTargetRef: CrossVersionObjectReference; minReplicas?: number; maxReplicas: number; targetCPUUtilizationPercentage?: number;
}
