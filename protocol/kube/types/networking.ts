// networking.k8s.io/v1 Ingress and IngressClass.
import type { KubeObject } from '../types.js';
import type { LoadBalancerIngress } from './service.js';

export interface IngressBackend {
  service?: { name?: string; port?: { number?: number; name?: string } };
  resource?: { apiGroup?: string; kind: string; name: string };
}

export interface HTTPIngressPath { path?: string; pathType?: string; backend?: IngressBackend }
export interface IngressRule { host?: string; http?: { paths?: HTTPIngressPath[] } }
export interface IngressTLS { hosts?: string[]; secretName?: string }

export interface IngressSpec {
  ingressClassName?: string;
  defaultBackend?: IngressBackend;
  rules?: IngressRule[];
  tls?: IngressTLS[];
  [extra: string]: unknown;
}

export interface Ingress extends KubeObject {
  spec?: IngressSpec;
  status?: { loadBalancer?: { ingress?: LoadBalancerIngress[] }; [extra: string]: unknown };
}

export interface IngressClass extends KubeObject {
  spec?: { controller?: string; parameters?: Record<string, unknown>; [extra: string]: unknown };
}
