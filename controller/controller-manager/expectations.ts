// Creations/deletions a controller has asked for but not yet seen in its cache
// (upstream's ControllerExpectations). Until they are observed, or time out, the
// controller does not act on a possibly stale count and create twice.

interface Pending { adds: number; dels: Set<string>; at: number }

export class Expectations {
  private readonly pending = new Map<string, Pending>();

  constructor(private readonly timeoutMs = 5 * 60_000) {}

  expect(key: string, adds: number, deletedKeys: string[] = []): void {
    this.pending.set(key, { adds, dels: new Set(deletedKeys), at: Date.now() });
  }

  creationObserved(key: string): void {
    const p = this.pending.get(key);
    if (p && p.adds > 0) p.adds--;
  }

  /** A create that failed will never be observed. */
  creationFailed(key: string): void {
    this.creationObserved(key);
  }

  deletionObserved(key: string, objectKey: string): void {
    this.pending.get(key)?.dels.delete(objectKey);
  }

  satisfied(key: string): boolean {
    const p = this.pending.get(key);
    if (!p) return true;
    if ((p.adds <= 0 && p.dels.size === 0) || Date.now() - p.at > this.timeoutMs) {
      this.pending.delete(key);
      return true;
    }
    return false;
  }

  forget(key: string): void {
    this.pending.delete(key);
  }
}
