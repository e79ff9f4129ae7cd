// The contract between the API server and whatever keeps objects: the embedded store
// (a checksummed snapshot plus a write-ahead log) today, an etcd backend for larger clusters.
// One global revision counter is the resourceVersion of everything.
import type { KubeObject } from '../../protocol/kube/types.js';

/** A group-resource such as `pods` (core) or `deployments.apps`. */
export type GroupResource = string;

export interface StoreEvent {
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  gr: GroupResource;
  namespace: string;
  name: string;
  /** Revision of this change. */
  revision: number;
  /** New state; for DELETED the last state, carrying the deletion revision. */
  object: KubeObject;
  /** State before the change (MODIFIED, DELETED). */
  previous?: KubeObject;
}

export type StoreErrorCode = 'NotFound' | 'AlreadyExists' | 'Conflict' | 'Expired';

export class StoreError extends Error {
  constructor(readonly code: StoreErrorCode, message: string, readonly revision?: number) {
    super(message);
    this.name = 'StoreError';
  }
}

export interface StoreStats {
  objects: number;
  revision: number;
  /** Bytes appended to the log plus bytes of snapshots written since start. */
  bytesWritten: number;
  batches: number;
  writes: number;
  snapshots: number;
  oldestWatchRevision: number;
  /** Writes that failed to reach the disk since start (backends that can tell). */
  failedWrites?: number;
}

export interface StoreBackend {
  /** Which backend: lets callers pick etcd-only parts without loading the etcd client to test for it. */
  readonly kind: 'local' | 'etcd';
  open(): Promise<void>;
  /** Finishes in-flight writes, then releases files. */
  close(): Promise<void>;
  /** The latest durable revision (what reads and lists reflect). */
  readonly revision: number;
  /** Objects returned are frozen and shared: clone before changing. */
  get(gr: GroupResource, namespace: string, name: string): KubeObject | undefined;
  /** All objects of a resource, or of one namespace of it. */
  list(gr: GroupResource, namespace?: string): KubeObject[];
  /** Resolves once durable. Sets metadata.resourceVersion. */
  create(gr: GroupResource, namespace: string, name: string, obj: KubeObject): Promise<KubeObject>;
  /** expectedRevision, when given, must equal the stored object's revision (else Conflict). */
  update(gr: GroupResource, namespace: string, name: string, obj: KubeObject, expectedRevision?: number): Promise<KubeObject>;
  delete(gr: GroupResource, namespace: string, name: string, expectedRevision?: number): Promise<KubeObject>;
  /**
   * Calls back with every change of `gr` after `fromRevision`, replaying retained history
   * first. Throws StoreError Expired when that history is no longer retained.
   * Events arrive only once durable, in revision order.
   */
  watch(gr: GroupResource, fromRevision: number, onEvent: (e: StoreEvent) => void): () => void;
  stats(): StoreStats;
}
