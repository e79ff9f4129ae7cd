// The embedded store: every object in memory, a checksummed snapshot on disk plus an
// append-only log of changes since it. A write is acknowledged once its log record is
// fsynced (group commit), and only then becomes visible: in memory, to watches and in the
// response. A write that fails changes nothing. The snapshot is rewritten only when the
// log has outgrown it, so bytes written per update stay close to the size of the change,
// and an idle store writes nothing at all.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { KubeObject } from '../../protocol/kube/types.js';
import { StoreError, type GroupResource, type StoreBackend, type StoreEvent, type StoreStats } from './backend.js';
import { Snapshot, encodeSnapshot, type SnapshotData } from './snapshot.js';
import { WriteAheadLog } from './write-ahead-log.js';
import type { LogRecord } from './log-format.js';
import { inspectStore, refusal, LOG_FILE, SNAPSHOT_FILE } from './inspect.js';
import { WatchWindow } from './watch-window.js';
import { deepFreeze } from './freeze.js';
import { WriteHealth } from './write-health.js';

/** The store's files fail verification; the message is one line naming file, offset and the repair command. */
export class StoreCorrupt extends Error {
  constructor(message: string) { super(message); this.name = 'StoreCorrupt'; }
}

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
/** A change handed a revision whose record is not yet durable; undefined obj: a deletion. */
interface PendingChange { obj: KubeObject | undefined; revision: number; settled: Promise<void>; done: () => void }

export class LocalStore implements StoreBackend {
  readonly kind = 'local';
  private readonly objects = new Map<GroupResource, Map<string, Entry>>();
  /** Changes waiting for their record, by `<gr>/<ns>/<name>`: checked against by later writes, invisible to reads. */
  private readonly pending = new Map<string, PendingChange[]>();
  /** The latest durable revision: what readers see. */
  private committed = 0;
  /** The last revision handed out; numbers of failed writes are skipped, never reused. */
  private handedOut = 0;
  private readonly snapshot: Snapshot;
  private readonly wal: WriteAheadLog;
  private window!: WatchWindow;
  private snapshotBytes = 0;
  private snapshotsWritten = 0;
  private snapshotBytesWritten = 0;
  private writes = 0;
  private compacting?: Promise<void>;
  /** After a failed snapshot, none is tried before this time (ms). */
  private compactNotBefore = 0;
  private compactBackoffMs = 0;
  private closed = false;
  readonly health: WriteHealth;

  constructor(private readonly opts: LocalStoreOptions) {
    mkdirSync(opts.dir, { recursive: true });
    this.snapshot = new Snapshot(join(opts.dir, SNAPSHOT_FILE));
    this.health = new WriteHealth(opts.log);
    this.wal = new WriteAheadLog(join(opts.dir, LOG_FILE), {
      onBatchDurable: () => { this.health.succeeded(); this.maybeCompact(); },
      onWriteFailed: (err, n) => this.health.failed(err, n),
    });
  }

  get revision(): number { return this.committed; }

  async open(): Promise<void> {
    const found = inspectStore(this.opts.dir);
    const refuse = refusal(found);
    if (refuse) throw new StoreCorrupt(refuse);
    const snap = found.snapshot!;
    this.snapshot.legacy = found.snapshotLegacy;
    this.snapshotBytes = found.snapshotBytes;
    for (const [gr, byKey] of Object.entries(snap.objects)) {
      const m = new Map<string, Entry>();
      for (const [key, obj] of Object.entries(byKey)) {
        const o = obj as KubeObject;
        m.set(key, { obj: deepFreeze(o), revision: Number(o.metadata.resourceVersion) });
      }
      this.objects.set(gr, m);
    }
    this.committed = snap.revision;
    const torn = found.scan.torn;
    let validBytes = found.logBytes;
    if (torn) {
      validBytes = torn.start;
      const kept = this.keepTornTail(found.logPath, torn.start);
      this.opts.log?.warn({ bytes: torn.end - torn.start, offset: torn.start, reason: torn.reason, kept }, `cut a torn record (${torn.end - torn.start} bytes at offset ${torn.start}) off the end of the store log`);
    }
    const replayed: StoreEvent[] = [];
    for (const { rec } of found.scan.records) {
      if (rec.r <= snap.revision) continue;
      const ev = this.applyRecord(rec);
      if (ev) replayed.push(ev);
    }
    this.handedOut = this.committed;
    this.window = new WatchWindow(this.opts.watchWindow ?? 4096, replayed.length ? snap.revision : this.committed);
    for (const ev of replayed) this.window.publish(ev);
    await this.wal.open(validBytes);
    if (found.scan.legacy > 0 || this.snapshot.legacy) {
      // Files from before checksums: fold them into a checksummed snapshot now.
      await this.wal.compact(() => this.writeSnapshot());
      this.opts.log?.info({ revision: this.committed }, 'store converted to the checksummed format');
    }
    this.opts.log?.info({ revision: this.committed, objects: this.count(), replayed: replayed.length }, 'store opened');
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
    if (this.latest(gr, namespace, name)) {
      // Only pending: decide once it is durable or failed, so the answer is about what exists.
      const wait = this.objects.get(gr)?.has(`${namespace}/${name}`) ? undefined : this.pendingSettled(gr, namespace, name);
      if (wait) return wait.then(() => this.create(gr, namespace, name, obj));
      return Promise.reject(new StoreError('AlreadyExists', `${gr} "${name}" already exists`));
    }
    return this.commit(gr, namespace, name, obj, undefined);
  }

