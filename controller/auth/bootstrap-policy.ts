// The roles and bindings every cluster starts with, after upstream's bootstrap policy
// (plugin/pkg/auth/authorizer/rbac/bootstrappolicy/policy.go): cluster-admin for
// system:masters; admin, edit and view built by aggregation so that roles added later
// (for new kinds, CRDs) join them by label; discovery and self-review for everyone
// signed in; and the system: roles pikube's own parts run under.
import type { PolicyRule } from './policy-rule.js';

const READ = ['get', 'list', 'watch'];
const WRITE = ['create', 'delete', 'deletecollection', 'patch', 'update'];
const RW = [...READ, ...WRITE];

const rule = (verbs: string[], apiGroups: string[], resources: string[], resourceNames?: string[]): PolicyRule =>
  ({ verbs, apiGroups, resources, ...(resourceNames ? { resourceNames } : {}) });
const urls = (verbs: string[], nonResourceURLs: string[]): PolicyRule => ({ verbs, nonResourceURLs });

export const AGGREGATE_TO = (role: 'admin' | 'edit' | 'view') => `rbac.authorization.k8s.io/aggregate-to-${role}`;

export interface BootstrapClusterRole { name: string; rules: PolicyRule[]; labels?: Record<string, string>; aggregateFrom?: string }
export interface BootstrapBinding { name: string; role: string; subjects: { kind: 'User' | 'Group'; name: string }[] }

