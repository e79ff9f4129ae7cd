// scheduling.k8s.io/v1 PriorityClass: a name for a pod priority value (pkg/registry/scheduling/priorityclass,
// validation from pkg/apis/scheduling/validation, defaults from pkg/apis/scheduling/v1/defaults.go,
// columns from printPriorityClass, the two system classes from storage_scheduling.go).
import type { KubeObject } from '../../../../protocol/kube/types.js';
import { type KindDefinition, PLAIN } from '../kind-definition.js';
import { AGE_COLUMN, column, NAME_COLUMN } from '../../tables/columns.js';
import { since } from '../../tables/duration.js';
import { isRecord } from '../../tables/format.js';
import { PTR } from '../../protobuf/message-table.js';
import { forbidden, invalid, notSupported, type FieldCause } from '../../validation/field-cause.js';
import { dns1123Subdomain } from '../../validation/names.js';
import type { Obj } from '../../validation/shape.js';

/** Names with this prefix are reserved for the classes the cluster itself defines. */
const SYSTEM_PREFIX = 'system-';
/** Values above this are reserved for system classes. */
export const HIGHEST_USER_DEFINABLE_PRIORITY = 1_000_000_000;
const PREEMPTION_POLICIES = ['PreemptLowerPriority', 'Never'] as const;

/** The classes every cluster has, for add-ons that must not be starved or evicted. */
export const SYSTEM_PRIORITY_CLASSES: readonly { name: string; value: number; description: string }[] = [
  { name: 'system-node-critical', value: 2_000_001_000, description: 'Used for system critical pods that must not be moved from their current node.' },
  { name: 'system-cluster-critical', value: 2_000_000_000, description: 'Used for system critical pods that must run in the cluster, but can be moved to another node if necessary.' },
];

function systemClassProblem(name: string, value: unknown, globalDefault: unknown): string | undefined {
  const known = SYSTEM_PRIORITY_CLASSES.find((c) => c.name === name);
  if (!known) return `${name} is not a known system priority class`;
  if (value !== known.value) return `value of ${name} PriorityClass must be ${known.value}`;
  if (globalDefault === true) return `globalDefault of ${name} PriorityClass must be false`;
  return undefined;
}

function validatePriorityClass(obj: Obj): FieldCause[] {
  const causes: FieldCause[] = [];
  const name = isRecord(obj.metadata) ? String(obj.metadata.name ?? '') : '';
  if (name.startsWith(SYSTEM_PREFIX)) {
    const problem = systemClassProblem(name, obj.value, obj.globalDefault);
    if (problem) causes.push(forbidden('metadata.name', `priority class names with '${SYSTEM_PREFIX}' prefix are reserved for system use only. error: ${problem}`));
  } else if (typeof obj.value === 'number' && obj.value > HIGHEST_USER_DEFINABLE_PRIORITY) {
    causes.push(forbidden('value', `maximum allowed value of a user defined priority is ${HIGHEST_USER_DEFINABLE_PRIORITY}`));
  }
  if (obj.preemptionPolicy !== undefined && !(PREEMPTION_POLICIES as readonly unknown[]).includes(obj.preemptionPolicy)) {
    causes.push(notSupported('preemptionPolicy', obj.preemptionPolicy, PREEMPTION_POLICIES));
  }
  return causes;
}

function validatePriorityClassUpdate(obj: Obj, old: Obj): FieldCause[] {
  const causes: FieldCause[] = [];
  if (obj.value !== old.value) causes.push(forbidden('value', 'may not be changed in an update.'));
  if (obj.preemptionPolicy !== old.preemptionPolicy) causes.push(invalid('preemptionPolicy', obj.preemptionPolicy ?? null, 'field is immutable'));
  return causes;
}

export const priorityClass: KindDefinition = {
  group: 'scheduling.k8s.io', version: 'v1', kind: 'PriorityClass', resource: 'priorityclasses', scope: 'Cluster',
  shortNames: ['pc'],
  strategy: PLAIN,
  defaults(obj) {
    // A missing value decodes to 0 upstream (int32 without omitempty) and is stored so.
    obj.value ??= 0;
    obj.preemptionPolicy ??= 'PreemptLowerPriority';
  },
  printer: {
    columns: [
      NAME_COLUMN,
      column('Value', 'integer', 'value represents the integer value of this priority class.'),
      column('Global-Default', 'boolean', 'globalDefault specifies whether this PriorityClass should be considered as the default priority for pods that do not have any priority class.'),
      AGE_COLUMN,
      column('PreemptionPolicy', 'string', 'preemptionPolicy is the Policy for preempting pods with lower priority.'),
    ],
    print(obj: KubeObject, now) {
      const meta = obj.metadata ?? {};
      const value = typeof obj.value === 'number' ? obj.value : 0;
      const policy = typeof obj.preemptionPolicy === 'string' ? obj.preemptionPolicy : '';
      return { cells: [String(meta.name ?? ''), value, obj.globalDefault === true, since(meta.creationTimestamp, now), policy] };
    },
  },
  protobuf: {
    message: 'scheduling/v1.PriorityClass',
    messages: {
      // k8s.io/api/scheduling/v1/generated.proto
      'scheduling/v1.PriorityClass': {
        1: ['metadata', 'meta/v1.ObjectMeta'],
        2: ['value', 'int32'],
        3: ['globalDefault', 'bool'],
        4: ['description', 'string'],
        5: ['preemptionPolicy', 'string', PTR],
      },
    },
  },
  validation: { name: dns1123Subdomain, create: validatePriorityClass, update: (obj, old) => [...validatePriorityClass(obj), ...validatePriorityClassUpdate(obj, old)] },
  bootstrap: () => SYSTEM_PRIORITY_CLASSES.map((c) => ({
    apiVersion: 'scheduling.k8s.io/v1', kind: 'PriorityClass', metadata: { name: c.name },
    value: c.value, globalDefault: false, description: c.description, preemptionPolicy: 'PreemptLowerPriority',
  })),
};
