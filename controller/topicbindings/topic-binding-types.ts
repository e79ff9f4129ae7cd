// TopicBinding (pikube.io/v1): the value of any MQTT topic on the broker, mapped to a
// taint or labels on nodes while a condition holds. A home lab's UPS, solar inverter or
// maintenance switch steers placement without anyone writing a client.
import type { KubeObject, Taint } from '../../protocol/kube/types.js';

export const TOPIC_BINDING_GROUP = 'pikube.io';
export const TOPIC_BINDING_REF = { group: TOPIC_BINDING_GROUP, resource: 'topicbindings' } as const;
/** Held until the binding's taints and labels are off every node. */
export const TOPIC_BINDING_FINALIZER = 'pikube.io/topicbinding-cleanup';

export interface TopicCondition {
  /** The value, as text, equals this. */
  equals?: string;
  /** The value, as a number, is greater than this. */
  above?: number;
  /** The value, as a number, is less than this. */
  below?: number;
}

export interface TopicBindingSpec {
  topic: string;
  /** Dotted path into a JSON payload (`battery.onBattery`, `$.a[0].b`); empty: the whole payload. */
  valuePath?: string;
  when: TopicCondition;
  /** Label map the nodes must carry; empty or absent: every node. */
  nodeSelector?: Record<string, string>;
  taint?: Pick<Taint, 'key' | 'value' | 'effect'>;
  labels?: Record<string, string>;
  /** After this long without a message the status says the topic is silent (default 600). */
  silentAfterSeconds?: number;
}

export interface TopicBindingStatus {
  /** Whether the condition holds, and so whether the nodes carry the taint or labels. */
  active?: boolean;
  lastValue?: string;
  /** When a message last arrived. */
  lastMessageTime?: string;
  /** When `active` last changed. */
  lastTransitionTime?: string;
  /** Nodes that carry the binding's taint or labels now. */
  nodes?: string[];
  /** True once no message arrived for silentAfterSeconds; the last state is kept. */
  silent?: boolean;
  message?: string;
  observedGeneration?: number;
}

export interface TopicBinding extends KubeObject {
  spec: TopicBindingSpec;
  status?: TopicBindingStatus;
}
