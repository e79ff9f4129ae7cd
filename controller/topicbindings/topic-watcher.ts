// One broker subscription per topic, however many bindings read it, with the last
// message kept: a binding created after the (retained) value arrived still sees it, since
// the broker only replays retained messages on a new subscription.
import type { MessageLink } from '../../protocol/mqtt/link.js';

export interface TopicMessage { payload: Buffer; at: number }
type Listener = (message: TopicMessage) => void;

interface Watched {
  listeners: Set<Listener>;
  last?: TopicMessage;
  unsubscribe?: Promise<(() => Promise<void>) | undefined>;
}

export class TopicWatcher {
  private readonly topics = new Map<string, Watched>();

  constructor(private readonly link: Pick<MessageLink, 'subscribe'>, private readonly onError: (topic: string, err: Error) => void) {}

  /** Calls `listener` with the last message at once (if any) and with every new one; returns the way out. */
  watch(topic: string, listener: Listener): () => void {
    let w = this.topics.get(topic);
    if (!w) {
      const entry: Watched = { listeners: new Set() };
      w = entry;
      this.topics.set(topic, entry);
      entry.unsubscribe = this.link.subscribe(topic, (_t, payload) => {
        entry.last = { payload, at: Date.now() };
        for (const l of entry.listeners) l(entry.last);
      }).catch((err: Error) => {
        this.onError(topic, err);
        return undefined;
      });
    }
    w.listeners.add(listener);
    if (w.last) listener(w.last);
    const entry = w;
    return () => {
      entry.listeners.delete(listener);
      if (entry.listeners.size > 0 || this.topics.get(topic) !== entry) return;
      this.topics.delete(topic);
      void entry.unsubscribe?.then((u) => u?.());
    };
  }

  stop(): void {
    for (const [topic, w] of this.topics) {
      this.topics.delete(topic);
      void w.unsubscribe?.then((u) => u?.());
    }
  }
}
