import type { Clock } from '../clock.js';

/**
 * Stale-while-revalidate cache for discovery results. The first `get` of a key waits for the loader;
 * afterwards a stale entry is returned at once and refreshed in the background, so discovery stays off
 * the critical path of a run. A failed refresh keeps the old value (and is reported through onError).
 */
export class TtlCache<T> {
  private readonly entries = new Map<string, { value: T; loadedAt: number; refreshing?: Promise<void> }>();
  private readonly pending = new Map<string, Promise<T>>();

  constructor(
    private readonly clock: Clock,
    private readonly onError: (key: string, error: unknown) => void = () => undefined,
  ) {}

  /** `load` is handed the value it refreshes (undefined on the first load), to reuse what has not changed. */
  async get(key: string, ttlMs: number, load: (previous: T | undefined) => Promise<T>): Promise<T> {
    const entry = this.entries.get(key);
    if (entry) {
      if (this.clock.now() - entry.loadedAt >= ttlMs && !entry.refreshing) {
        entry.refreshing = load(entry.value).then(
          (value) => {
            this.entries.set(key, { value, loadedAt: this.clock.now() });
          },
          (error: unknown) => {
            entry.refreshing = undefined;
            this.onError(key, error);
          },
        );
      }
      return entry.value;
    }
    let pending = this.pending.get(key);
    if (!pending) {
      pending = load(undefined).then(
        (value) => {
          this.entries.set(key, { value, loadedAt: this.clock.now() });
          this.pending.delete(key);
          return value;
        },
        (error: unknown) => {
          this.pending.delete(key);
          throw error;
        },
      );
      this.pending.set(key, pending);
    }
    return pending;
  }

  /** Every value loaded so far, by key (stale ones included): what a reader that must not load sees. */
  loaded(): ReadonlyMap<string, T> {
    return new Map([...this.entries].map(([key, entry]) => [key, entry.value]));
  }

  /** A background refresh of this key is under way (its result not in yet). */
  refreshing(key: string): boolean {
    return this.entries.get(key)?.refreshing !== undefined;
  }

  /** Version of an entry: changes whenever the value is replaced (plans are rebuilt then). */
  loadedAt(key: string): number | undefined {
    return this.entries.get(key)?.loadedAt;
  }
}
