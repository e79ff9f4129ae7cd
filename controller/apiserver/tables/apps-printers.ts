// Rows for the apps group: deployments, replica sets, daemon sets, controller revisions.

import { AGE_COLUMN, column, NAME_COLUMN, wide, type PrintedObject, type TablePrinter } from './columns.js';
import { since } from './duration.js';
import { containerCells, formatLabels, formatLabelSelector, int, isRecord, records, selectorString } from './format.js';

const CONTAINERS = wide('Containers', 'string', 'Names of each container in the template.');
const IMAGES = wide('Images', 'string', 'Images referenced by each container in the template.');
const SELECTOR = wide('Selector', 'string', 'Label selector of the pods this object manages.');

function parts(obj: PrintedObject): { meta: Record<string, unknown>; spec: Record<string, unknown>; status: Record<string, unknown>; podSpec: Record<string, unknown> } {
  const spec = isRecord(obj.spec) ? obj.spec : {};
  const template = isRecord(spec.template) ? spec.template : {};
  return {
    meta: isRecord(obj.metadata) ? obj.metadata : {},
    spec,
    status: isRecord(obj.status) ? obj.status : {},
    podSpec: isRecord(template.spec) ? template.spec : {},
  };
}

export const deploymentPrinter: TablePrinter = {
  columns: [
    NAME_COLUMN,
    column('Ready', 'string', 'Ready pods out of desired pods.'),
    column('Up-to-date', 'string', 'Pods that run the latest template.'),
    column('Available', 'string', 'Pods available to serve.'),
    AGE_COLUMN,
    CONTAINERS,
    IMAGES,
    SELECTOR,
  ],
  print(obj, now) {
    const { meta, spec, status, podSpec } = parts(obj);
    const [names, images] = containerCells(podSpec.containers);
    return {
      cells: [
        String(meta.name ?? ''),
        `${int(status.readyReplicas)}/${int(spec.replicas, 1)}`,
        int(status.updatedReplicas),
        int(status.availableReplicas),
        since(meta.creationTimestamp, now),
        names,
        images,
        selectorString(spec.selector),
      ],
    };
  },
};

export const replicaSetPrinter: TablePrinter = {
  columns: [
    NAME_COLUMN,
    column('Desired', 'integer', 'Number of pods wanted.'),
    column('Current', 'integer', 'Number of pods that exist.'),
    column('Ready', 'integer', 'Number of ready pods.'),
    AGE_COLUMN,
    CONTAINERS,
    IMAGES,
    SELECTOR,
  ],
  print(obj, now) {
    const { meta, spec, status, podSpec } = parts(obj);
    const [names, images] = containerCells(podSpec.containers);
    return {
      cells: [
        String(meta.name ?? ''),
        int(spec.replicas, 1),
        int(status.replicas),
        int(status.readyReplicas),
        since(meta.creationTimestamp, now),
        names,
        images,
        formatLabelSelector(spec.selector),
      ],
    };
  },
};

export const daemonSetPrinter: TablePrinter = {
  columns: [
    NAME_COLUMN,
    column('Desired', 'integer', 'Nodes that should run the daemon pod.'),
    column('Current', 'integer', 'Nodes that run at least one daemon pod.'),
    column('Ready', 'integer', 'Nodes whose daemon pod is ready.'),
    column('Up-to-date', 'integer', 'Nodes that run the latest template.'),
    column('Available', 'integer', 'Nodes whose daemon pod is available.'),
    column('Node Selector', 'string', 'Node selector of the pod template.'),
    AGE_COLUMN,
    CONTAINERS,
    IMAGES,
    SELECTOR,
  ],
  print(obj, now) {
    const { meta, spec, status, podSpec } = parts(obj);
    const [names, images] = containerCells(podSpec.containers);
    return {
      cells: [
        String(meta.name ?? ''),
        int(status.desiredNumberScheduled),
        int(status.currentNumberScheduled),
        int(status.numberReady),
        int(status.updatedNumberScheduled),
        int(status.numberAvailable),
        formatLabels(podSpec.nodeSelector),
        since(meta.creationTimestamp, now),
        names,
        images,
        formatLabelSelector(spec.selector),
      ],
    };
  },
};

export const controllerRevisionPrinter: TablePrinter = {
  columns: [
    NAME_COLUMN,
    column('Controller', 'string', 'The controller that owns this revision.'),
    column('Revision', 'string', 'Revision number of the captured state.'),
    AGE_COLUMN,
  ],
  print(obj, now) {
    const meta = isRecord(obj.metadata) ? obj.metadata : {};
    const owners = records(meta.ownerReferences);
    const controller = owners.find((o) => o.controller === true);
    let controllerName = '<none>';
    if (controller) {
      // kind.group/name in lower case, the kind alone for the core group.
      const apiVersion = String(controller.apiVersion ?? '');
      const group = apiVersion.includes('/') ? apiVersion.slice(0, apiVersion.indexOf('/')) : '';
      const kind = String(controller.kind ?? '');
      const groupKind = group === '' ? kind : `${kind}.${group}`;
      controllerName = groupKind === '' ? String(controller.name ?? '') : `${groupKind.toLowerCase()}/${String(controller.name ?? '')}`;
    }
    return { cells: [String(meta.name ?? ''), controllerName, int(obj.revision), since(meta.creationTimestamp, now)] };
  },
};
