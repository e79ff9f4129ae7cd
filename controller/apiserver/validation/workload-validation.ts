/** Deployment, ReplicaSet and DaemonSet: selector, template, replicas, strategy. */
import { FieldPath, forbidden, invalid, notSupported, required, type FieldCause } from './field-cause.js';
import { isEmptySelector, selectorMatches, validateLabelSelector } from './label-selector.js';
import { validateLabels } from './object-meta.js';
import { validatePodSpec } from './pod-validation.js';
import { asObj, canonical, isSet } from './shape.js';

const DEPLOYMENT_STRATEGIES = ['Recreate', 'RollingUpdate'];
const DAEMONSET_STRATEGIES = ['OnDelete', 'RollingUpdate'];

function validateIntOrPercent(value: unknown, path: FieldPath): FieldCause[] {
  if (value === undefined || value === null) return [];
  if (typeof value === 'number') return value < 0 ? [invalid(path.toString(), value, 'must be greater than or equal to 0')] : [];
  if (typeof value === 'string') {
    const m = /^(\d+)%$/.exec(value);
    if (!m) return [invalid(path.toString(), value, "a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')")];
    if (Number(m[1]) > 100) return [invalid(path.toString(), value, 'must not be greater than 100%')];
  }
  return [];
}

const isZero = (v: unknown): boolean => v === 0 || v === '0%';

function validateTemplate(templateValue: unknown, selector: unknown, path: FieldPath): FieldCause[] {
  const template = asObj(templateValue);
  if (!template) return [required(path.toString())];
  const causes: FieldCause[] = [];
  const labels = asObj(template.metadata)?.labels;
  const labelsPath = path.child('metadata').child('labels');
  causes.push(...validateLabels(labels, labelsPath));
  if (!isEmptySelector(selector) && !selectorMatches(selector, labels)) {
    causes.push(invalid(labelsPath.toString(), labels ?? {}, '`selector` does not match template `labels`'));
  }
  causes.push(...validatePodSpec(template.spec, path.child('spec'), { restartPolicies: ['Always'] }));
  return causes;
}

function validateSelectorAndTemplate(spec: Record<string, unknown>, path: FieldPath, kindLabel: string): FieldCause[] {
  const causes: FieldCause[] = [];
  const selectorPath = path.child('selector');
  if (spec.selector === undefined || spec.selector === null) causes.push(required(selectorPath.toString()));
  else {
    causes.push(...validateLabelSelector(spec.selector, selectorPath));
    if (isEmptySelector(spec.selector)) causes.push(invalid(selectorPath.toString(), spec.selector, `empty selector is invalid for ${kindLabel}`));
  }
  causes.push(...validateTemplate(spec.template, spec.selector, path.child('template')));
  return causes;
}

function validateReplicas(spec: Record<string, unknown>, path: FieldPath): FieldCause[] {
  const causes: FieldCause[] = [];
  for (const field of ['replicas', 'minReadySeconds', 'revisionHistoryLimit']) {
    const v = spec[field];
    if (typeof v === 'number' && v < 0) causes.push(invalid(path.child(field).toString(), v, 'must be greater than or equal to 0'));
  }
  return causes;
}

function validateRollingUpdate(rolling: unknown, path: FieldPath, strategyType: unknown, surgeAllowed: boolean): FieldCause[] {
  const r = asObj(rolling);
  if (!r) return [];
  const causes: FieldCause[] = [];
  if (strategyType !== 'RollingUpdate') {
    causes.push(forbidden(path.toString(), `may not be specified when strategy \`type\` is '${String(strategyType)}'`));
    return causes;
  }
  causes.push(...validateIntOrPercent(r.maxUnavailable, path.child('maxUnavailable')));
  if (surgeAllowed) {
    causes.push(...validateIntOrPercent(r.maxSurge, path.child('maxSurge')));
    if (isZero(r.maxUnavailable) && isZero(r.maxSurge)) {
      causes.push(invalid(path.child('maxUnavailable').toString(), r.maxUnavailable, 'may not be 0 when `maxSurge` is 0'));
    }
  }
  return causes;
}

export function validateDeploymentSpec(specValue: unknown, path: FieldPath): FieldCause[] {
  const spec = asObj(specValue) ?? {};
  const causes = validateReplicas(spec, path);
  causes.push(...validateSelectorAndTemplate(spec, path, 'deployment'));
  const strategy = asObj(spec.strategy);
  if (strategy) {
    const type = strategy.type ?? 'RollingUpdate';
    if (!DEPLOYMENT_STRATEGIES.includes(String(type))) causes.push(notSupported(path.child('strategy').child('type').toString(), type, DEPLOYMENT_STRATEGIES));
    else causes.push(...validateRollingUpdate(strategy.rollingUpdate, path.child('strategy').child('rollingUpdate'), type, true));
  }
  const deadline = spec.progressDeadlineSeconds;
  if (typeof deadline === 'number' && typeof spec.minReadySeconds === 'number' && deadline <= spec.minReadySeconds) {
    causes.push(invalid(path.child('progressDeadlineSeconds').toString(), deadline, 'must be greater than minReadySeconds'));
  }
  return causes;
}

export function validateReplicaSetSpec(specValue: unknown, path: FieldPath): FieldCause[] {
  const spec = asObj(specValue) ?? {};
  return [...validateReplicas(spec, path), ...validateSelectorAndTemplate(spec, path, 'replicaset')];
}

export function validateDaemonSetSpec(specValue: unknown, path: FieldPath): FieldCause[] {
  const spec = asObj(specValue) ?? {};
  const causes = validateReplicas(spec, path);
  causes.push(...validateSelectorAndTemplate(spec, path, 'daemonset'));
  const strategy = asObj(spec.updateStrategy);
  if (strategy) {
    const type = strategy.type ?? 'RollingUpdate';
    if (!DAEMONSET_STRATEGIES.includes(String(type))) causes.push(notSupported(path.child('updateStrategy').child('type').toString(), type, DAEMONSET_STRATEGIES));
    else causes.push(...validateRollingUpdate(strategy.rollingUpdate, path.child('updateStrategy').child('rollingUpdate'), type, true));
  }
  return causes;
}

/** The selector is fixed at creation in apps/v1. */
export function validateSelectorUpdate(specValue: unknown, oldSpecValue: unknown, path: FieldPath): FieldCause[] {
  const selector = asObj(specValue)?.selector;
  const old = asObj(oldSpecValue)?.selector;
  if (!isSet(old) || canonical(selector) === canonical(old)) return [];
  return [invalid(path.child('selector').toString(), selector ?? null, 'field is immutable')];
}
