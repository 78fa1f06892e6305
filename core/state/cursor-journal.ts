import { join } from 'node:path';
import { sha1 } from './cursor-id.js';
import type { StateFiles } from './state-files.js';

/** A state file could not be written. The message names the file and says how to fix it. */
export class StateWriteError extends Error {
  constructor(
    readonly path: string,
    readonly stateDir: string,
    cause: unknown,
  ) {
    const code = (cause as NodeJS.ErrnoException).code;
    const what = cause instanceof Error ? cause.message : String(cause);
    const fix =
      code === 'ENOSPC' || code === 'EDQUOT' || code === 'EFBIG'
        ? `free space on the volume that holds ${stateDir}, or point state_dir (DOGWATCH_STATE_DIR, --state-dir) at a larger one`
        : `make ${stateDir} writable by this user, or point state_dir (DOGWATCH_STATE_DIR, --state-dir) at a writable directory (in a container, a mounted volume)`;
    super(
      `cannot write ${path === stateDir ? 'the state directory' : 'the state file'} ${path} (${what}). dogwatch records there what it sent, so that nothing ` +
        `is sent twice; it sends nothing more until it can write again. Fix: ${fix}`,
      { cause },
    );
    this.name = 'StateWriteError';
  }
}

/** `<8 hex of the SHA-1 of the JSON> <JSON>`: a record is whole or it is ignored. */
function checksum(json: string): string {
  return sha1(json, 'hex').slice(0, 8);
}

export interface JournalReplay {
  /** The newest generation found (the one appends continue), or the one asked for. */
  readonly generation: number;
  readonly warnings: string[];
  /** Journal files that could not be read at all (to be moved aside before writing). */
  readonly unreadable: string[];
}

/** Space is reserved ahead of the records in steps of at least this much. */
const RESERVE_STEP_BYTES = 4 << 20;

/**
 * Append-only journal of cursor records, one line each: `<checksum> {"t":<ms>,"c":{"<id>":[w,…],…}}`.
 *
 * - Space is reserved ahead (`reserve`, zeros written past the last record) before a source sends a
 *   batch: a full disk then shows before anything is sent, not between "sent" and "recorded".
 * - Records are written right after the last whole record: a write that fails halfway is cut off
 *   again, and a torn tail found at start (a crash mid-write) is cut off when the file is opened, so a
 *   later record can never be glued to a broken one. Reading stops at the reserved zeros.
 * - Compaction rotates to a new generation (`cursors-<n>.journal`), so records made while a snapshot
 *   is written are not lost.
 */
export class CursorJournal {
  private fd: number | undefined;
  private goodBytes = 0;
  /** The file's size: records plus reserved zeros. */
  private allocated = 0;
  /** Bytes promised to reservations whose records are not written yet. */
  private outstanding = 0;
  /** Where the newest file's last whole record ends, found when it was read. */
  private contentEnd: number | undefined;
  /** Bytes of records taken but not yet appended (see CursorStore.record): they need room too. */
  unwrittenBytes = 0;
  generation = 0;

  constructor(
    private readonly dir: string,
    private readonly files: StateFiles,
  ) {}

  path(generation = this.generation): string {
    return join(this.dir, `cursors-${generation}.journal`);
  }

  /** Bytes in the current generation's file. */
  get bytes(): number {
    return this.goodBytes;
  }

  /** Generations present in the folder, ascending. */
  async generations(): Promise<number[]> {
    const found: number[] = [];
    for (const name of await this.files.list(this.dir)) {
      const match = /^cursors-(\d+)\.journal$/.exec(name);
      if (match) found.push(Number(match[1]));
    }
    return found.sort((a, b) => a - b);
  }

  /**
   * Replays every generation ≥ `from`, oldest first, through `apply`. Records that fail their checksum
   * are skipped; a broken tail of the newest file is cut off (it is where appends continue).
   */
  async replay(
    from: number,
    apply: (id: string, value: readonly unknown[], at: number) => void,
  ): Promise<JournalReplay> {
    const warnings: string[] = [];
    const unreadable: string[] = [];
    const generations = (await this.generations()).filter((g) => g >= from);
    for (const generation of generations) {
      const path = this.path(generation);
      let text: string;
      try {
        text = (await this.files.readText(path)) ?? '';
      } catch (error) {
        unreadable.push(path);
        warnings.push(
          `state file ${path} is unreadable (${(error as Error).message}); it is moved to ${path}.bad ` +
            '(kept for a post-mortem) and its records are not used: those cursors go back to the snapshot',
        );
        continue;
      }
      const zeros = text.indexOf('\0');
      if (zeros !== -1) text = text.slice(0, zeros);
      let offset = 0;
      let bytes = 0;
      let goodEnd = 0;
      let broken = 0;
      while (offset < text.length) {
        const newline = text.indexOf('\n', offset);
        const end = newline === -1 ? text.length : newline;
        const line = text.slice(offset, end);
        offset = end + 1;
        bytes += Buffer.byteLength(line) + 1;
        if (line === '') continue;
        const record = parseRecord(line);
        if (record === undefined || newline === -1) {
          broken++;
          continue;
        }
        for (const [id, value] of Object.entries(record.c)) apply(id, value, record.t);
        goodEnd = bytes;
      }
      if (broken > 0) warnings.push(`ignored ${broken} broken record(s) in ${path} (a write cut short)`);
      // Appends continue the newest file: they start where its last whole record ends.
      if (generation === generations[generations.length - 1]) this.contentEnd = goodEnd;
    }
    this.generation = generations[generations.length - 1] ?? from;
    return { generation: this.generation, warnings, unreadable };
  }

