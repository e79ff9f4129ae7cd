// Defaults and validation of CustomResourceDefinition objects themselves (upstream's
// apiextensions/validation/validation.go and v1 defaults), beyond the type checks the
// CRD's OpenAPI schema already makes.
import type { KubeObject } from '../../../protocol/kube/types.js';
import { dns1123Label, dns1123Subdomain } from '../validation/names.js';
import { forbidden, invalid, notSupported, required, duplicate, type FieldCause } from '../validation/field-cause.js';
import { parseColumnPath } from './printer-columns.js';
import { compileSchema } from './schema-validator.js';
import { structuralCauses, type Schema } from './structural-schema.js';

export const CLEANUP_FINALIZER = 'customresourcecleanup.apiextensions.k8s.io';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);

/** v1 defaults: singular and listKind from the kind, conversion None; the cleanup finalizer on create. */
export function defaultCrd(obj: KubeObject, old: KubeObject | undefined): void {
  const spec = obj.spec;
  if (!isObj(spec)) return;
  if (isObj(spec.names)) {
    if (typeof spec.names.kind === 'string') {
      spec.names.singular ||= spec.names.kind.toLowerCase();
      spec.names.listKind ||= `${spec.names.kind}List`;
    }
  }
  spec.conversion ??= { strategy: 'None' };
  if (!old) {
    const fin = (obj.metadata.finalizers ??= []);
    if (!fin.includes(CLEANUP_FINALIZER)) fin.push(CLEANUP_FINALIZER);
  }
}

const LOWER_DNS_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;

function checkNames(names: unknown, path: string): FieldCause[] {
  if (!isObj(names)) return [required(path)];
  const causes: FieldCause[] = [];
  for (const key of ['plural', 'singular']) {
    const v = names[key];
    if (key === 'plural' && !v) causes.push(required(`${path}.plural`));
    else if (v && !LOWER_DNS_LABEL.test(String(v))) causes.push(invalid(`${path}.${key}`, v, 'a lowercase RFC 1123 label must consist of lower case alphanumeric characters or \'-\', and must start and end with an alphanumeric character'));
  }
  if (!names.kind) causes.push(required(`${path}.kind`));
  else if (!/^[A-Za-z][A-Za-z0-9]*$/.test(String(names.kind))) causes.push(invalid(`${path}.kind`, names.kind, 'may have only alphanumeric characters and start with a letter'));
  for (const [i, s] of (Array.isArray(names.shortNames) ? names.shortNames : []).entries()) {
    if (!LOWER_DNS_LABEL.test(String(s))) causes.push(invalid(`${path}.shortNames[${i}]`, s, 'a lowercase RFC 1123 label must consist of lower case alphanumeric characters or \'-\''));
  }
  return causes;
}

function checkVersion(v: Obj, path: string): FieldCause[] {
  const causes: FieldCause[] = [];
  if (!v.name) causes.push(required(`${path}.name`));
  else if (dns1123Label(String(v.name)).length) causes.push(invalid(`${path}.name`, v.name, 'must be a DNS-1035 label'));
  const schema = isObj(v.schema) ? v.schema.openAPIV3Schema : undefined;
  if (v.served || v.storage) {
    if (schema === undefined) causes.push(required(`${path}.schema.openAPIV3Schema`, 'schemas are required'));
  }
  if (schema !== undefined) {
    const structural = structuralCauses(schema, `${path}.schema.openAPIV3Schema`);
    causes.push(...structural);
    if (!structural.length) {
      try {
        compileSchema(schema as Schema); // structural: checked just above
      } catch (err) {
        causes.push(invalid(`${path}.schema.openAPIV3Schema`, '', (err as Error).message));
      }
    }
  }
  for (const [i, c] of (Array.isArray(v.additionalPrinterColumns) ? v.additionalPrinterColumns : []).entries()) {
    const p = `${path}.additionalPrinterColumns[${i}]`;
    if (!c?.name) causes.push(required(`${p}.name`));
    if (!['string', 'integer', 'number', 'boolean', 'date'].includes(c?.type)) causes.push(notSupported(`${p}.type`, c?.type, ['boolean', 'date', 'integer', 'number', 'string']));
    if (!c?.jsonPath) causes.push(required(`${p}.jsonPath`));
    else {
      try { parseColumnPath(c.jsonPath); } catch (err) { causes.push(invalid(`${p}.jsonPath`, c.jsonPath, (err as Error).message)); }
    }
  }
  const scale = isObj(v.subresources) ? v.subresources.scale : undefined;
  if (scale !== undefined) {
    if (!isObj(scale)) causes.push(required(`${path}.subresources.scale`));
    else {
      for (const k of ['specReplicasPath', 'statusReplicasPath']) {
        const sp = scale[k];
        if (!sp) causes.push(required(`${path}.subresources.scale.${k}`));
        else if (!/^\.(spec|status)(\.[A-Za-z0-9_-]+)+$/.test(String(sp))) causes.push(invalid(`${path}.subresources.scale.${k}`, sp, 'should be a json path under .spec or .status'));
      }
    }
  }
  return causes;
}

