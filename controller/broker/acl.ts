// The broker's access rules, stated once. The embedded broker's hooks evaluate them and
// the mosquitto generator renders them as an acl_file, so both brokers enforce the same
// thing. Rules are filters under `<base>/v1/`, with `{node}` standing for the client's
// own node name.
import { Topics, filterCovers, topicMatches } from '../../protocol/mqtt/topics.js';
import { CONTROLLER_USERNAME, JOIN_USERNAME, type BrokerIdentity } from './credentials.js';
import { DISCOVERY_PREFIX, HOMEASSISTANT_USERNAME, stateFilter } from '../homeassistant/homeassistant-topics.js';
import { commandFilters } from '../homeassistant/control-topics.js';

export type Access = 'read' | 'write';
export interface AclRule { access: Access; filter: string }

/** A node may report about itself, and read its own desired state, its requests and cluster-wide data. */
export const NODE_RULES: readonly AclRule[] = [
  { access: 'write', filter: 'nodes/{node}/availability' },
  { access: 'write', filter: 'nodes/{node}/status' },
  { access: 'write', filter: 'nodes/{node}/heartbeat' },
  { access: 'write', filter: 'nodes/{node}/pod-status' },
  { access: 'write', filter: 'nodes/{node}/events' },
  { access: 'write', filter: 'nodes/{node}/response/#' },
  { access: 'read', filter: 'nodes/{node}/pods' },
  { access: 'read', filter: 'nodes/{node}/ingress' },
  { access: 'read', filter: 'nodes/{node}/request/#' },
  { access: 'read', filter: 'cluster/#' },
];

/** A joining client may only ask for, and hear, its own credentials. */
export const JOINER_RULES: readonly AclRule[] = [
  { access: 'write', filter: 'join/{node}/request' },
  { access: 'read', filter: 'join/{node}/response' },
];

/** An MQTT API user sends requests on its own topic and reads its own answers. */
export const USER_RULES: readonly AclRule[] = [
  { access: 'write', filter: 'api/request/{user}' },
  { access: 'read', filter: 'api/response/{user}/#' },
];

function rulesFor(identity: BrokerIdentity): readonly AclRule[] {
  return identity.role === 'node' ? NODE_RULES : identity.role === 'joiner' ? JOINER_RULES : identity.role === 'user' ? USER_RULES : [];
}

/** Under the cluster's own base topic (the home lab's other topics are not). */
function isClusterTopic(topic: string, topics: Topics): boolean {
  return topic === topics.base || topic.startsWith(`${topics.base}/`);
}

/** Whether a subscription filter could match any topic outside the cluster's base. */
function reachesOutside(filter: string, topics: Topics): boolean {
  const f = filter.split('/');
  const b = topics.base.split('/');
  for (let i = 0; i < b.length; i++) {
    if (i >= f.length) return true; // shorter than the base: a different topic
    if (f[i] === '#') return true;
    if (f[i] !== '+' && f[i] !== b[i]) return true;
  }
  return false;
}

/** Full filters (with `{node}` replaced) one identity holds for one access. */
export function allowedFilters(identity: BrokerIdentity, access: Access, topics: Topics): string[] {
  // The controller also owns Home Assistant's discovery topics (`--homeassistant`), and
  // reads any home-lab topic a TopicBinding follows.
  if (identity.role === 'controller') return access === 'read' ? ['#'] : [`${topics.base}/#`, `${DISCOVERY_PREFIX}/#`];
  const self = identity.role === 'user' ? identity.user : identity.node;
  return rulesFor(identity)
    .filter((r) => r.access === access)
    .map((r) => `${topics.root}/${r.filter.replace(/\{(node|user)\}/, self)}`);
}

export function mayPublish(identity: BrokerIdentity, topic: string, topics: Topics): boolean {
  // MQTT API users are home-lab clients too: the lab's own topics are theirs.
  if (identity.role === 'user' && !isClusterTopic(topic, topics)) return true;
  return allowedFilters(identity, 'write', topics).some((f) => topicMatches(f, topic));
}

/** A subscription is allowed only when everything it could match is readable. */
export function maySubscribe(identity: BrokerIdentity, filter: string, topics: Topics): boolean {
  // A user's wide filter (`#`) is allowed: deliveries under the base are filtered out below.
  if (identity.role === 'user' && reachesOutside(filter, topics)) return true;
  return allowedFilters(identity, 'read', topics).some((f) => filterCovers(f, filter));
}

/** Checked on every delivery, retained ones included. */
export function mayReceive(identity: BrokerIdentity, topic: string, topics: Topics): boolean {
  if (identity.role === 'user' && !isClusterTopic(topic, topics)) return true;
  return allowedFilters(identity, 'read', topics).some((f) => topicMatches(f, topic));
}

/**
 * The same rules as a mosquitto acl_file: `pattern` lines with `%u` for nodes (the
 * username is the node name), per-user lines for the controller and the joiners.
 * Mosquitto cannot tie a joiner to one node (its client id `join-<node>` is not a whole
 * topic level), so there `{node}` widens to `+`; joining is still gated by the token,
 * which the join service checks again in the request.
 */
export function renderMosquittoAcl(topics: Topics): string {
  const mode = (a: Access) => (a === 'read' ? 'read' : 'write');
  const lines = [
    '# pikube broker access rules (generated; edit the generator, not this file)',
    '# Nodes: the username is the node name.',
    ...NODE_RULES.map((r) => `pattern ${mode(r.access)} ${topics.root}/${r.filter.replace('{node}', '%u')}`),
    '',
    `user ${CONTROLLER_USERNAME}`,
    `topic readwrite ${topics.base}/#`,
    `topic readwrite ${DISCOVERY_PREFIX}/#`,
    '# TopicBindings follow any home-lab topic.',
    'topic read #',
    '',
    '# Home Assistant: its discovery prefix and status, node availability, sensor state.',
    `user ${HOMEASSISTANT_USERNAME}`,
    `topic readwrite ${DISCOVERY_PREFIX}/#`,
    `topic read ${topics.root}/nodes/+/availability`,
    `topic read ${stateFilter(topics)}`,
    '# Home Assistant controls: its commands (carried out under --homeassistant-user and RBAC).',
    ...commandFilters(topics).map((f) => `topic write ${f}`),
    '',
    `user ${JOIN_USERNAME}`,
    ...JOINER_RULES.map((r) => `topic ${mode(r.access)} ${topics.root}/${r.filter.replace('{node}', '+')}`),
    '',
  ];
  return lines.join('\n');
}
