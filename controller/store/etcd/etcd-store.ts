// The etcd store backend: etcd holds the objects; every controller keeps a mirror of the
// registry in memory, fed by one etcd watch over the prefix, so reads stay synchronous
// and cheap like the embedded store's (upstream's watch cache plays the same part:
// staging/src/k8s.io/apiserver/pkg/storage/cacher). Writes are etcd transactions that
// compare the key's revisions (optimistic concurrency); a write resolves once the
// mirror has caught up to it, so a controller always reads its own writes.
import type { Etcd3, IKeyValue, IWatchResponse, Watcher } from 'etcd3';
import type { KubeObject } from '../../../protocol/kube/types.js';
import { StoreError, type GroupResource, type StoreBackend, type StoreEvent, type StoreStats } from '../backend.js';
import { WatchWindow } from '../watch-window.js';
import { deepFreeze } from '../freeze.js';
import { KeyLayout, decodeObject, encodeObject } from './keys.js';
import { etcdClient, type EtcdEndpointOptions } from './connect.js';
import { replayHistory } from './history-watch.js';

type Log = { info: (o: object, m: string) => void; warn: (o: object, m: string) => void; error: (o: object, m: string) => void };

export interface EtcdStoreOptions extends EtcdEndpointOptions {
  /** Key prefix, default `/pikube/`. */
  prefix?: string;
  /** Events kept in memory for resuming watches without asking etcd. */
  watchWindow?: number;
  log?: Log;
  /** The mirror cannot continue (its watch was compacted away): the process should restart and relist. */
  onFatal?: (err: Error) => void;
}

const CONFLICT = 'the object has been modified; please apply your changes to the latest version and try again';

export class EtcdStore implements StoreBackend {
  readonly kind = 'etcd';
  readonly client: Etcd3;
  readonly keys: KeyLayout;
  private readonly objects = new Map<GroupResource, Map<string, KubeObject>>();
  private rev = 0;
  private window!: WatchWindow;
  private watcher?: Watcher;
  private waiters: { revision: number; resolve: () => void }[] = [];
  private compactedTo = 0;
  private writes = 0;
  private closed = false;

  constructor(private readonly opts: EtcdStoreOptions) {
    this.client = etcdClient(opts);
    this.keys = new KeyLayout(opts.prefix);
  }

  get revision(): number { return this.rev; }

  /** The revision below which etcd no longer has history. */
  get compactRevision(): number { return this.compactedTo; }

  async open(): Promise<void> {
    const res = await this.client.getAll().prefix(this.keys.prefix).exec();
    const start = Number(res.header.revision);
    for (const kv of res.kvs) this.load(kv);
    this.rev = start;
    this.window = new WatchWindow(this.opts.watchWindow ?? 4096, start);
    // Attach handlers before the watch connects so that no response slips past.
    const w = this.client.watch().prefix(this.keys.prefix).startRevision(String(start + 1)).withPreviousKV().watcher();
    this.watcher = w;
    w.on('data', (r: IWatchResponse) => this.onWatch(r));
    w.on('disconnected', (err: Error) => this.opts.log?.warn({ err: err.message }, 'etcd watch disconnected; resuming'));
    w.on('error', (err: Error) => {
      if (this.closed) return;
      this.opts.log?.error({ err: err.message }, 'etcd watch lost; the mirror cannot continue');
      this.opts.onFatal?.(err);
    });
    await new Promise<void>((resolve, reject) => {
      w.once('connected', () => resolve());
      w.once('error', reject);
    });
    this.opts.log?.info({ revision: start, objects: this.count(), endpoints: this.opts.endpoints }, 'etcd store opened');
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.watcher?.cancel().catch(() => undefined);
    this.client.close();
    // A write committed just before the watch was cancelled would wait for its event
    // forever: it did happen, so it is released (the mirror behind it is gone anyway).
    for (const w of this.waiters.splice(0)) w.resolve();
  }

  get(gr: GroupResource, namespace: string, name: string): KubeObject | undefined {
    return this.objects.get(gr)?.get(`${namespace}/${name}`);
  }