  update(gr: GroupResource, namespace: string, name: string, obj: KubeObject, expectedRevision?: number): Promise<KubeObject> {
    const current = this.latest(gr, namespace, name);
    if (!current) return Promise.reject(new StoreError('NotFound', `${gr} "${name}" not found`));
    if (expectedRevision !== undefined && expectedRevision !== current.revision) {
      const wait = this.waitForOwnRead(gr, namespace, name, expectedRevision);
      if (wait) return wait.then(() => this.update(gr, namespace, name, obj, expectedRevision));
      return Promise.reject(new StoreError('Conflict', `the object has been modified; please apply your changes to the latest version and try again`));
    }
    return this.commit(gr, namespace, name, obj, current);
  }

  delete(gr: GroupResource, namespace: string, name: string, expectedRevision?: number): Promise<KubeObject> {
    const current = this.latest(gr, namespace, name);
    if (!current) return Promise.reject(new StoreError('NotFound', `${gr} "${name}" not found`));
    if (expectedRevision !== undefined && expectedRevision !== current.revision) {
      const wait = this.waitForOwnRead(gr, namespace, name, expectedRevision);
      if (wait) return wait.then(() => this.delete(gr, namespace, name, expectedRevision));
      return Promise.reject(new StoreError('Conflict', `the object has been modified; please apply your changes to the latest version and try again`));
    }
    return this.commit(gr, namespace, name, undefined, current);
  }

  watch(gr: GroupResource, fromRevision: number, onEvent: (e: StoreEvent) => void): () => void {
    let seen = fromRevision;
    return this.window.subscribe(gr, fromRevision, this.committed, (e) => {
      if (e.revision <= seen) return;
      seen = e.revision;
      onEvent(e);
    });
  }

  /** Every group-resource that holds objects (migration walks them). */
  groupResources(): GroupResource[] {
    return [...this.objects.keys()];
  }

  stats(): StoreStats {
    return {
      objects: this.count(),
      revision: this.committed,
      bytesWritten: this.wal.bytesWritten + this.snapshotBytesWritten,
      batches: this.wal.batches,
      writes: this.writes,
      snapshots: this.snapshotsWritten,
      oldestWatchRevision: this.window.oldestRevision,
      failedWrites: this.health.failedWrites,
    };
  }

  /** Every durable object at one revision, in the snapshot file format (for backups). */
  snapshotFile(): { revision: number; bytes: Buffer } {
    return { revision: this.committed, bytes: encodeSnapshot(this.snapshotData()) };
  }

  private count(): number {
    let n = 0;
    for (const m of this.objects.values()) n += m.size;
    return n;
  }

  /** The state later writes are checked against: the newest pending change, else the durable object. */
  private latest(gr: GroupResource, namespace: string, name: string): Entry | undefined {
    const p = this.pending.get(`${gr}/${namespace}/${name}`);
    if (p?.length) {
      const last = p[p.length - 1]!;
      return last.obj ? { obj: last.obj, revision: last.revision } : undefined;
    }
    return this.objects.get(gr)?.get(`${namespace}/${name}`);
  }

  /** Settles when every change now pending for the object is durable or failed. */
  private pendingSettled(gr: GroupResource, namespace: string, name: string): Promise<void> | undefined {
    const q = this.pending.get(`${gr}/${namespace}/${name}`);
    return q?.length ? q[q.length - 1]!.settled : undefined;
  }

  /**
   * A writer that read the durable object while a change to it was pending would get a
   * Conflict and re-read the same durable state at once. Answer it after the pending change
   * settles instead: then it either sees the change (Conflict, and its retry reads it) or
   * the change failed and its write goes ahead.
   */
  private waitForOwnRead(gr: GroupResource, namespace: string, name: string, expectedRevision: number): Promise<void> | undefined {
    if (this.objects.get(gr)?.get(`${namespace}/${name}`)?.revision !== expectedRevision) return undefined;
    return this.pendingSettled(gr, namespace, name);
  }

