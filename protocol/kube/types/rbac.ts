// rbac.authorization.k8s.io/v1 Roles, ClusterRoles and their bindings.
import type { KubeObject } from '../types.js';

export interface PolicyRule {
  verbs?: string[];
  apiGroups?: string[];
  resources?: string[];
  resourceNames?: string[];
  nonResourceURLs?: string[];
}

export interface Subject { kind?: string; apiGroup?: string; name?: string; namespace?: string }
export interface RoleRef { kind?: string; name?: string }

/** A Role or a ClusterRole (only a ClusterRole aggregates). */
export interface Role extends KubeObject { rules?: PolicyRule[]; aggregationRule?: { clusterRoleSelectors?: object[] } }
/** A RoleBinding or a ClusterRoleBinding. */
export interface RoleBinding extends KubeObject { subjects?: Subject[]; roleRef?: RoleRef }