  list(gr: GroupResource, namespace?: string): KubeObject[] {
    const m = this.objects.get(gr);
    if (!m) return [];
    if (namespace === undefined) return [...m.values()];
    const prefix = `${namespace}/`;
    const out: KubeObject[] = [];
    for (const [k, o] of m) if (k.startsWith(prefix)) out.push(o);
    return out;
  }

  async create(gr: GroupResource, namespace: string, name: string, obj: KubeObject): Promise<KubeObject> {
    this.assertOpen();
    const key = this.keys.objectKey(gr, namespace, name);
    const value = encodeObject(obj);
    const res = await this.client.if(key, 'Create', '==', 0).then(this.client.put(key).value(value)).commit();
    if (!res.succeeded) throw new StoreError('AlreadyExists', `${gr} "${name}" already exists`);
    return this.written(Number(res.header.revision), value);
  }

  async update(gr: GroupResource, namespace: string, name: string, obj: KubeObject, expectedRevision?: number): Promise<KubeObject> {
    this.assertOpen();
    const key = this.keys.objectKey(gr, namespace, name);
    const value = encodeObject(obj);
    const txn = expectedRevision !== undefined
      ? this.client.if(key, 'Mod', '==', expectedRevision)
      : this.client.if(key, 'Create', '>', 0);
    const res = await txn.then(this.client.put(key).value(value)).else(this.client.get(key)).commit();
    if (!res.succeeded) this.refused(res.responses[0]?.response_range?.kvs ?? [], gr, name);
    return this.written(Number(res.header.revision), value);
  }

  async delete(gr: GroupResource, namespace: string, name: string, expectedRevision?: number): Promise<KubeObject> {
    this.assertOpen();
    const key = this.keys.objectKey(gr, namespace, name);
    const txn = expectedRevision !== undefined
      ? this.client.if(key, 'Mod', '==', expectedRevision)
      : this.client.if(key, 'Create', '>', 0);
    const res = await txn
      .then({ request_delete_range: { key: Buffer.from(key), prev_kv: true } } as never)
      .else(this.client.get(key)).commit();
    if (!res.succeeded) this.refused(res.responses[0]?.response_range?.kvs ?? [], gr, name);
    const prev = res.responses[0]?.response_delete_range?.prev_kvs?.[0];
    if (!prev) throw new StoreError('NotFound', `${gr} "${name}" not found`);
    const revision = Number(res.header.revision);
    await this.caughtUp(revision);
    this.writes++;
    // A deletion's last state carries the deletion's revision, as upstream's does.
    return decodeObject(prev.value, revision);
  }

  watch(gr: GroupResource, fromRevision: number, onEvent: (e: StoreEvent) => void): () => void {
    if (fromRevision < this.compactedTo) {
      throw new StoreError('Expired', `too old resource version: ${fromRevision} (${this.compactedTo})`, this.compactedTo);
    }
    let seen = fromRevision;
    const deliver = (e: StoreEvent) => {
      if (e.revision <= seen) return;
      seen = e.revision;
      onEvent(e);
    };
    if (fromRevision >= this.window.oldestRevision || fromRevision >= this.rev) {
      return this.window.subscribe(gr, fromRevision, this.rev, deliver);
    }
    // Older than the window: etcd's history first, then the mirror's live events, which
    // are held back meanwhile (what both sent is delivered once: revisions only rise).
    let live = false;
    const held: StoreEvent[] = [];
    const unsubscribe = this.window.subscribe(gr, this.rev, this.rev, (e) => (live ? deliver(e) : held.push(e)));
    const stopHistory = replayHistory(this.client, this.keys.resourcePrefix(gr), fromRevision, {
      onResponse: (res) => { for (const e of this.toEvents(res, new Map())) deliver(e); },
      onCaughtUp: () => { live = true; for (const e of held.splice(0)) deliver(e); },
      onFailed: (err) => {
        this.opts.log?.warn({ gr, fromRevision, err: err.message }, 'resuming a watch from etcd history failed; the watcher continues from the live revision');
        live = true;
        for (const e of held.splice(0)) deliver(e);
      },
    });
    return () => { stopHistory(); unsubscribe(); };
  }

