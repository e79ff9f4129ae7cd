// The status page shows a reader only what RBAC lets them list: nodes (`list nodes`),
// pods and events per namespace (`list pods`, `list events`). A reader who may see pods
// but not nodes gets the bare names of the nodes those pods run on, so that the cards
// still have a place to sit.
import type { UserInfo } from '../apiserver/http/server.js';
import type { RequestAttributes } from '../auth/attributes.js';
import type { ClusterSnapshot, NodeView } from './cluster-view.js';

export type UiAuthorize = (a: RequestAttributes) => boolean;

function canList(authorize: UiAuthorize, user: UserInfo, resource: string, namespace = ''): boolean {
  return authorize({ user, verb: 'list', resourceRequest: true, path: '', apiGroup: '', apiVersion: 'v1', resource, subresource: '', namespace, name: '' });
}

/** Whether the reader may open the page at all: some pods to look at, somewhere. */
export function mayViewSomething(authorize: UiAuthorize, user: UserInfo, namespaces: string[]): boolean {
  return canList(authorize, user, 'nodes') || canList(authorize, user, 'pods') || namespaces.some((ns) => canList(authorize, user, 'pods', ns));
}

export function filterSnapshot(snapshot: ClusterSnapshot, authorize: UiAuthorize, user: UserInfo): ClusterSnapshot {
  const cache = new Map<string, boolean>();
  const allowed = (resource: string, ns: string) => {
    const key = `${resource}/${ns}`;
    let v = cache.get(key);
    if (v === undefined) { v = canList(authorize, user, resource, ns); cache.set(key, v); }
    return v;
  };
  const pods = snapshot.pods.filter((p) => allowed('pods', p.namespace));
  const events = snapshot.events.filter((e) => allowed('events', e.namespace ?? 'default'));
  let nodes: NodeView[] = snapshot.nodes;
  if (!allowed('nodes', '')) {
    const hosting = new Set(pods.map((p) => p.node).filter((n): n is string => !!n));
    nodes = snapshot.nodes.filter((n) => hosting.has(n.name)).map((n) => ({
      name: n.name, ready: n.ready, online: n.online, schedulable: n.schedulable, roles: [], cpu: {}, memory: {},
    }));
  }
  return { ...snapshot, nodes, pods, events };
}