  /** Opens the current generation for appending (creating it): proves the folder is writable. */
  open(): void {
    if (this.fd !== undefined) return;
    const path = this.path();
    try {
      const { fd, size } = this.files.openForWrite(path);
      this.fd = fd;
      this.goodBytes = Math.min(size, this.contentEnd ?? size);
      this.contentEnd = undefined;
      // A torn record or an old reservation after the last record goes: reservations are made anew.
      if (this.goodBytes < size) this.files.truncate(fd, this.goodBytes);
      this.allocated = this.goodBytes;
    } catch (error) {
      throw new StateWriteError(path, this.dir, error);
    }
  }

  /** Appends one record (the JSON of `{"t":…,"c":{…}}`); throws StateWriteError, leaving no partial record. */
  append(json: string): void {
    this.open();
    const fd = this.fd!;
    const data = Buffer.from(`${checksum(json)} ${json}\n`);
    try {
      this.files.writeAt(fd, data, this.goodBytes);
    } catch (error) {
      this.cutBackTo(this.goodBytes);
      throw new StateWriteError(this.path(), this.dir, error);
    }
    this.goodBytes += data.length;
    this.allocated = Math.max(this.allocated, this.goodBytes);
  }

  /**
   * Makes sure `bytes` more can be appended, besides what earlier reservations still hold, without the
   * disk having to find room: writes zeros past the last record (in steps of RESERVE_STEP_BYTES).
   * Returns the release, to call once the records it was for are written (or will not be). Throws
   * StateWriteError when the room cannot be found.
   */
  reserve(bytes: number): () => void {
    this.open();
    const needed = this.goodBytes + this.outstanding + this.unwrittenBytes + bytes;
    if (this.allocated < needed) {
      try {
        this.allocateTo(Math.max(needed, this.goodBytes + RESERVE_STEP_BYTES));
      } catch {
        // A small volume: no room for a whole step, perhaps for what is needed.
        this.cutBackTo(this.goodBytes);
        try {
          this.allocateTo(needed);
        } catch (error) {
          this.cutBackTo(this.goodBytes);
          throw new StateWriteError(this.path(), this.dir, error);
        }
      }
    }
    this.outstanding += bytes;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.outstanding = Math.max(0, this.outstanding - bytes);
    };
  }

  private allocateTo(target: number): void {
    const zeros = Buffer.alloc(Math.min(1 << 20, Math.max(0, target - this.allocated)));
    while (this.allocated < target) {
      const chunk = zeros.subarray(0, Math.min(zeros.length, target - this.allocated));
      this.files.writeAt(this.fd!, chunk, this.allocated);
      this.allocated += chunk.length;
    }
  }

  /** After a failed write: nothing after the last whole record (its space is freed too). */
  private cutBackTo(length: number): void {
    try {
      this.files.truncate(this.fd!, length);
      this.allocated = length;
    } catch {
      // the next open cuts it (reading stops at the last whole record anyway)
    }
  }

  /** Starts a new generation; the next append creates its file. Returns the new generation. */
  rotate(): number {
    this.closeFile();
    this.generation++;
    this.goodBytes = 0;
    this.allocated = 0;
    this.outstanding = 0;
    this.contentEnd = undefined;
    return this.generation;
  }

  async removeBefore(generation: number): Promise<void> {
    for (const g of await this.generations()) if (g < generation) await this.files.remove(this.path(g));
  }

  closeFile(): void {
    if (this.fd === undefined) return;
    try {
      this.files.close(this.fd);
    } catch {
      // already gone
    }
    this.fd = undefined;
  }
}

function parseRecord(line: string): { t: number; c: Record<string, readonly unknown[]> } | undefined {
  const space = line.indexOf(' ');
  if (space !== 8) return undefined;
  const json = line.slice(9);
  if (checksum(json) !== line.slice(0, 8)) return undefined;
  try {
    const record = JSON.parse(json) as { t?: unknown; c?: unknown };
    if (typeof record.t !== 'number' || record.c === null || typeof record.c !== 'object') return undefined;
    return record as { t: number; c: Record<string, readonly unknown[]> };
  } catch {
    return undefined;
  }
}
