// TopicBinding is served through the cluster's own CustomResourceDefinition, installed at
// start like k3s installs its HelmChart definitions: discovery, OpenAPI, validation,
// defaults and Table columns then come from the one mechanism every custom kind uses.
import { TOPIC_BINDING_GROUP } from './topic-binding-types.js';

const stringMap = { type: 'object', additionalProperties: { type: 'string' } };

export const TOPIC_BINDING_CRD = {
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: { name: `topicbindings.${TOPIC_BINDING_GROUP}`, labels: { 'app.kubernetes.io/managed-by': 'pikube' } },
  spec: {
    group: TOPIC_BINDING_GROUP,
    scope: 'Cluster',
    names: { plural: 'topicbindings', singular: 'topicbinding', kind: 'TopicBinding', listKind: 'TopicBindingList', shortNames: ['tb'] },
    versions: [{
      name: 'v1', served: true, storage: true,
      subresources: { status: {} },
      additionalPrinterColumns: [
        { name: 'Topic', type: 'string', jsonPath: '.spec.topic' },
        { name: 'Active', type: 'boolean', jsonPath: '.status.active' },
        { name: 'Value', type: 'string', jsonPath: '.status.lastValue' },
        { name: 'Nodes', type: 'string', jsonPath: '.status.nodes', priority: 1 },
        { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
      ],
      schema: {
        openAPIV3Schema: {
          type: 'object',
          description: 'Maps the value of an MQTT topic to a taint or labels on nodes while a condition holds.',
          properties: {
            apiVersion: { type: 'string' },
            kind: { type: 'string' },
            metadata: { type: 'object' },
            spec: {
              type: 'object',
              required: ['topic', 'when'],
              anyOf: [{ required: ['taint'] }, { required: ['labels'] }],
              properties: {
                topic: { type: 'string', minLength: 1, maxLength: 1024, description: 'Any topic on the broker outside the cluster\'s own base topic; no wildcards.' },
                valuePath: { type: 'string', default: '', description: 'Dotted path into a JSON payload; empty: the whole payload.' },
                when: {
                  type: 'object', minProperties: 1,
                  properties: { equals: { type: 'string' }, above: { type: 'number' }, below: { type: 'number' } },
                },
                nodeSelector: { ...stringMap, description: 'Labels a node must carry; empty: every node.' },
                taint: {
                  type: 'object', required: ['key', 'effect'],
                  properties: {
                    key: { type: 'string', minLength: 1 },
                    value: { type: 'string' },
                    effect: { type: 'string', enum: ['NoSchedule', 'PreferNoSchedule', 'NoExecute'] },
                  },
                },
                labels: stringMap,
                silentAfterSeconds: { type: 'integer', minimum: 1, default: 600 },
              },
            },
            status: {
              type: 'object',
              properties: {
                active: { type: 'boolean' },
                lastValue: { type: 'string' },
                lastMessageTime: { type: 'string', format: 'date-time' },
                lastTransitionTime: { type: 'string', format: 'date-time' },
                nodes: { type: 'array', items: { type: 'string' } },
                silent: { type: 'boolean' },
                message: { type: 'string' },
                observedGeneration: { type: 'integer' },
              },
            },
          },
        },
      },
    }],
  },
};
