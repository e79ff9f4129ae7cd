// Home Assistant controls: where their state and commands live. Workloads sit under
// `_workloads`, a level no node name can take (node names have no underscore), next to
// the per-node state topics.
//
//   <base>/v1/homeassistant/_workloads/<kind>/<ns>/<name>/state           retained JSON
//   <base>/v1/homeassistant/_workloads/<kind>/<ns>/<name>/<action>/set    from Home Assistant
//   <base>/v1/homeassistant/<node>/cordon/state                           retained ON|OFF
//   <base>/v1/homeassistant/<node>/cordon/set                             from Home Assistant
import type { Topics } from '../../protocol/mqtt/topics.js';
import { DISCOVERY_PREFIX } from './homeassistant-topics.js';

/** Workload kinds that get controls, by the word used in topics. */
export const CONTROLLED_KINDS = {
  deployment: { group: 'apps', version: 'v1', resource: 'deployments', kind: 'Deployment' },
  statefulset: { group: 'apps', version: 'v1', resource: 'statefulsets', kind: 'StatefulSet' },
  cronjob: { group: 'batch', version: 'v1', resource: 'cronjobs', kind: 'CronJob' },
} as const;
export type ControlledKind = keyof typeof CONTROLLED_KINDS;

export type WorkloadAction = 'replicas' | 'restart' | 'run' | 'suspend';

/** The annotation a user sets on a workload to get Home Assistant controls for it. */
export const CONTROLS_ANNOTATION = 'pikube.io/homeassistant';
/** Optional upper bound of the replicas number (default 10). */
export const MAX_REPLICAS_ANNOTATION = 'pikube.io/homeassistant-max-replicas';

const WORKLOADS = '_workloads';

export function workloadBase(topics: Topics, kind: ControlledKind, namespace: string, name: string): string {
  return `${topics.root}/homeassistant/${WORKLOADS}/${kind}/${namespace}/${name}`;
}
export const workloadStateTopic = (topics: Topics, kind: ControlledKind, ns: string, name: string) => `${workloadBase(topics, kind, ns, name)}/state`;
export const workloadCommandTopic = (topics: Topics, kind: ControlledKind, ns: string, name: string, action: WorkloadAction) => `${workloadBase(topics, kind, ns, name)}/${action}/set`;
export const cordonStateTopic = (topics: Topics, node: string) => `${topics.root}/homeassistant/${node}/cordon/state`;
export const cordonCommandTopic = (topics: Topics, node: string) => `${topics.root}/homeassistant/${node}/cordon/set`;

/** What the controller subscribes to, and what Home Assistant may publish. */
export function commandFilters(topics: Topics): string[] {
  return [`${topics.root}/homeassistant/${WORKLOADS}/+/+/+/+/set`, `${topics.root}/homeassistant/+/cordon/set`];
}

export type ParsedCommand =
  | { target: 'workload'; kind: ControlledKind; namespace: string; name: string; action: WorkloadAction }
  | { target: 'node'; node: string };

export function parseCommandTopic(topics: Topics, topic: string): ParsedCommand | undefined {
  const prefix = `${topics.root}/homeassistant/`;
  if (!topic.startsWith(prefix)) return undefined;
  const parts = topic.slice(prefix.length).split('/');
  if (parts.length === 3 && parts[1] === 'cordon' && parts[2] === 'set' && parts[0] !== WORKLOADS) return { target: 'node', node: parts[0]! };
  if (parts.length === 6 && parts[0] === WORKLOADS && parts[5] === 'set' && parts[1]! in CONTROLLED_KINDS
    && ['replicas', 'restart', 'run', 'suspend'].includes(parts[4]!)) {
    return { target: 'workload', kind: parts[1] as ControlledKind, namespace: parts[2]!, name: parts[3]!, action: parts[4] as WorkloadAction };
  }
  return undefined;
}

export function haWorkloadId(kind: ControlledKind, namespace: string, name: string): string {
  return `pikube_${kind}_${namespace}_${name}`.replace(/[^a-zA-Z0-9_-]/g, '_');
}

export type ControlComponent = 'number' | 'button' | 'switch';
export function controlDiscoveryTopic(component: ControlComponent, objectId: string, object: string): string {
  return `${DISCOVERY_PREFIX}/${component}/${objectId}/${object}/config`;
}
