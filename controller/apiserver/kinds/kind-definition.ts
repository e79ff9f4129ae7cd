// One served kind, declared in one place: its names and scope (discovery, routing, RBAC),
// its strategy (what create, update and status writes may change), how a Table prints it,
// its protobuf message, its strategic-merge keys and its validation. Modelled on
// Kubernetes' pkg/registry/<group>/<kind>/ (strategy.go + storage.go) with the printer,
// the generated protobuf table and the patch metadata gathered beside it.
import type { KubeObject } from '../../../protocol/kube/types.js';
import type { MessageTable } from '../protobuf/message-table.js';
import type { StructPatchMeta } from '../patch/patch-meta.js';
import type { TablePrinter } from '../tables/columns.js';
import type { KindRules } from '../validation/spec-rules.js';

/** What writes may change (upstream's RESTCreateStrategy / RESTUpdateStrategy). */
export interface KindStrategy {
  /**
   * status is written only through the status subresource: a main-resource update keeps
   * the stored status (PrepareForUpdate), a status update keeps everything but status.
   */
  statusSubresource: boolean;
  /** metadata.generation starts at 1 and rises on every spec change. */
  generation: boolean;
}

export interface KindProtobuf {
  /** The message a top-level body of this kind is, e.g. 'batch/v1.Job'. */
  message: string;
  /** Field tables this kind brings that no shared table has (message name → table). */
  messages?: Readonly<Record<string, MessageTable>>;
}

export interface KindDefinition {
  /** '' for the core group. */
  group: string;
  version: string;
  kind: string;
  /** The plural resource name in URLs: `jobs`. */
  resource: string;
  /** Defaults to the kind in lower case. */
  singular?: string;
  /** Defaults to `<Kind>List`. */
  listKind?: string;
  scope: 'Namespaced' | 'Cluster';
  shortNames?: string[];
  categories?: string[];
  /** Subresources served under the object: 'status', 'scale', 'log'... */
  subresources?: string[];
  strategy: KindStrategy;
  /** Server-side Table columns; the name/age default when absent. */
  printer?: TablePrinter;
  /** Absent: bodies of this kind are accepted as JSON only. */
  protobuf?: KindProtobuf;
  /** Strategic merge patch keys; absent: only object metadata is special. */
  patch?: StructPatchMeta;
  /** Rules beyond the schema; absent: a DNS-1123 subdomain name and nothing else. */
  validation?: KindRules;
  /**
   * Fills defaults on create and update (upstream's SetDefaults_<Kind>), before validation;
   * `old` is the stored object on update. Defaults that need the store stay in admission/.
   */
  defaults?: (obj: KubeObject, old: KubeObject | undefined) => void;
  /**
   * What a create resets or derives (upstream's PrepareForCreate): status belongs to
   * controllers and agents, so a new object starts with the status set here.
   */
  prepareForCreate?: (obj: KubeObject) => void;
  /** Objects every cluster has, created at start when missing (upstream's post-start hooks). */
  bootstrap?: () => KubeObject[];
}

/** No status subresource and no generation (ConfigMap, Secret, Lease...). */
export const PLAIN: KindStrategy = { statusSubresource: false, generation: false };
/** A status subresource, no generation (Node, Service, Namespace...). */
export const WITH_STATUS: KindStrategy = { statusSubresource: true, generation: false };
/** A status subresource and a generation that counts spec changes (workloads). */
export const WORKLOAD: KindStrategy = { statusSubresource: true, generation: true };

/** The API version string of a kind: `batch/v1`, or `v1` for the core group. */
export function kindApiVersion(k: { group: string; version: string }): string {
  return k.group ? `${k.group}/${k.version}` : k.version;
}
