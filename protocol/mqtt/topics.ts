// Every MQTT topic pikube uses, built and parsed in one place so that both sides, the
// broker ACL and the mosquitto generator agree on the exact strings.
//
//   <base>/v1/nodes/<node>/{availability,status,heartbeat,pods,pod-status,events,ingress}
//   <base>/v1/nodes/<node>/request/<op>   <base>/v1/nodes/<node>/response/<op>
//   <base>/v1/cluster/{services,config}
//   <base>/v1/join/<node>/{request,response}
//   <base>/v1/api/request/<user>   <base>/v1/api/response/<user>/<id>
import { PROTOCOL_VERSION } from './payloads.js';

export const DEFAULT_BASE_TOPIC = 'pikube';

/** Per-node topics without an operation segment. */
export type NodeTopicKind = 'availability' | 'status' | 'heartbeat' | 'pods' | 'pod-status' | 'events' | 'ingress';
const NODE_KINDS: ReadonlySet<string> = new Set<NodeTopicKind>(['availability', 'status', 'heartbeat', 'pods', 'pod-status', 'events', 'ingress']);

export type ParsedTopic =
  | { kind: NodeTopicKind; node: string }
  | { kind: 'request' | 'response'; node: string; op: string }
  | { kind: 'join-request' | 'join-response'; node: string }
  | { kind: 'services' }
  | { kind: 'cluster-config' }
  | { kind: 'api-request'; user: string }
  | { kind: 'api-response'; user: string; id: string };

