// How objects sit in etcd: one key per object under a prefix, `<prefix>registry/<gr>/<ns>/<name>`
// (cluster-scoped objects have an empty namespace), the value the object's JSON without
// its resourceVersion — that is the key's mod revision, set when decoding, as upstream's
// etcd3 store does (staging/src/k8s.io/apiserver/pkg/storage/etcd3/store.go).
import type { KubeObject } from '../../../protocol/kube/types.js';
import { deepFreeze } from '../freeze.js';
import type { GroupResource } from '../backend.js';

export const DEFAULT_PREFIX = '/pikube/';

export class KeyLayout {
  readonly registry: string;
  /** Where the revision of the last compaction is recorded, so every controller knows it. */
  readonly compactMarker: string;
  /** The cluster's shared secrets, sealed with the server token. */
  readonly bootstrap: string;

  constructor(readonly prefix = DEFAULT_PREFIX) {
    if (!prefix.endsWith('/')) throw new Error(`etcd key prefix must end with "/": ${prefix}`);
    this.registry = `${prefix}registry/`;
    this.compactMarker = `${prefix}compact-revision`;
    this.bootstrap = `${prefix}bootstrap`;
  }

  objectKey(gr: GroupResource, namespace: string, name: string): string {
    return `${this.registry}${gr}/${namespace}/${name}`;
  }

  resourcePrefix(gr: GroupResource): string {
    return `${this.registry}${gr}/`;
  }

  /** Splits an object key; undefined for keys outside the registry. */
  parse(key: string): { gr: GroupResource; namespace: string; name: string } | undefined {
    if (!key.startsWith(this.registry)) return undefined;
    const rest = key.slice(this.registry.length);
    const a = rest.indexOf('/');
    const b = rest.indexOf('/', a + 1);
    if (a <= 0 || b < 0) return undefined;
    return { gr: rest.slice(0, a), namespace: rest.slice(a + 1, b), name: rest.slice(b + 1) };
  }
}

/** The stored form: the object without its resourceVersion. */
export function encodeObject(obj: KubeObject): string {
  const { resourceVersion: _ignored, ...metadata } = obj.metadata;
  return JSON.stringify({ ...obj, metadata });
}

/** A frozen object carrying `revision` as its resourceVersion. */
export function decodeObject(value: Buffer | string, revision: number): KubeObject {
  const obj = JSON.parse(typeof value === 'string' ? value : value.toString('utf8')) as KubeObject;
  obj.metadata = { ...obj.metadata, resourceVersion: String(revision) };
  return deepFreeze(obj);
}
