// Where Home Assistant and pikube meet on MQTT. Discovery configs live under Home
// Assistant's own prefix; the values they point at live under pikube's base topic, in a
// scope of their own so agents (who read `<base>/v1/cluster/#`) never receive them.
//
//   homeassistant/<component>/pikube_<node id>/<object>/config   retained, by the controller
//   homeassistant/status                                         `online` when HA (re)starts
//   <base>/v1/homeassistant/<node>/state                         retained JSON, by the controller
//   <base>/v1/nodes/<node>/availability                          the agent's own (Will = offline)
import type { Topics } from '../../protocol/mqtt/topics.js';

export const DISCOVERY_PREFIX = 'homeassistant';
/** Home Assistant's birth and last-will topic. */
export const BIRTH_TOPIC = `${DISCOVERY_PREFIX}/status`;
/**
 * The MQTT user Home Assistant logs in as on Mosquitto. The underscore keeps it apart from
 * every node name (node names are DNS-1123 names, which have none).
 */
export const HOMEASSISTANT_USERNAME = 'home_assistant';

export type Component = 'sensor' | 'binary_sensor';

/** Home Assistant ids allow only [a-zA-Z0-9_-]; node names may also hold dots. */
export function haNodeId(node: string): string {
  return `pikube_${node.replace(/[^a-zA-Z0-9_-]/g, '_')}`;
}

export function discoveryTopic(component: Component, node: string, object: string): string {
  return `${DISCOVERY_PREFIX}/${component}/${haNodeId(node)}/${object}/config`;
}

/** The retained JSON state every sensor of one node reads. */
export function stateTopic(topics: Topics, node: string): string {
  return `${topics.root}/homeassistant/${node}/state`;
}

/** Every state topic (what the Home Assistant user may read). */
export function stateFilter(topics: Topics): string {
  return `${topics.root}/homeassistant/#`;
}