  stats(): StoreStats {
    return {
      objects: this.count(), revision: this.rev, bytesWritten: 0, batches: 0, writes: this.writes, snapshots: 0,
      oldestWatchRevision: Math.max(this.compactedTo, 0),
    };
  }

  /** Resolves once the mirror has seen `revision` (its own watch delivered it). */
  caughtUp(revision: number): Promise<void> {
    if (this.rev >= revision || this.closed) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ revision, resolve }));
  }

  private async written(revision: number, value: string): Promise<KubeObject> {
    await this.caughtUp(revision);
    this.writes++;
    return decodeObject(value, revision);
  }

  private refused(kvs: IKeyValue[], gr: GroupResource, name: string): never {
    if (kvs.length === 0) throw new StoreError('NotFound', `${gr} "${name}" not found`);
    throw new StoreError('Conflict', CONFLICT);
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('store is closed');
  }

  private load(kv: IKeyValue): void {
    const key = kv.key.toString('utf8');
    if (key === this.keys.compactMarker) { this.compactedTo = Number(kv.value.toString('utf8')) || 0; return; }
    const at = this.keys.parse(key);
    if (!at) return;
    let m = this.objects.get(at.gr);
    if (!m) this.objects.set(at.gr, (m = new Map()));
    m.set(`${at.namespace}/${at.name}`, decodeObject(kv.value, Number(kv.mod_revision)));
  }

  private onWatch(res: IWatchResponse): void {
    if (res.events.length === 0) {
      // A progress notification: everything up to header.revision has been delivered.
      if (!res.created && !res.canceled) this.advance(Number(res.header.revision));
      return;
    }
    for (const e of this.toEvents(res, undefined)) this.window.publish(e);
    this.advance(Number(res.events[res.events.length - 1]!.kv.mod_revision));
  }

  /**
   * Turns a watch response into store events. With `scratch` undefined the mirror itself
   * is updated; otherwise (history replay) previous states come from prev_kv only.
   */
  private toEvents(res: IWatchResponse, scratch: Map<string, KubeObject> | undefined): StoreEvent[] {
    const out: StoreEvent[] = [];
    for (const ev of res.events) {
      const key = ev.kv.key.toString('utf8');
      const revision = Number(ev.kv.mod_revision);
      if (!scratch && key === this.keys.compactMarker) {
        if (ev.type === 'Put') this.compactedTo = Math.max(this.compactedTo, Number(ev.kv.value.toString('utf8')) || 0);
        continue;
      }
      const at = this.keys.parse(key);
      if (!at) continue;
      const k = `${at.namespace}/${at.name}`;
      let m = this.objects.get(at.gr);
      if (!m) this.objects.set(at.gr, (m = new Map()));
      const previous = scratch
        ? (ev.prev_kv ? decodeObject(ev.prev_kv.value, Number(ev.prev_kv.mod_revision)) : undefined)
        : m.get(k);
      if (ev.type === 'Put') {
        const object = decodeObject(ev.kv.value, revision);
        if (!scratch) m.set(k, object);
        out.push({ type: previous ? 'MODIFIED' : 'ADDED', gr: at.gr, namespace: at.namespace, name: at.name, revision, object, ...(previous ? { previous } : {}) });
      } else {
        if (!scratch) m.delete(k);
        if (!previous) continue;
        const object = deepFreeze({ ...previous, metadata: { ...previous.metadata, resourceVersion: String(revision) } });
        out.push({ type: 'DELETED', gr: at.gr, namespace: at.namespace, name: at.name, revision, object, previous });
      }
    }
    return out;
  }

  private advance(revision: number): void {
    if (revision <= this.rev) return;
    this.rev = revision;
    if (this.waiters.length === 0) return;
    const still: typeof this.waiters = [];
    for (const w of this.waiters) (w.revision <= revision ? w.resolve() : still.push(w));
    this.waiters = still;
  }

  private count(): number {
    let n = 0;
    for (const m of this.objects.values()) n += m.size;
    return n;
  }
}