/** Problems of a CRD; metadata.name must be <plural>.<group>. */
export function validateCrd(obj: Obj): FieldCause[] {
  const spec = obj.spec;
  if (!isObj(spec)) return [required('spec')];
  const causes: FieldCause[] = [];
  const group = String(spec.group ?? '');
  if (!group) causes.push(required('spec.group'));
  else if (!group.includes('.')) causes.push(invalid('spec.group', group, 'should be a domain with at least one dot'));
  else if (dns1123Subdomain(group).length) causes.push(invalid('spec.group', group, 'must be a DNS-1123 subdomain'));
  if (spec.scope !== 'Namespaced' && spec.scope !== 'Cluster') causes.push(notSupported('spec.scope', spec.scope, ['Cluster', 'Namespaced']));
  causes.push(...checkNames(spec.names, 'spec.names'));
  const plural = isObj(spec.names) ? spec.names.plural : undefined;
  const name = isObj(obj.metadata) ? obj.metadata.name : undefined;
  if (plural && group && name !== `${plural}.${group}`) {
    causes.push(invalid('metadata.name', name, 'must be spec.names.plural+"."+spec.group'));
  }
  const versions = Array.isArray(spec.versions) ? spec.versions : [];
  if (!versions.length) causes.push(required('spec.versions', 'must have exactly one version marked as storage version'));
  const seen = new Set<unknown>();
  versions.forEach((v: Obj, i: number) => {
    if (!isObj(v)) { causes.push(required(`spec.versions[${i}]`)); return; }
    if (seen.has(v.name)) causes.push(duplicate(`spec.versions[${i}].name`, v.name));
    seen.add(v.name);
    causes.push(...checkVersion(v, `spec.versions[${i}]`));
  });
  const storage = versions.filter((v: Obj) => v?.storage === true).length;
  if (versions.length && storage !== 1) causes.push(invalid('spec.versions', versions.map((v: Obj) => v?.name), 'must have exactly one version marked as storage version'));
  if (versions.length && !versions.some((v: Obj) => v?.served)) causes.push(invalid('spec.versions', versions.map((v: Obj) => v?.name), 'must have at least one version marked as served'));
  const strategy = isObj(spec.conversion) ? spec.conversion.strategy : undefined;
  if (strategy !== undefined && strategy !== 'None') causes.push(forbidden('spec.conversion.strategy', 'only the None conversion strategy is supported by this server'));
  return causes;
}

/** Upstream forbids changing scope and removing a version still listed in status.storedVersions. */
export function validateCrdUpdate(obj: Obj, old: Obj): FieldCause[] {
  const causes: FieldCause[] = [];
  const spec = isObj(obj.spec) ? obj.spec : undefined;
  const oldSpec = isObj(old.spec) ? old.spec : undefined;
  const storedVersions = isObj(old.status) ? old.status.storedVersions : undefined;
  if (oldSpec?.scope && spec?.scope !== oldSpec.scope) causes.push(invalid('spec.scope', spec?.scope, 'field is immutable'));
  if (oldSpec?.group && spec?.group !== oldSpec.group) causes.push(invalid('spec.group', spec?.group, 'field is immutable'));
  const names = new Set(((spec?.versions ?? []) as Obj[]).map((v) => v?.name));
  for (const stored of (storedVersions ?? []) as unknown[]) {
    if (!names.has(stored)) causes.push(invalid('status.storedVersions', storedVersions, `must have the storage version ${stored} in spec.versions`));
  }
  return causes;
}
