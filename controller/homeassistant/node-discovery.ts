// Home Assistant MQTT discovery configs for one node: the node is a device; CPU %, memory
// %, SoC temperature (only on boards that report one) and running pods are sensors, and
// the agent's availability topic is an `online` connectivity binary sensor.
import type { Topics } from '../../protocol/mqtt/topics.js';
import { discoveryTopic, haNodeId, stateTopic, type Component } from './homeassistant-topics.js';

export interface NodeDevice {
  name: string;
  /** e.g. the node's OS image and architecture. */
  model: string;
  swVersion: string;
  hasTemperature: boolean;
}

export interface DiscoveryMessage { topic: string; payload: Record<string, unknown> }

interface EntitySpec {
  component: Component;
  object: string;
  name: string;
  extra: Record<string, unknown>;
}

/** Every object a node can have, whether announced or not (deletion clears them all). */
export const OBJECTS: readonly { component: Component; object: string }[] = [
  { component: 'sensor', object: 'cpu' },
  { component: 'sensor', object: 'memory' },
  { component: 'sensor', object: 'temperature' },
  { component: 'sensor', object: 'pods' },
  { component: 'binary_sensor', object: 'online' },
];

/** Sensors go stale when nothing refreshes them (the controller republishes well within this). */
export const EXPIRE_AFTER_SECONDS = 300;

export function discoveryMessages(topics: Topics, node: NodeDevice, version: string): DiscoveryMessage[] {
  const id = haNodeId(node.name);
  const availabilityTopic = topics.availability(node.name);
  const state = stateTopic(topics, node.name);
  const device = { identifiers: [id], name: node.name, manufacturer: 'pikube', model: node.model, sw_version: node.swVersion };
  const origin = { name: 'pikube', sw_version: version };
  const nodeAvailability = [{ topic: availabilityTopic, value_template: '{{ value_json.state }}', payload_available: 'online', payload_not_available: 'offline' }];
  const measurement = (valueKey: string, extra: Record<string, unknown>): Record<string, unknown> => ({
    state_topic: state,
    value_template: `{{ value_json.${valueKey} }}`,
    state_class: 'measurement',
    expire_after: EXPIRE_AFTER_SECONDS,
    availability: nodeAvailability,
    ...extra,
  });
  const entities: EntitySpec[] = [
    { component: 'sensor', object: 'cpu', name: 'CPU', extra: measurement('cpu_percent', { unit_of_measurement: '%', icon: 'mdi:cpu-64-bit', suggested_display_precision: 1 }) },
    { component: 'sensor', object: 'memory', name: 'Memory', extra: measurement('memory_percent', { unit_of_measurement: '%', icon: 'mdi:memory', suggested_display_precision: 1 }) },
    ...(node.hasTemperature
      ? [{ component: 'sensor' as const, object: 'temperature', name: 'SoC temperature', extra: measurement('temperature_c', { unit_of_measurement: '°C', device_class: 'temperature', suggested_display_precision: 1 }) }]
      : []),
    { component: 'sensor', object: 'pods', name: 'Pods running', extra: measurement('pods_running', { unit_of_measurement: 'pods', icon: 'mdi:cube-outline' }) },
    {
      component: 'binary_sensor', object: 'online', name: 'Online',
      extra: {
        state_topic: availabilityTopic,
        value_template: '{{ value_json.state }}',
        payload_on: 'online',
        payload_off: 'offline',
        device_class: 'connectivity',
        // Available whenever the agent's topic holds a state: offline is a value here, not a gap.
        availability: [{ topic: availabilityTopic, value_template: "{{ 'online' if value_json.state in ['online', 'offline'] else 'offline' }}", payload_available: 'online', payload_not_available: 'offline' }],
      },
    },
  ];
  return entities.map((e) => ({
    topic: discoveryTopic(e.component, node.name, e.object),
    payload: { name: e.name, unique_id: `${id}_${e.object}`, ...e.extra, device, origin },
  }));
}

/** The topics to clear (empty retained payloads) when a node goes away. */
export function discoveryTopicsOf(node: string): string[] {
  return OBJECTS.map((o) => discoveryTopic(o.component, node, o.object));
}
