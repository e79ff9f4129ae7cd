// core/v1 Service and Endpoints, discovery.k8s.io/v1 EndpointSlice.
import type { KubeObject } from '../types.js';

export interface ServicePort { name?: string; protocol?: string; port: number; targetPort?: number | string; nodePort?: number; appProtocol?: string }

export interface ServiceSpec {
  type?: 'ClusterIP' | 'NodePort' | 'LoadBalancer' | 'ExternalName';
  selector?: Record<string, string>;
  clusterIP?: string;
  clusterIPs?: string[];
  ports?: ServicePort[];
  sessionAffinity?: 'None' | 'ClientIP';
  externalTrafficPolicy?: 'Cluster' | 'Local';
  internalTrafficPolicy?: 'Cluster' | 'Local';
  ipFamilies?: string[];
  ipFamilyPolicy?: string;
  publishNotReadyAddresses?: boolean;
  [extra: string]: unknown;
}

export interface LoadBalancerIngress { ip?: string; hostname?: string; [extra: string]: unknown }

export interface Service extends KubeObject {
  spec?: ServiceSpec;
  status?: { loadBalancer?: { ingress?: LoadBalancerIngress[] }; [extra: string]: unknown };
}

export interface EndpointAddress { ip: string; hostname?: string; nodeName?: string; targetRef?: { kind: 'Pod'; namespace: string; name: string; uid: string } }
export interface EndpointPort { name?: string; port: number; protocol: string; appProtocol?: string }
export interface EndpointSubset { addresses?: EndpointAddress[]; notReadyAddresses?: EndpointAddress[]; ports?: EndpointPort[] }
export interface Endpoints extends KubeObject { subsets?: EndpointSubset[] }

export interface SliceEndpoint {
  addresses: string[];
  conditions: { ready: boolean; serving: boolean; terminating: boolean };
  nodeName?: string;
  hostname?: string;
  targetRef?: { kind: 'Pod'; namespace: string; name: string; uid: string };
}

export interface EndpointSlice extends KubeObject {
  addressType: 'IPv4' | 'IPv6' | 'FQDN';
  endpoints: SliceEndpoint[];
  ports?: EndpointPort[];
}