  private commit(gr: GroupResource, namespace: string, name: string, obj: KubeObject | undefined, current: Entry | undefined): Promise<KubeObject> {
    if (this.closed) return Promise.reject(new Error('store is closed'));
    const revision = ++this.handedOut;
    const key = `${namespace}/${name}`;
    const fullKey = `${gr}/${key}`;
    let stored: KubeObject;
    let objectJson: string | undefined;
    if (obj) {
      // Serialised once for the log; the stored copy is parsed back from that text, which
      // makes it exactly what a restart would load and, built fresh by the JSON parser,
      // about a third of the memory of the object admission assembled step by step.
      objectJson = JSON.stringify({ ...obj, metadata: { ...obj.metadata, resourceVersion: String(revision) } });
      stored = deepFreeze(JSON.parse(objectJson) as KubeObject);
    } else {
      // A deletion's last state carries the deletion's revision, as etcd-backed servers do.
      const last = current!.obj;
      stored = deepFreeze({ ...last, metadata: { ...last.metadata, resourceVersion: String(revision) } });
    }
    let done!: () => void;
    const settled = new Promise<void>((r) => { done = r; });
    const change: PendingChange = { obj: obj ? stored : undefined, revision, settled, done };
    let queue = this.pending.get(fullKey);
    if (!queue) this.pending.set(fullKey, (queue = []));
    queue.push(change);
    const settle = () => {
      const i = queue!.indexOf(change);
      if (i >= 0) queue!.splice(i, 1);
      if (queue!.length === 0 && this.pending.get(fullKey) === queue) this.pending.delete(fullKey);
      // After the caller's own continuation: a waiting writer then sees the settled state.
      setImmediate(change.done);
    };
    const head = JSON.stringify({ r: revision, k: fullKey } satisfies LogRecord);
    const line = objectJson === undefined ? head : `${head.slice(0, -1)},"o":${objectJson}}`;
    // Runs once the record is durable, in revision order: only now does the change exist.
    const durable = () => {
      settle();
      let m = this.objects.get(gr);
      if (!m) this.objects.set(gr, (m = new Map()));
      const previous = m.get(key)?.obj;
      if (obj) m.set(key, { obj: stored, revision });
      else m.delete(key);
      this.committed = revision;
      this.writes++;
      this.window.publish({ type: !obj ? 'DELETED' : previous ? 'MODIFIED' : 'ADDED', gr, namespace, name, revision, object: stored, previous });
    };
    return this.wal.append(revision, fullKey, line, durable).then(() => stored, (err) => { settle(); throw err; });
  }

  private maybeCompact(): void {
    if (this.compacting || this.closed || Date.now() < this.compactNotBefore) return;
    const threshold = Math.max(this.opts.minLogBytes ?? 4 * 1024 * 1024, (this.opts.logToSnapshotRatio ?? 2) * this.snapshotBytes);
    if (this.wal.size < threshold) return;
    this.compacting = this.wal.compact(() => this.writeSnapshot()).then(() => {
      this.compactBackoffMs = 0;
    }, (err) => {
      // The old snapshot and the whole log are untouched; try again later, less often while it fails.
      this.compactBackoffMs = Math.min(Math.max(this.compactBackoffMs * 2, 5_000), 300_000);
      this.compactNotBefore = Date.now() + this.compactBackoffMs;
      this.opts.log?.error({ err: String(err), retryInMs: this.compactBackoffMs }, 'snapshot failed; the log keeps every change');
    }).finally(() => { this.compacting = undefined; });
  }

  private async writeSnapshot(): Promise<void> {
    const data = this.snapshotData();
    await this.snapshot.write(data);
    this.snapshotBytes = this.snapshot.size();
    this.snapshotBytesWritten += this.snapshotBytes;
    this.snapshotsWritten++;
  }

  /** Keeps the bytes cut off the log beside it, so nothing is thrown away unseen (best effort: the disk may be full). */
  private keepTornTail(logPath: string, offset: number): string | undefined {
    const copy = `${logPath}.torn-${new Date().toISOString().replace(/[:.]/g, '-')}`;
    try {
      writeFileSync(copy, readFileSync(logPath).subarray(offset), { mode: 0o600 });
      return copy;
    } catch {
      rmSync(copy, { force: true });
      return undefined;
    }
  }

  private snapshotData(): SnapshotData {
    const objects: SnapshotData['objects'] = {};
    for (const [gr, m] of this.objects) {
      const byKey: Record<string, unknown> = {};
      for (const [k, e] of m) byKey[k] = e.obj;
      objects[gr] = byKey;
    }
    return { format: 2, revision: this.committed, objects };
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
    this.committed = Math.max(this.committed, rec.r);
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
