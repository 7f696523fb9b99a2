/**
 * A small time-bounded cache for a warm Lambda instance: each key is loaded at most once per
 * `ttlMs`, concurrent loads of one key share a single request, and the entry count is bounded so
 * a stream of unknown ids cannot grow memory without limit. Absent results are cached too, so a
 * caller hammering an unknown hook id costs one read per interval.
 */
export class TtlCache<V> {
  private readonly entries = new Map<string, { expiresAtMs: number; value: Promise<V> }>();

  constructor(
    private readonly ttlMs: number,
    private readonly maxEntries = 10_000,
    private readonly nowMs: () => number = Date.now,
  ) {}

  get(key: string, load: () => Promise<V>): Promise<V> {
    if (this.ttlMs <= 0) return load();
    const now = this.nowMs();
    const cached = this.entries.get(key);
    if (cached && cached.expiresAtMs > now) return cached.value;
    if (this.entries.size >= this.maxEntries) this.evictExpiredOrOldest(now);
    const value = load();
    this.entries.set(key, { expiresAtMs: now + this.ttlMs, value });
    // A failed load is not remembered: the next caller tries again.
    value.catch(() => {
      if (this.entries.get(key)?.value === value) this.entries.delete(key);
    });
    return value;
  }

  delete(key: string): void {
    this.entries.delete(key);
  }

  private evictExpiredOrOldest(now: number): void {
    for (const [key, entry] of this.entries) if (entry.expiresAtMs <= now) this.entries.delete(key);
    if (this.entries.size >= this.maxEntries) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
  }
}
