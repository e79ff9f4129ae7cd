// The embedded store: every object in memory, a lowdb JSON snapshot on disk plus an
// append-only log of changes since it. A write is acknowledged once its log record is
// fsynced (group commit); the snapshot is rewritten only when the log has outgrown it,
// so bytes written per update stay close to the size of the change, and an idle store
// writes nothing at all.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { KubeObject } from '../../protocol/kube/types.js';
import { StoreError, type GroupResource, type StoreBackend, type StoreEvent, type StoreStats } from './backend.js';
import { Snapshot, type SnapshotData } from './snapshot.js';
import { WriteAheadLog, replayLog, type LogRecord } from './write-ahead-log.js';
import { WatchWindow } from './watch-window.js';
import { deepFreeze } from './freeze.js';

export interface LocalStoreOptions {
  dir: string;
  /** Events kept for resuming watches (upstream keeps about 100 per resource; etcd about 5 minutes). */
  watchWindow?: number;
  /** The snapshot is rewritten once the log exceeds max(minLogBytes, logToSnapshotRatio × snapshot size). */
  minLogBytes?: number;
  logToSnapshotRatio?: number;
  log?: { info: (o: object, m: string) => void; warn: (o: object, m: string) => void; error: (o: object, m: string) => void };
}

interface Entry { obj: KubeObject; revision: number }

export class LocalStore implements StoreBackend {
  private readonly objects = new Map<GroupResource, Map<string, Entry>>();
  private rev = 0;
  private readonly snapshot: Snapshot;
  private readonly wal: WriteAheadLog;
  private window!: WatchWindow;
  private snapshotBytes = 0;
  private snapshotsWritten = 0;
  private snapshotBytesWritten = 0;
  private writes = 0;
  private compacting?: Promise<void>;
  /** Changes applied in memory whose log record is not yet durable, in revision order. */
  private undelivered: StoreEvent[] = [];
  private closed = false;

  constructor(private readonly opts: LocalStoreOptions) {
    mkdirSync(opts.dir, { recursive: true });
    this.snapshot = new Snapshot(join(opts.dir, 'store.json'));
    this.wal = new WriteAheadLog(join(opts.dir, 'store.log'), () => this.afterBatch());
  }

  get revision(): number { return this.rev; }

  async open(): Promise<void> {
    const snap = await this.snapshot.read();
    this.snapshotBytes = this.snapshot.size();
    for (const [gr, byKey] of Object.entries(snap.objects)) {
      const m = new Map<string, Entry>();
      for (const [key, obj] of Object.entries(byKey)) {
        const o = obj as KubeObject;
        m.set(key, { obj: deepFreeze(o), revision: Number(o.metadata.resourceVersion) });
      }
      this.objects.set(gr, m);
    }
    this.rev = snap.revision;
    const replay = replayLog(join(this.opts.dir, 'store.log'));
    if (replay.tornBytes > 0) this.opts.log?.warn({ bytes: replay.tornBytes }, 'cut a torn record off the end of the store log');
    const replayed: StoreEvent[] = [];
    for (const rec of replay.records) {
      if (rec.r <= snap.revision) continue;
      const ev = this.applyRecord(rec);
      if (ev) replayed.push(ev);
    }
    this.window = new WatchWindow(this.opts.watchWindow ?? 4096, replayed.length ? snap.revision : this.rev);
    for (const ev of replayed) this.window.publish(ev);
    await this.wal.open(replay.validBytes);
    this.opts.log?.info({ revision: this.rev, objects: this.count(), replayed: replayed.length }, 'store opened');
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.compacting;
    await this.wal.close();
  }

  get(gr: GroupResource, namespace: string, name: string): KubeObject | undefined {
    return this.objects.get(gr)?.get(`${namespace}/${name}`)?.obj;
  }

  list(gr: GroupResource, namespace?: string): KubeObject[] {
    const m = this.objects.get(gr);
    if (!m) return [];
    const out: KubeObject[] = [];
    if (namespace === undefined) {
      for (const e of m.values()) out.push(e.obj);
    } else {
      const prefix = `${namespace}/`;
      for (const [k, e] of m) if (k.startsWith(prefix)) out.push(e.obj);
    }
    return out;
  }

  create(gr: GroupResource, namespace: string, name: string, obj: KubeObject): Promise<KubeObject> {
    const key = `${namespace}/${name}`;
    if (this.objects.get(gr)?.has(key)) {
      return Promise.reject(new StoreError('AlreadyExists', `${gr} "${name}" already exists`));
    }
    return this.commit(gr, namespace, name, obj, undefined);
  }

  update(gr: GroupResource, namespace: string, name: string, obj: KubeObject, expectedRevision?: number): Promise<KubeObject> {
    const current = this.objects.get(gr)?.get(`${namespace}/${name}`);
    if (!current) return Promise.reject(new StoreError('NotFound', `${gr} "${name}" not found`));
    if (expectedRevision !== undefined && expectedRevision !== current.revision) {
      return Promise.reject(new StoreError('Conflict', `the object has been modified; please apply your changes to the latest version and try again`));
    }
    return this.commit(gr, namespace, name, obj, current);
  }

  delete(gr: GroupResource, namespace: string, name: string, expectedRevision?: number): Promise<KubeObject> {
    const current = this.objects.get(gr)?.get(`${namespace}/${name}`);
    if (!current) return Promise.reject(new StoreError('NotFound', `${gr} "${name}" not found`));
    if (expectedRevision !== undefined && expectedRevision !== current.revision) {
      return Promise.reject(new StoreError('Conflict', `the object has been modified; please apply your changes to the latest version and try again`));
    }
    return this.commit(gr, namespace, name, undefined, current);
  }

