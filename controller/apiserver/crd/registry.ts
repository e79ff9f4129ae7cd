// The CustomResourceDefinitions in the store, turned into served resources: one entry per
// served version, built when a CRD (or its spec) changes and kept until then. The
// resource registry asks here on every lookup, so a stored CRD is served at once.
import type { KubeObject } from '../../../protocol/kube/types.js';
import type { StoreBackend } from '../../store/backend.js';
import { RESOURCES, setDynamicResources, type ResourceInfo } from '../resources.js';
import type { CustomResourceBehaviour } from './behaviour.js';
import { printerFor, type PrinterColumn } from './printer-columns.js';
import { compileSchema, schemaProblems } from './schema-validator.js';
import { applyDefaults, prune, unknownFieldsOf, type Schema } from './structural-schema.js';

export const CRD_GR = 'customresourcedefinitions.apiextensions.k8s.io';

interface CrdVersion {
  name: string; served: boolean; storage: boolean;
  schema?: { openAPIV3Schema?: Schema };
  subresources?: { status?: object; scale?: { specReplicasPath: string; statusReplicasPath: string; labelSelectorPath?: string } };
  additionalPrinterColumns?: PrinterColumn[];
}
interface CrdSpec {
  group: string; scope: string;
  names: { plural: string; singular?: string; kind: string; listKind?: string; shortNames?: string[]; categories?: string[] };
  versions: CrdVersion[];
}

/** Kubernetes version order: GA before beta before alpha, higher numbers first (v2 > v1 > v1beta2 > v1beta1 > v1alpha1 > other). */
export function versionPriority(a: string, b: string): number {
  const parse = (v: string): [number, number, number, string] => {
    const m = v.match(/^v(\d+)(?:(alpha|beta)(\d+))?$/);
    if (!m) return [0, 0, 0, v];
    const level = m[2] === 'alpha' ? 1 : m[2] === 'beta' ? 2 : 3;
    return [level, Number(m[1]), Number(m[3] ?? 0), v];
  };
  const [la, ma, na, sa] = parse(a);
  const [lb, mb, nb, sb] = parse(b);
  if (la === 0 && lb === 0) return sa.localeCompare(sb);
  return lb - la || mb - ma || nb - na;
}

const PERMISSIVE: Schema = { type: 'object', 'x-kubernetes-preserve-unknown-fields': true };

function behaviourOf(crd: KubeObject, v: CrdVersion): CustomResourceBehaviour {
  const schema = v.schema?.openAPIV3Schema ?? PERMISSIVE;
  let validate: ReturnType<typeof compileSchema> | undefined;
  try {
    validate = compileSchema(schema);
  } catch {
    validate = undefined; // refused when the CRD was written; a stored one stays served
  }
  return {
    crdName: crd.metadata.name!,
    storage: v.storage === true,
    terminating: !!crd.metadata.deletionTimestamp,
    unknownFields: (obj) => unknownFieldsOf(obj, schema),
    normalize: (obj) => { prune(obj, schema); applyDefaults(obj, schema); },
    validate: (obj) => (validate ? schemaProblems(validate, obj) : []),
    printer: printerFor(v.additionalPrinterColumns),
    scale: v.subresources?.scale,
    openapiSchema: schema as Record<string, unknown>,
  };
}

function infosOf(crd: KubeObject): ResourceInfo[] {
  const spec = crd.spec as CrdSpec;
  const n = spec.names;
  const versions = [...(spec.versions ?? [])].filter((v) => v.served).sort((a, b) => versionPriority(a.name, b.name));
  return versions.map((v) => {
    const subresources = [...(v.subresources?.status ? ['status'] : []), ...(v.subresources?.scale ? ['scale'] : [])];
    return {
      group: spec.group, version: v.name, resource: n.plural, kind: n.kind,
      singular: n.singular || n.kind.toLowerCase(), listKind: n.listKind || `${n.kind}List`,
      namespaced: spec.scope !== 'Cluster', shortNames: n.shortNames ?? [], categories: n.categories ?? [],
      subresources, gr: `${n.plural}.${spec.group}`,
      statusSubresource: !!v.subresources?.status, hasGeneration: true,
      custom: behaviourOf(crd, v),
    };
  });
}

/** CRDs in creation order whose names clash with nothing served before them. */
export function acceptedCrds(crds: KubeObject[]): Set<string> {
  const taken = new Set(RESOURCES.map((r) => `${r.group}/${r.resource}`));
  const kinds = new Set(RESOURCES.map((r) => `${r.group}/${r.kind}`));
  const ok = new Set<string>();
  const ordered = [...crds].sort((a, b) => (a.metadata.creationTimestamp ?? '').localeCompare(b.metadata.creationTimestamp ?? '') || a.metadata.name!.localeCompare(b.metadata.name!));
  for (const crd of ordered) {
    const spec = crd.spec as CrdSpec | undefined;
    if (!spec?.names?.plural || !spec.group) continue;
    const key = `${spec.group}/${spec.names.plural}`;
    const kind = `${spec.group}/${spec.names.kind}`;
    if (taken.has(key) || kinds.has(kind)) continue;
    taken.add(key);
    kinds.add(kind);
    ok.add(crd.metadata.name!);
  }
  return ok;
}

/** Serves the store's CRDs through the resource registry. */
export class CustomResourceRegistry {
  private readonly built = new Map<string, { key: string; infos: ResourceInfo[] }>();
  private cachedRevision = -1;
  private cached: ResourceInfo[] = [];

  constructor(private readonly store: StoreBackend) {}

  install(): void {
    setDynamicResources(() => this.resources());
  }

  resources(): ResourceInfo[] {
    if (this.store.revision === this.cachedRevision) return this.cached;
    const crds = this.store.list(CRD_GR);
    const accepted = acceptedCrds(crds);
    const out: ResourceInfo[] = [];
    const live = new Set<string>();
    for (const crd of crds) {
      const name = crd.metadata.name!;
      if (!accepted.has(name)) continue;
      live.add(name);
      const key = `${crd.metadata.uid}/${crd.metadata.generation}/${crd.metadata.deletionTimestamp ?? ''}`;
      let entry = this.built.get(name);
      if (!entry || entry.key !== key) {
        entry = { key, infos: infosOf(crd) };
        this.built.set(name, entry);
      }
      out.push(...entry.infos);
    }
    for (const name of this.built.keys()) if (!live.has(name)) this.built.delete(name);
    this.cachedRevision = this.store.revision;
    this.cached = out;
    return out;
  }
}
