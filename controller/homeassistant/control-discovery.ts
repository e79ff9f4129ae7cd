// Discovery configs for the controls: a `number` for replicas and a restart `button` on an
// annotated Deployment or StatefulSet; a run-now `button` and a suspend `switch` on an
// annotated CronJob; a cordon `switch` on every node's device.
import type { Topics } from '../../protocol/mqtt/topics.js';
import {
  controlDiscoveryTopic, cordonCommandTopic, cordonStateTopic, haWorkloadId, workloadCommandTopic, workloadStateTopic,
  type ControlledKind,
} from './control-topics.js';
import type { DiscoveryMessage } from './node-discovery.js';
import { haNodeId } from './homeassistant-topics.js';

export interface WorkloadDevice { kind: ControlledKind; namespace: string; name: string; maxReplicas: number }

const ORIGIN = (version: string) => ({ name: 'pikube', sw_version: version });

export function workloadControls(topics: Topics, w: WorkloadDevice, version: string): DiscoveryMessage[] {
  const id = haWorkloadId(w.kind, w.namespace, w.name);
  const device = { identifiers: [id], name: `${w.namespace}/${w.name}`, manufacturer: 'pikube', model: `pikube ${w.kind}` };
  const state = workloadStateTopic(topics, w.kind, w.namespace, w.name);
  const common = { device, origin: ORIGIN(version) };
  const cmd = (action: 'replicas' | 'restart' | 'run' | 'suspend') => workloadCommandTopic(topics, w.kind, w.namespace, w.name, action);
  if (w.kind === 'cronjob') {
    return [
      { topic: controlDiscoveryTopic('button', id, 'run'), payload: { name: 'Run now', unique_id: `${id}_run`, command_topic: cmd('run'), payload_press: 'PRESS', icon: 'mdi:play', ...common } },
      {
        topic: controlDiscoveryTopic('switch', id, 'suspend'),
        payload: { name: 'Suspended', unique_id: `${id}_suspend`, command_topic: cmd('suspend'), state_topic: state, value_template: "{{ 'ON' if value_json.suspended else 'OFF' }}", payload_on: 'ON', payload_off: 'OFF', icon: 'mdi:pause', ...common },
      },
    ];
  }
  return [
    {
      topic: controlDiscoveryTopic('number', id, 'replicas'),
      payload: { name: 'Replicas', unique_id: `${id}_replicas`, command_topic: cmd('replicas'), state_topic: state, value_template: '{{ value_json.replicas }}', min: 0, max: w.maxReplicas, step: 1, mode: 'box', icon: 'mdi:numeric', ...common },
    },
    { topic: controlDiscoveryTopic('button', id, 'restart'), payload: { name: 'Restart', unique_id: `${id}_restart`, command_topic: cmd('restart'), payload_press: 'PRESS', device_class: 'restart', ...common } },
  ];
}

/** The topics a workload's controls occupy (cleared when the annotation or the workload goes). */
export function workloadControlTopics(kind: ControlledKind, namespace: string, name: string): string[] {
  const id = haWorkloadId(kind, namespace, name);
  return kind === 'cronjob'
    ? [controlDiscoveryTopic('button', id, 'run'), controlDiscoveryTopic('switch', id, 'suspend')]
    : [controlDiscoveryTopic('number', id, 'replicas'), controlDiscoveryTopic('button', id, 'restart')];
}

/** A cordon switch on the node's own device (the one the node sensors belong to). */
export function nodeCordonControl(topics: Topics, node: string, version: string): DiscoveryMessage {
  const id = haNodeId(node);
  return {
    topic: controlDiscoveryTopic('switch', id, 'cordon'),
    payload: {
      name: 'Cordoned', unique_id: `${id}_cordon`, command_topic: cordonCommandTopic(topics, node), state_topic: cordonStateTopic(topics, node),
      payload_on: 'ON', payload_off: 'OFF', state_on: 'ON', state_off: 'OFF', icon: 'mdi:cancel',
      device: { identifiers: [id], name: node }, origin: ORIGIN(version),
    },
  };
}
