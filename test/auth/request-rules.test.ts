// How requests become authorizer attributes, how RBAC rules match them, and which labels a
// node may set on itself: the parsing and matching underneath the end-to-end RBAC tests.
import test from 'ava';
import { requestAttributes } from '../../controller/auth/attributes.js';
import { ruleAllows } from '../../controller/auth/policy-rule.js';
import { forbiddenMessage } from '../../controller/auth/forbidden.js';
import { allowedNodeLabels, isRestrictedNodeLabel } from '../../controller/bridge/node-restriction.js';

const user = { username: 'u', groups: [] };
const attrs = (method: string, path: string, query = '', upgrade = false) => requestAttributes(user, method, path, new URLSearchParams(query), upgrade);

test('verbs, scopes and subresources follow upstream request info', (t) => {
  t.like(attrs('GET', '/api/v1/namespaces/a/pods'), { verb: 'list', resource: 'pods', namespace: 'a', name: '' });
  t.like(attrs('GET', '/api/v1/pods', 'watch=true'), { verb: 'watch', namespace: '' });
  t.like(attrs('DELETE', '/apis/apps/v1/namespaces/a/deployments'), { verb: 'deletecollection', apiGroup: 'apps' });
  t.like(attrs('GET', '/api/v1/namespaces/a/pods/p/exec', '', true), { verb: 'create', subresource: 'exec', name: 'p' });
  t.like(attrs('GET', '/api/v1/namespaces/a/pods/p/log'), { verb: 'get', subresource: 'log' });
  t.like(attrs('GET', '/api/v1/namespaces/a'), { resource: 'namespaces', name: 'a', namespace: 'a' });
  t.like(attrs('PUT', '/api/v1/namespaces/a/finalize'), { verb: 'update', resource: 'namespaces', subresource: 'finalize', name: 'a' });
  t.like(attrs('GET', '/apis/example.com/v1/namespaces/a/widgets/w'), { verb: 'get', apiGroup: 'example.com', resource: 'widgets', name: 'w' });
  t.like(attrs('GET', '/healthz'), { resourceRequest: false, verb: 'get', path: '/healthz' });
});

test('rules match by verb, group, resource, subresource wildcards, names and URL prefixes', (t) => {
  const a = attrs('GET', '/api/v1/namespaces/a/pods/p/log');
  t.true(ruleAllows({ verbs: ['get'], apiGroups: [''], resources: ['pods/log'] }, a));
  t.true(ruleAllows({ verbs: ['*'], apiGroups: ['*'], resources: ['pods/*'] }, a));
  t.true(ruleAllows({ verbs: ['get'], apiGroups: [''], resources: ['*/log'] }, a));
  t.false(ruleAllows({ verbs: ['get'], apiGroups: [''], resources: ['pods'] }, a), 'pods does not cover pods/log');
  t.false(ruleAllows({ verbs: ['get'], apiGroups: ['apps'], resources: ['pods/log'] }, a));
  t.true(ruleAllows({ verbs: ['get'], apiGroups: [''], resources: ['pods/log'], resourceNames: ['p'] }, a));
  t.false(ruleAllows({ verbs: ['list'], apiGroups: [''], resources: ['pods'], resourceNames: ['p'] }, attrs('GET', '/api/v1/namespaces/a/pods')), 'names never allow a list');
  t.true(ruleAllows({ verbs: ['get'], nonResourceURLs: ['/apis/*'] }, attrs('GET', '/apis/apps')));
  t.false(ruleAllows({ verbs: ['get'], nonResourceURLs: ['/api'] }, attrs('GET', '/apis')));
  t.false(ruleAllows({ verbs: ['get'], nonResourceURLs: ['*'] }, a), 'URL rules never allow resources');
});

test('403 messages are worded as upstream words them', (t) => {
  t.is(forbiddenMessage({ ...attrs('GET', '/metrics'), user }), 'User "u" cannot get path "/metrics"');
  t.is(forbiddenMessage(attrs('POST', '/api/v1/namespaces/a/pods/p/eviction')), 'User "u" cannot create resource "pods/eviction" in API group "" in the namespace "a"');
  t.is(forbiddenMessage(attrs('PATCH', '/api/v1/nodes/n/status')), 'User "u" cannot patch resource "nodes/status" in API group "" at the cluster scope');
});

test('a node may not set node-restriction or node-role labels on itself', (t) => {
  for (const k of ['node-restriction.kubernetes.io/x', 'a.node-restriction.kubernetes.io/y', 'node-role.kubernetes.io/control-plane', 'node-role.kubernetes.io/']) t.true(isRestrictedNodeLabel(k), k);
  for (const k of ['kubernetes.io/arch', 'node.kubernetes.io/instance-type', 'example.com/node-role.kubernetes.io', 'xnode-role.kubernetes.io/a']) t.false(isRestrictedNodeLabel(k), k);
  const denied: unknown[] = [];
  const kept = allowedNodeLabels('pi-1', { 'kubernetes.io/arch': 'arm64', 'node-role.kubernetes.io/control-plane': '' }, (...a) => denied.push(a));
  t.deepEqual(kept, { 'kubernetes.io/arch': 'arm64' });
  t.deepEqual(denied, [['pi-1', 'restricted-label', { labels: ['node-role.kubernetes.io/control-plane'] }]]);
});
