import { afterSettlement, inSettlement } from '../sink/settlement.js';
import type { CursorJournal } from './cursor-journal.js';
import { cursorValue } from './cursor-snapshot.js';

/**
 * Ids JSON.stringify writes as they are between quotes: no quote, backslash, control character or
 * surrogate (cursor ids are `<region>|<base64url>`; an id from an older state file may be anything).
 */
// eslint-disable-next-line no-control-regex
const PLAIN_ID = /^[^"\\\u0000-\u001f\ud800-\udfff]*$/;

/** What one `write` carries: parallel lists of cursor ids, watermarks and seen marks (CursorUpdates). */
interface RecordedCursors {
  readonly size: number;
  readonly ids: readonly string[];
  readonly w: readonly number[];
  readonly seen: readonly (readonly (number | string)[])[];
}

/**
 * Turns the store's records into journal records. Inside a settlement (core/sink/settlement.ts: a
 * transport confirming what it sent at once) the cursors of every source are kept until it ends and
 * then written as one journal record, so a kill cannot fall between one source's record and the
 * next's; a cursor recorded twice in it is written once, with its last value. Outside a settlement a
 * record is appended at once. A failed append goes to `failed`, which returns the error to throw
 * (outside a settlement) or to keep (at its end, where nobody could catch it).
 */
export class JournalRecords {
  /** Cursors of the current settlement, id → value JSON, in the order first recorded. */
  private readonly unwritten = new Map<string, string>();
  private unwrittenAt = 0;

  constructor(
    private readonly journal: CursorJournal,
    private readonly crashPoint: (name: string) => void,
    private readonly failed: (error: unknown) => Error,
  ) {}

  write(at: number, cursors: RecordedCursors): void {
    if (inSettlement()) {
      if (this.unwritten.size === 0) afterSettlement(() => this.writeUnwritten(), 'write');
      for (let i = 0; i < cursors.size; i++) {
        const id = cursors.ids[i]!;
        const value = cursorValue(cursors.w[i]!, cursors.seen[i]!);
        // Room for it is counted as taken until it is written (see CursorJournal.reserve).
        this.journal.unwrittenBytes += id.length + value.length + 4;
        this.unwritten.set(id, value);
      }
      this.unwrittenAt = at;
      return;
    }
    let json = `{"t":${at},"c":{`;
    for (let i = 0; i < cursors.size; i++)
      json += `${i === 0 ? '' : ','}${JSON.stringify(cursors.ids[i]!)}:${cursorValue(cursors.w[i]!, cursors.seen[i]!)}`;
    this.append(`${json}}}`);
  }

  /** The settlement's cursors as one journal record; a failure is kept by `failed`, not thrown. */
  writeUnwritten(): void {
    if (this.unwritten.size === 0) return;
    // Pieces joined once: appending to one string made a rope of several strings per cursor.
    const parts: string[] = [`{"t":${this.unwrittenAt},"c":{`];
    let first = true;
    for (const [id, value] of this.unwritten) {
      if (PLAIN_ID.test(id)) parts.push(first ? '"' : ',"', id, '":', value);
      else parts.push(first ? '' : ',', JSON.stringify(id), ':', value);
      first = false;
    }
    parts.push('}}');
    const json = parts.join('');
    this.unwritten.clear();
    this.journal.unwrittenBytes = 0;
    try {
      this.append(json);
    } catch {
      // kept by `failed` and logged there: sources see it at their next reserve
    }
  }

  private append(json: string): void {
    try {
      this.journal.append(json);
    } catch (error) {
      throw this.failed(error);
    }
    this.crashPoint('after-journal');
  }
}
