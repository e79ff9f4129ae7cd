// Recent changes kept in memory so that a watch can resume from a revision, like etcd's
// compaction window: older revisions answer Expired (HTTP 410) and the client relists.
import { StoreError, type StoreEvent, type GroupResource } from './backend.js';

type Listener = (e: StoreEvent) => void;

export class WatchWindow {
  private readonly ring: StoreEvent[] = [];
  private head = 0;
  private readonly listeners = new Map<GroupResource, Set<Listener>>();
  /** Revisions above this are all retained. */
  private floor: number;

  constructor(private readonly capacity: number, startRevision: number) {
    this.floor = startRevision;
  }

  get oldestRevision(): number { return this.floor; }

  get watcherCount(): number {
    let n = 0;
    for (const s of this.listeners.values()) n += s.size;
    return n;
  }

  /** Records a durable change and delivers it to live watchers. */
  publish(e: StoreEvent): void {
    if (this.ring.length < this.capacity) this.ring.push(e);
    else {
      this.floor = this.ring[this.head]!.revision;
      this.ring[this.head] = e;
      this.head = (this.head + 1) % this.capacity;
    }
    const set = this.listeners.get(e.gr);
    if (set) for (const l of set) l(e);
  }

  /** Replays retained events of `gr` after `fromRevision`, then follows live ones. */
  subscribe(gr: GroupResource, fromRevision: number, currentRevision: number, listener: Listener): () => void {
    if (fromRevision < this.floor && fromRevision < currentRevision) {
      throw new StoreError('Expired', `too old resource version: ${fromRevision} (${this.floor})`, this.floor);
    }
    for (let i = 0; i < this.ring.length; i++) {
      const e = this.ring[(this.head + i) % this.ring.length]!;
      if (e.revision > fromRevision && e.gr === gr) listener(e);
    }
    let set = this.listeners.get(gr);
    if (!set) this.listeners.set(gr, (set = new Set()));
    set.add(listener);
    return () => { set!.delete(listener); };
  }
}
