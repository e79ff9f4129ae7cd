// apps/v1 StatefulSet as the controller reads it.
export type { ControllerRevision, PodTemplate, StatefulSet } from '../../../protocol/kube/types.js';