export const BOOTSTRAP_CLUSTER_ROLES: BootstrapClusterRole[] = [
  { name: 'cluster-admin', rules: [rule(['*'], ['*'], ['*']), urls(['*'], ['*'])] },
  { name: 'system:discovery', rules: [urls(['get'], ['/api', '/api/*', '/apis', '/apis/*', '/healthz', '/livez', '/openapi', '/openapi/*', '/readyz', '/version', '/version/'])] },
  { name: 'system:public-info-viewer', rules: [urls(['get'], ['/healthz', '/livez', '/readyz', '/version', '/version/'])] },
  {
    name: 'system:basic-user', rules: [
      rule(['create'], ['authorization.k8s.io'], ['selfsubjectaccessreviews', 'selfsubjectrulesreviews']),
      rule(['create'], ['authentication.k8s.io'], ['selfsubjectreviews']),
    ],
  },
  { name: 'system:monitoring', rules: [urls(['get'], ['/healthz', '/healthz/*', '/livez', '/livez/*', '/readyz', '/readyz/*', '/metrics', '/metrics/slis'])] },
  { name: 'system:auth-delegator', rules: [rule(['create'], ['authentication.k8s.io'], ['tokenreviews']), rule(['create'], ['authorization.k8s.io'], ['subjectaccessreviews'])] },
  // admin ⊃ edit ⊃ view, each the union of the roles labelled for it.
  { name: 'admin', rules: [], aggregateFrom: 'admin' },
  { name: 'edit', rules: [], aggregateFrom: 'edit', labels: { [AGGREGATE_TO('admin')]: 'true' } },
  { name: 'view', rules: [], aggregateFrom: 'view', labels: { [AGGREGATE_TO('edit')]: 'true' } },
  {
    name: 'system:aggregate-to-admin', labels: { [AGGREGATE_TO('admin')]: 'true' }, rules: [
      rule(['create'], ['authorization.k8s.io'], ['localsubjectaccessreviews']),
      rule(RW, ['rbac.authorization.k8s.io'], ['rolebindings', 'roles']),
    ],
  },
  {
    name: 'system:aggregate-to-edit', labels: { [AGGREGATE_TO('edit')]: 'true' }, rules: [
      rule(['impersonate'], [''], ['serviceaccounts']),
      rule(WRITE, [''], ['pods', 'pods/attach', 'pods/proxy', 'pods/exec', 'pods/portforward']),
      rule(['create'], [''], ['pods/eviction']),
      rule(RW, [''], ['configmaps', 'events', 'persistentvolumeclaims', 'replicationcontrollers', 'replicationcontrollers/scale', 'secrets', 'serviceaccounts', 'services', 'services/proxy']),
      rule(['create'], [''], ['serviceaccounts/token']),
      rule(RW, ['apps'], ['daemonsets', 'deployments', 'deployments/rollback', 'deployments/scale', 'replicasets', 'replicasets/scale', 'statefulsets', 'statefulsets/scale']),
      rule(RW, ['autoscaling'], ['horizontalpodautoscalers']),
      rule(RW, ['batch'], ['cronjobs', 'jobs']),
      rule(RW, ['extensions'], ['daemonsets', 'deployments', 'deployments/rollback', 'deployments/scale', 'ingresses', 'networkpolicies', 'replicasets', 'replicasets/scale', 'replicationcontrollers/scale']),
      rule(RW, ['policy'], ['poddisruptionbudgets']),
      rule(RW, ['networking.k8s.io'], ['ingresses', 'networkpolicies']),
      rule(RW, ['coordination.k8s.io'], ['leases']),
    ],
  },
  {
    name: 'system:aggregate-to-view', labels: { [AGGREGATE_TO('view')]: 'true' }, rules: [
      rule(READ, [''], ['configmaps', 'endpoints', 'persistentvolumeclaims', 'persistentvolumeclaims/status', 'pods', 'replicationcontrollers', 'replicationcontrollers/scale', 'serviceaccounts', 'services', 'services/status']),
      rule(READ, [''], ['bindings', 'events', 'limitranges', 'namespaces/status', 'pods/log', 'pods/status', 'replicationcontrollers/status', 'resourcequotas', 'resourcequotas/status']),
      rule(READ, [''], ['namespaces']),
      rule(READ, ['discovery.k8s.io'], ['endpointslices']),
      rule(READ, ['apps'], ['controllerrevisions', 'daemonsets', 'daemonsets/status', 'deployments', 'deployments/scale', 'deployments/status', 'replicasets', 'replicasets/scale', 'replicasets/status', 'statefulsets', 'statefulsets/scale', 'statefulsets/status']),
      rule(READ, ['autoscaling'], ['horizontalpodautoscalers', 'horizontalpodautoscalers/status']),
      rule(READ, ['batch'], ['cronjobs', 'cronjobs/status', 'jobs', 'jobs/status']),
      rule(READ, ['extensions'], ['daemonsets', 'daemonsets/status', 'deployments', 'deployments/scale', 'deployments/status', 'ingresses', 'ingresses/status', 'networkpolicies', 'replicasets', 'replicasets/scale', 'replicasets/status', 'replicationcontrollers/scale']),
      rule(READ, ['policy'], ['poddisruptionbudgets', 'poddisruptionbudgets/status']),
      rule(READ, ['networking.k8s.io'], ['ingresses', 'ingresses/status', 'networkpolicies']),
      rule(READ, ['coordination.k8s.io'], ['leases']),
      rule(READ, ['metrics.k8s.io'], ['pods', 'nodes']),
    ],
  },
  // Cluster-scoped storage and API extensions are not part of admin/edit/view upstream;
  // these read-only roles let a cluster grant them without cluster-admin.
  { name: 'system:aggregate-to-storage-view', rules: [rule(READ, ['storage.k8s.io'], ['storageclasses', 'csidrivers', 'csinodes', 'csistoragecapacities', 'volumeattachments']), rule(READ, [''], ['persistentvolumes'])] },
  { name: 'system:aggregate-to-apiextensions-view', rules: [rule(READ, ['apiextensions.k8s.io'], ['customresourcedefinitions', 'customresourcedefinitions/status'])] },
  // pikube's own parts, each under its own user (see controller/auth/component-identities.ts).
  {
    name: 'system:kube-scheduler', rules: [
      rule(READ, ['', 'apps', 'policy', 'storage.k8s.io'], ['*']),
      rule(['create'], [''], ['pods/binding', 'bindings']),
      rule(['patch', 'update'], [''], ['pods/status']),
      // Binding volumes on placement, as upstream's system:volume-scheduler allows.
      rule(['patch', 'update'], [''], ['persistentvolumes', 'persistentvolumeclaims']),
      rule(['create', 'patch', 'update'], ['', 'events.k8s.io'], ['events']),
      rule(['create', 'get', 'update'], ['coordination.k8s.io'], ['leases']),
    ],
  },
  // The controller manager's loops touch every workload kind, including ones added later;
  // secrets only through service-account tokens and namespace deletion.
  { name: 'system:kube-controller-manager', rules: [rule(['*'], ['*'], ['*'])] },
  // The MQTT bridge (MQTT_BRIDGE_USER): exactly what it does. It reads through informers
  // (list, watch) what the nodes' desired pods, Service routing and ingress routes are made
  // of; gets the Node, Pod, ServiceAccount and Event it is about to write or sign for; and
  // writes what a kubelet writes (upstream's NodeRules in bootstrappolicy/policy.go): its
  // Node, Node and Pod status, the final delete of a pod the node has stopped, events.
  {
    name: 'system:pikube-bridge', rules: [
      rule(['list', 'watch'], [''], ['configmaps', 'endpoints', 'nodes', 'persistentvolumeclaims', 'persistentvolumes', 'pods', 'secrets', 'services']),
      rule(['list', 'watch'], ['networking.k8s.io'], ['ingressclasses', 'ingresses']),
      rule(['get'], [''], ['events', 'nodes', 'pods', 'serviceaccounts']),
      rule(['create'], [''], ['nodes']),
      rule(['update'], [''], ['nodes/status', 'pods/status']),
      rule(['delete'], [''], ['pods']),
      rule(['create', 'patch'], [''], ['events']),
    ],
  },
  // The TopicBinding loop (TOPIC_BINDING_CONTROLLER_USER): its bindings, the nodes whose
  // taints and labels it keeps, and its events; nothing that holds a secret.
  {
    name: 'system:pikube-topicbinding-controller', rules: [
      rule([...READ, 'patch', 'update'], ['pikube.io'], ['topicbindings']),
      rule(['patch', 'update'], ['pikube.io'], ['topicbindings/status']),
      rule([...READ, 'patch', 'update'], [''], ['nodes']),
      rule(['create', 'patch', 'update'], ['', 'events.k8s.io'], ['events']),
    ],
  },
];