/** A single topic level that may be used as a node name or operation: no wildcards, no separator. */
export function isTopicLevel(value: string): boolean {
  return value.length > 0 && value.length <= 253 && !/[/+#\u0000]/.test(value);
}

/** A base topic: one or more non-empty levels, no wildcards, not starting with `$`. */
export function isValidBaseTopic(base: string): boolean {
  return base.length > 0 && !base.startsWith('$') && base.split('/').every(isTopicLevel);
}

function level(value: string, what: string): string {
  if (!isTopicLevel(value)) throw new Error(`invalid ${what} for an MQTT topic: ${JSON.stringify(value)}`);
  return value;
}

export class Topics {
  /** `<base>/v1`, the prefix of every topic. */
  readonly root: string;

  constructor(readonly base: string = DEFAULT_BASE_TOPIC) {
    if (!isValidBaseTopic(base)) throw new Error(`invalid MQTT base topic: ${JSON.stringify(base)}`);
    this.root = `${base}/${PROTOCOL_VERSION}`;
  }

  node(node: string, kind: NodeTopicKind): string {
    return `${this.root}/nodes/${level(node, 'node name')}/${kind}`;
  }
  availability(node: string): string { return this.node(node, 'availability'); }
  status(node: string): string { return this.node(node, 'status'); }
  heartbeat(node: string): string { return this.node(node, 'heartbeat'); }
  pods(node: string): string { return this.node(node, 'pods'); }
  podStatus(node: string): string { return this.node(node, 'pod-status'); }
  events(node: string): string { return this.node(node, 'events'); }
  /** Ingress routes and TLS certificates for a node that serves ingress (retained). */
  ingress(node: string): string { return this.node(node, 'ingress'); }
  request(node: string, op: string): string {
    return `${this.root}/nodes/${level(node, 'node name')}/request/${level(op, 'operation')}`;
  }
  response(node: string, op: string): string {
    return `${this.root}/nodes/${level(node, 'node name')}/response/${level(op, 'operation')}`;
  }
  services(): string { return `${this.root}/cluster/services`; }
  clusterConfig(): string { return `${this.root}/cluster/config`; }
  joinRequest(node: string): string { return `${this.root}/join/${level(node, 'node name')}/request`; }
  joinResponse(node: string): string { return `${this.root}/join/${level(node, 'node name')}/response`; }
  /** Where an MQTT user sends Kubernetes API requests. */
  apiRequest(user: string): string { return `${this.root}/api/request/${level(user, 'user name')}`; }
  /** Where the answer to one request (or a watch's events) goes; only that user may read it. */
  apiResponse(user: string, id: string): string { return `${this.root}/api/response/${level(user, 'user name')}/${level(id, 'request id')}`; }

  // Subscription filters.
  /** One kind for every node, e.g. `<base>/v1/nodes/+/status`. */
  allNodes(kind: NodeTopicKind): string { return `${this.root}/nodes/+/${kind}`; }
  /** Every response of every node: `<base>/v1/nodes/+/response/+`. */
  allResponses(): string { return `${this.root}/nodes/+/response/+`; }
  /** Every request to one node: `<base>/v1/nodes/<node>/request/+`. */
  nodeRequests(node: string): string { return `${this.root}/nodes/${level(node, 'node name')}/request/+`; }
  /** Everything cluster-wide: `<base>/v1/cluster/#`. */
  cluster(): string { return `${this.root}/cluster/#`; }
  allJoinRequests(): string { return `${this.root}/join/+/request`; }
  allApiRequests(): string { return `${this.root}/api/request/+`; }

  /** Recognises a pikube topic; anything else (other bases, versions, shapes) gives undefined. */
  parse(topic: string): ParsedTopic | undefined {
    if (!topic.startsWith(this.root + '/')) return undefined;
    const rest = topic.slice(this.root.length + 1).split('/');
    if (!rest.every(isTopicLevel)) return undefined;
    const [scope, a, b, c] = rest;
    if (scope === 'nodes') {
      if (rest.length === 3 && NODE_KINDS.has(b!)) return { kind: b as NodeTopicKind, node: a! };
      if (rest.length === 4 && (b === 'request' || b === 'response')) return { kind: b, node: a!, op: c! };
      return undefined;
    }
    if (scope === 'join' && rest.length === 3) {
      if (b === 'request') return { kind: 'join-request', node: a! };
      if (b === 'response') return { kind: 'join-response', node: a! };
      return undefined;
    }
    if (scope === 'api' && a === 'request' && rest.length === 3) return { kind: 'api-request', user: b! };
    if (scope === 'api' && a === 'response' && rest.length === 4) return { kind: 'api-response', user: b!, id: c! };
    if (scope === 'cluster' && rest.length === 2 && a === 'services') return { kind: 'services' };
    if (scope === 'cluster' && rest.length === 2 && a === 'config') return { kind: 'cluster-config' };
    return undefined;
  }
}

/** True when a topic that has no wildcards matches a subscription filter (`+`, trailing `#`). */
export function topicMatches(filter: string, topic: string): boolean {
  const f = filter.split('/');
  const t = topic.split('/');
  // Wildcards at the first level never match `$`-topics (MQTT 3.1.1 §4.7.2).
  if (topic.startsWith('$') && (f[0] === '+' || f[0] === '#')) return false;
  for (let i = 0; i < f.length; i++) {
    if (f[i] === '#') return i === f.length - 1;
    if (i >= t.length) return false;
    if (f[i] !== '+' && f[i] !== t[i]) return false;
  }
  return f.length === t.length;
}

/**
 * True when every topic a subscription `filter` can match is also matched by `allowed`
 * (used to authorise subscriptions that themselves contain wildcards).
 */
export function filterCovers(allowed: string, filter: string): boolean {
  const a = allowed.split('/');
  const f = filter.split('/');
  for (let i = 0; i < a.length; i++) {
    if (a[i] === '#') return true;
    if (i >= f.length) return false;
    if (f[i] === '#') return false;
    if (a[i] === '+') continue;
    if (a[i] !== f[i]) return false;
  }
  return a.length === f.length;
}

/** A topic name one may publish to: non-empty, no wildcards, no NUL. */
export function isPublishableTopic(topic: string): boolean {
  return topic.length > 0 && !/[+#\u0000]/.test(topic);
}

/** Node names are Kubernetes object names: DNS-1123 subdomains (lower case, digits, `-`, `.`). */
export function isValidNodeName(name: string): boolean {
  return name.length > 0 && name.length <= 253
    && /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/.test(name);
}