  watch(gr: GroupResource, fromRevision: number, onEvent: (e: StoreEvent) => void): () => void {
    // Changes not yet durable reach watchers when their batch is durable; `seen` keeps a
    // watcher that starts at a revision not yet delivered from seeing anything twice.
    let seen = fromRevision;
    return this.window.subscribe(gr, fromRevision, this.rev, (e) => {
      if (e.revision <= seen) return;
      seen = e.revision;
      onEvent(e);
    });
  }

  stats(): StoreStats {
    return {
      objects: this.count(),
      revision: this.rev,
      bytesWritten: this.wal.bytesWritten + this.snapshotBytesWritten,
      batches: this.wal.batches,
      writes: this.writes,
      snapshots: this.snapshotsWritten,
      oldestWatchRevision: this.window.oldestRevision,
    };
  }

  private count(): number {
    let n = 0;
    for (const m of this.objects.values()) n += m.size;
    return n;
  }

  private commit(gr: GroupResource, namespace: string, name: string, obj: KubeObject | undefined, current: Entry | undefined): Promise<KubeObject> {
    if (this.closed) return Promise.reject(new Error('store is closed'));
    const revision = ++this.rev;
    const key = `${namespace}/${name}`;
    let stored: KubeObject;
    let m = this.objects.get(gr);
    if (!m) this.objects.set(gr, (m = new Map()));
    let objectJson: string | undefined;
    if (obj) {
      // Serialised once for the log; the stored copy is parsed back from that text, which
      // makes it exactly what a restart would load and, built fresh by the JSON parser,
      // about a third of the memory of the object admission assembled step by step.
      objectJson = JSON.stringify({ ...obj, metadata: { ...obj.metadata, resourceVersion: String(revision) } });
      stored = deepFreeze(JSON.parse(objectJson) as KubeObject);
      m.set(key, { obj: stored, revision });
    } else {
      // A deletion's last state carries the deletion's revision, as etcd-backed servers do.
      const last = current!.obj;
      stored = deepFreeze({ ...last, metadata: { ...last.metadata, resourceVersion: String(revision) } });
      m.delete(key);
    }
    this.writes++;
    const event: StoreEvent = {
      type: !obj ? 'DELETED' : current ? 'MODIFIED' : 'ADDED',
      gr, namespace, name, revision, object: stored, previous: current?.obj,
    };
    this.undelivered.push(event);
    const head = JSON.stringify({ r: revision, k: `${gr}/${key}` } satisfies LogRecord);
    const line = objectJson === undefined ? head : `${head.slice(0, -1)},"o":${objectJson}}`;
    return this.wal.appendSerialized(revision, line).then(() => stored);
  }

  /** A batch is durable: deliver its events in order, then maybe fold the log into a new snapshot. */
  private afterBatch(): void {
    // Every record appended before this batch's write is durable now. Records that joined
    // the queue later have higher revisions and stay undelivered.
    const durableUpTo = this.wal.durableRevision;
    let i = 0;
    while (i < this.undelivered.length && this.undelivered[i]!.revision <= durableUpTo) {
      this.window.publish(this.undelivered[i]!);
      i++;
    }
    this.undelivered.splice(0, i);
    this.maybeCompact();
  }

  private maybeCompact(): void {
    if (this.compacting || this.closed) return;
    const threshold = Math.max(this.opts.minLogBytes ?? 4 * 1024 * 1024, (this.opts.logToSnapshotRatio ?? 2) * this.snapshotBytes);
    if (this.wal.size < threshold) return;
    this.compacting = this.wal.compact(async () => {
      const data = this.snapshotData();
      await this.snapshot.write(data);
      this.snapshotBytes = this.snapshot.size();
      this.snapshotBytesWritten += this.snapshotBytes;
      this.snapshotsWritten++;
    }).catch((err) => {
      this.opts.log?.error({ err: String(err) }, 'snapshot failed; the log keeps every change');
    }).finally(() => { this.compacting = undefined; });
  }

  private snapshotData(): SnapshotData {
    const objects: SnapshotData['objects'] = {};
    for (const [gr, m] of this.objects) {
      const byKey: Record<string, unknown> = {};
      for (const [k, e] of m) byKey[k] = e.obj;
      objects[gr] = byKey;
    }
    return { format: 1, revision: this.rev, objects };
  }

  private applyRecord(rec: LogRecord): StoreEvent | undefined {
    const slash1 = rec.k.indexOf('/');
    const slash2 = rec.k.indexOf('/', slash1 + 1);
    const gr = rec.k.slice(0, slash1);
    const namespace = rec.k.slice(slash1 + 1, slash2);
    const name = rec.k.slice(slash2 + 1);
    const key = `${namespace}/${name}`;
    let m = this.objects.get(gr);
    if (!m) this.objects.set(gr, (m = new Map()));
    const current = m.get(key);
    this.rev = Math.max(this.rev, rec.r);
    if (rec.o) {
      const obj = deepFreeze(rec.o as KubeObject);
      m.set(key, { obj, revision: rec.r });
      return { type: current ? 'MODIFIED' : 'ADDED', gr, namespace, name, revision: rec.r, object: obj, previous: current?.obj };
    }
    if (!current) return undefined;
    m.delete(key);
    const last = deepFreeze({ ...current.obj, metadata: { ...current.obj.metadata, resourceVersion: String(rec.r) } });
    return { type: 'DELETED', gr, namespace, name, revision: rec.r, object: last, previous: current.obj };
  }
}