export const BOOTSTRAP_CLUSTER_ROLE_BINDINGS: BootstrapBinding[] = [
  { name: 'cluster-admin', role: 'cluster-admin', subjects: [{ kind: 'Group', name: 'system:masters' }] },
  { name: 'system:discovery', role: 'system:discovery', subjects: [{ kind: 'Group', name: 'system:authenticated' }] },
  { name: 'system:basic-user', role: 'system:basic-user', subjects: [{ kind: 'Group', name: 'system:authenticated' }] },
  { name: 'system:public-info-viewer', role: 'system:public-info-viewer', subjects: [{ kind: 'Group', name: 'system:authenticated' }, { kind: 'Group', name: 'system:unauthenticated' }] },
  { name: 'system:monitoring', role: 'system:monitoring', subjects: [{ kind: 'Group', name: 'system:monitoring' }] },
  { name: 'system:kube-scheduler', role: 'system:kube-scheduler', subjects: [{ kind: 'User', name: 'system:kube-scheduler' }] },
  { name: 'system:kube-controller-manager', role: 'system:kube-controller-manager', subjects: [{ kind: 'User', name: 'system:kube-controller-manager' }] },
  { name: 'system:pikube-bridge', role: 'system:pikube-bridge', subjects: [{ kind: 'User', name: 'system:pikube-bridge' }] },
  { name: 'system:pikube-topicbinding-controller', role: 'system:pikube-topicbinding-controller', subjects: [{ kind: 'User', name: 'system:pikube-topicbinding-controller' }] },
];
