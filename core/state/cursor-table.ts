import type { CursorEntry } from './cursor-snapshot.js';

/** The `seen` list of almost every cursor: shared, so settled cursors allocate nothing. */
export const NOTHING_SEEN: readonly never[] = Object.freeze([]);

/** `seenOne` codes: no mark, or the marks are in `seenLists`. Period starts are finite. */
const NO_MARK = NaN;
const IN_LIST = -Infinity;
const FIRST_CAPACITY = 1024;

/**
 * Every cursor of the store in columns: an index from id to slot, and per slot the id, `w`, `at` and
 * `seen` in typed arrays. A collector holds one cursor per query, hundreds of thousands: an object per
 * cursor with two boxed numbers and a list cost about twice as much. Almost every `seen` is empty or
 * one period start, kept in `seenOne`; any other list is kept as it is in `seenLists`.
 *
 * `get` returns a copy: it stays what it was when read, whatever is recorded after.
 */
export class CursorTable {
  private readonly slots = new Map<string, number>();
  private ids: (string | undefined)[] = [];
  private w = new Float64Array(FIRST_CAPACITY);
  private at = new Float64Array(FIRST_CAPACITY);
  private seenOne = new Float64Array(FIRST_CAPACITY);
  private readonly seenLists = new Map<number, readonly (number | string)[]>();
  private readonly free: number[] = [];

  get size(): number {
    return this.slots.size;
  }

  get(id: string): CursorEntry | undefined {
    const slot = this.slots.get(id);
    return slot === undefined ? undefined : this.entryAt(slot);
  }

  /** The string this id is stored under (a plan built later shares it instead of holding a copy). */
  storedId(id: string): string | undefined {
    const slot = this.slots.get(id);
    return slot === undefined ? undefined : this.ids[slot];
  }

  set(id: string, w: number, seen: readonly (number | string)[], at: number): void {
    let slot = this.slots.get(id);
    if (slot === undefined) {
      slot = this.free.pop() ?? this.ids.length;
      if (slot === this.ids.length) this.ids.push(id);
      else this.ids[slot] = id;
      if (slot >= this.w.length) this.grow();
      this.slots.set(id, slot);
    }
    this.w[slot] = w;
    this.at[slot] = at;
    if (seen.length === 0) {
      if (this.seenOne[slot] === IN_LIST) this.seenLists.delete(slot);
      this.seenOne[slot] = NO_MARK;
    } else if (seen.length === 1 && typeof seen[0] === 'number' && Number.isFinite(seen[0])) {
      if (this.seenOne[slot] === IN_LIST) this.seenLists.delete(slot);
      this.seenOne[slot] = seen[0];
    } else {
      this.seenOne[slot] = IN_LIST;
      this.seenLists.set(slot, seen);
    }
  }

  delete(id: string): boolean {
    const slot = this.slots.get(id);
    if (slot === undefined) return false;
    this.slots.delete(id);
    this.ids[slot] = undefined;
    if (this.seenOne[slot] === IN_LIST) this.seenLists.delete(slot);
    this.seenOne[slot] = NO_MARK;
    this.free.push(slot);
    return true;
  }

  clear(): void {
    this.slots.clear();
    this.seenLists.clear();
    this.free.length = 0;
    this.ids = [];
    this.w = new Float64Array(FIRST_CAPACITY);
    this.at = new Float64Array(FIRST_CAPACITY);
    this.seenOne = new Float64Array(FIRST_CAPACITY);
  }

  keys(): IterableIterator<string> {
    return this.slots.keys();
  }

  /** Every cursor, as copies made one at a time (a compaction walks them all). */
  *entries(): IterableIterator<CursorEntry> {
    for (const slot of this.slots.values()) yield this.entryAt(slot);
  }

  private entryAt(slot: number): CursorEntry {
    const one = this.seenOne[slot]!;
    const seen =
      one === IN_LIST ? (this.seenLists.get(slot) ?? NOTHING_SEEN) : Number.isNaN(one) ? NOTHING_SEEN : [one];
    return { id: this.ids[slot]!, w: this.w[slot]!, seen, at: this.at[slot]! };
  }

  private grow(): void {
    const capacity = this.w.length * 2;
    for (const column of ['w', 'at', 'seenOne'] as const) {
      const grown = new Float64Array(capacity);
      grown.set(this[column]);
      this[column] = grown;
    }
  }
}
