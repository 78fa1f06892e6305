import { join } from 'node:path';
import type { Clock } from '../clock.js';
import type { Logger } from '../log/logger.js';
import { CursorJournal, StateWriteError } from './cursor-journal.js';
import { JournalRecords } from './journal-records.js';
import {
  CHUNK_ENTRIES,
  type CursorEntry,
  parseCursorValue,
  readSnapshot,
  snapshotChunks,
} from './cursor-snapshot.js';
import { LegacyCursors, type LegacyOwner } from './legacy-cursors.js';
import { nodeStateFiles, type StateFiles } from './state-files.js';
import { CursorTable, NOTHING_SEEN } from './cursor-table.js';

export { StateWriteError } from './cursor-journal.js';
export type { CursorEntry } from './cursor-snapshot.js';
export type { LegacyOwner } from './legacy-cursors.js';

export { NOTHING_SEEN } from './cursor-table.js';

/** Cursors nothing recorded for this long are dropped at the next compaction. */
const DEFAULT_GRACE_MS = 7 * 86_400_000;
/**
 * Compaction runs when the journal outgrew JOURNAL_TO_SNAPSHOT snapshots (and COMPACT_AT_BYTES), or
 * COMPACT_EVERY_MS after the last one. A run records about one snapshot's worth (a record per query),
 * so a ratio of 1 wrote the whole snapshot after nearly every run; 4 writes it a quarter as often, for
 * a journal up to four snapshots long (read once, at start).
 */
const JOURNAL_TO_SNAPSHOT = 4;
const COMPACT_AT_BYTES = 1 << 20;
const COMPACT_EVERY_MS = 600_000;
/** After a failed compaction, the next attempt waits this long (the journal still holds everything). */
const COMPACT_RETRY_MS = 60_000;

/**
 * What one delivered batch settled: parallel lists (no object per cursor), appended while the batch is
 * emitted and handed to `record` once the batch was delivered.
 */
export class CursorUpdates {
  readonly ids: string[] = [];
  readonly w: number[] = [];
  readonly seen: (readonly (number | string)[])[] = [];
  get size(): number {
    return this.ids.length;
  }
  add(id: string, w: number, seen: readonly (number | string)[]): void {
    this.ids.push(id);
    this.w.push(w);
    this.seen.push(seen.length === 0 ? NOTHING_SEEN : seen);
  }
}

export interface CursorStoreOptions {
  readonly stateDir: string;
  readonly logger: Logger;
  /** Stamps records, for the grace period of cursors nothing records any more. */
  readonly clock: Clock;
  readonly files?: StateFiles;
  readonly graceMs?: number;
  /** Fault injection for the restart tests (see core/fault-injection.ts); inert when absent. */
  readonly crashPoint?: (name: string) => void;
}

/**
 * The durable cursors of every source of the process, shared by all instances: what was delivered, per
 * collected stream (a CloudWatch query, later an event or log stream), keyed by what identifies the
 * stream and nothing else, so editing an instance's options keeps them.
 *
 * On disk, in the state folder: `cursors.json` (snapshot: temp file, fsync, rename) and journals
 * `cursors-<n>.journal` (one checksummed record per delivered batch, appended right after delivery).
 * A crash at any point neither loses nor repeats a recorded batch. A record that cannot be written
 * (a full disk) leaves the store unwritable: the cursors stay in memory, sources stop sending (they ask
 * `writable`), and the next run first writes a whole snapshot again, or fails saying which file and
 * how to fix it.
 */
export class CursorStore {
  private readonly entries = new CursorTable();
  private readonly legacy: LegacyCursors;
  private readonly journal: CursorJournal;
  private readonly files: StateFiles;
  private readonly snapshotPath: string;
  private readonly graceMs: number;
  private loading: Promise<string[]> | undefined;
  private loaded = false;
  private corruptSnapshot = false;
  private compactSoon = false;
  private snapshotBytes = 0;
  private lastCompactionAt: number | undefined;
  private compactNotBefore = 0;
  private compacting: Promise<void> | undefined;
  private failure: StateWriteError | undefined;
  /** Files that could not be read at load: moved aside (`<file>.bad`) before anything is written. */
  private readonly setAside: string[] = [];
  private readonly crashPoint: (name: string) => void;
  private readonly records: JournalRecords;

  constructor(private readonly options: CursorStoreOptions) {
    this.files = options.files ?? nodeStateFiles;
    this.journal = new CursorJournal(options.stateDir, this.files);
    this.snapshotPath = join(options.stateDir, 'cursors.json');
    this.graceMs = options.graceMs ?? DEFAULT_GRACE_MS;
    this.crashPoint = options.crashPoint ?? (() => undefined);
    this.legacy = new LegacyCursors(this.files, options.stateDir, options.logger);
    this.records = new JournalRecords(this.journal, this.crashPoint, (error) => {
      this.failure =
        error instanceof StateWriteError
          ? error
          : new StateWriteError(this.journal.path(), options.stateDir, error);
      options.logger.error(this.failure.message);
      return this.failure;
    });
  }

  /**
   * Reads the state folder (writes nothing: `dogwatch check` loads it too). Shared by every caller;
   * a failed load is tried again by the next call. Resolves with warnings about what was unreadable.
   */
  load(): Promise<string[]> {
    if (this.loaded) return Promise.resolve([]);
    this.loading ??= this.readAll().then(
      (warnings) => {
        this.loaded = true;
        for (const warning of warnings) this.options.logger.warn(warning);
        return warnings;
      },
      (error: unknown) => {
        this.loading = undefined;
        throw error;
      },
    );
    return this.loading;
  }

  get size(): number {
    return this.entries.size;
  }

  /** False once a record could not be written, until `prepareToWrite` wrote everything again. */
  get writable(): boolean {
    return this.failure === undefined;
  }

  /** Why the store cannot be written, while it cannot. */
  get writeError(): StateWriteError | undefined {
    return this.failure;
  }

  /** The cursor of an id, as it is now (a copy: later records do not change it). */
  get(id: string): CursorEntry | undefined {
    return this.entries.get(id);
  }

  /** The string the store already keys this id under, or `id` itself (a rebuilt plan shares it). */
  canonicalId(id: string): string {
    return this.entries.storedId(id) ?? id;
  }

  /**
   * Before a run sends anything: the folder exists and is private, the journal can be written, and
   * after a failed write everything in memory is written again as a snapshot. Throws StateWriteError.
   */
  async prepareToWrite(): Promise<void> {
    const dir = this.options.stateDir;
    let warning: string | undefined;
    try {
      warning = await this.files.ensurePrivateDir(dir);
    } catch (error) {
      throw new StateWriteError(dir, dir, error);
    }
    if (warning) this.options.logger.warn(warning);
    await this.moveAsideUnusable();
    if (this.failure) {
      await this.compact();
      if (this.failure) throw this.failure;
    }
    this.journal.open();
  }

  /**
   * Reserves journal space for `bytes` of records before a source sends what they will record (see
   * CursorJournal.reserve): a full disk then stops a batch before it is sent. Returns the release, for
   * once the records are written. Throws StateWriteError.
   */
  reserve(bytes: number): () => void {
    if (this.failure) throw this.failure;
    return this.journal.reserve(bytes);
  }

  /**
   * Applies a delivered batch's cursors and writes them to the journal (see JournalRecords: inside a
   * settlement, together with every other source's at its end; outside one, now, throwing
   * StateWriteError). Nothing can come between "delivered" and "recorded" but the write itself. While
   * the store is unwritable the cursors are kept in memory only (the next snapshot writes them); a
   * write that fails leaves it unwritable, which the next `reserve` and `writeError` report.
   */
  record(updates: CursorUpdates): void {
    const n = updates.size;
    if (n === 0) return;
    const at = this.options.clock.now();
    for (let i = 0; i < n; i++) this.set(updates.ids[i]!, updates.w[i]!, updates.seen[i]!, at);
    if (this.failure) return;
    this.records.write(at, updates);
  }

  /**
   * A query without a cursor looks for the one it had in a state file written before cursors were
   * shared: its own instance's file first, then files of the same check and instance name; the most
   * advanced wins. Adopted cursors are removed from the legacy set; the caller records the new one.
   */
  adoptLegacy(
    legacyId: string,
    owner: LegacyOwner,
    remove = true,
  ): { w: number; seen: readonly (number | string)[] } | undefined {
    return this.legacy.adopt(legacyId, owner, this.entries, remove);
  }

  /** Compacts when it is worth it (see COMPACT_AT_BYTES, COMPACT_EVERY_MS); failures are logged and retried later. */
  async compactIfDue(): Promise<void> {
    if (!this.loaded) return;
    const now = Date.now();
    this.lastCompactionAt ??= now;
    const due =
      this.compactSoon ||
      this.failure !== undefined ||
      this.journal.bytes >= Math.max(COMPACT_AT_BYTES, JOURNAL_TO_SNAPSHOT * this.snapshotBytes) ||
      (this.journal.bytes > 0 && now - this.lastCompactionAt >= COMPACT_EVERY_MS);
    if (!due || now < this.compactNotBefore) return;
    try {
      await this.compact();
      this.lastCompactionAt = now;
    } catch (error) {
      this.compactNotBefore = now + COMPACT_RETRY_MS;
      this.options.logger.warn(
        `${error instanceof Error ? error.message : String(error)} (the journal still holds every cursor; compaction is tried again later)`,
      );
    }
  }

  /**
   * Folds the journals into a new snapshot. Appends go to a new journal generation from the start, so
   * records made while the snapshot is written are kept. Cursors nothing recorded for the grace period
   * are dropped. One compaction at a time.
   */
  compact(): Promise<void> {
    this.compacting ??= this.compactOnce().finally(() => {
      this.compacting = undefined;
    });
    return this.compacting;
  }

  /** Shutdown: a last snapshot, so the next start replays no journal. */
  async close(): Promise<void> {
    if (!this.loaded) return;
    this.records.writeUnwritten();
    try {
      if (this.journal.bytes > 0 || this.compactSoon || this.failure) await this.compact();
    } catch (error) {
      this.options.logger.error(
        `${error instanceof Error ? error.message : String(error)}` +
          (this.failure
            ? ' — cursors recorded since the disk filled up are lost; those points are sent again after restart'
            : ''),
      );
    } finally {
      this.journal.closeFile();
    }
  }

  private set(id: string, w: number, seen: readonly (number | string)[], at: number): void {
    this.entries.set(id, w, seen, at);
  }

  private async readAll(): Promise<string[]> {
    const warnings: string[] = [];
    let fromGeneration = 0;
    let text: string | undefined;
    try {
      text = await this.files.readText(this.snapshotPath);
    } catch (error) {
      warnings.push(
        `state file ${this.snapshotPath} is unreadable (${(error as Error).message}); it is moved to ` +
          `${this.snapshotPath}.bad (kept for a post-mortem) and its cursors start again from the first-run lookback`,
      );
      this.corruptSnapshot = true;
      this.setAside.push(this.snapshotPath);
    }
    if (text !== undefined) {
      try {
        this.snapshotBytes = text.length;
        const header = await readSnapshot(text, (id, at, value) => {
          const cursor = parseCursorValue(value);
          if (cursor) this.set(id, cursor.w, cursor.seen.length > 0 ? cursor.seen : NOTHING_SEEN, at);
        });
        fromGeneration = header.journalGeneration;
      } catch (error) {
        this.entries.clear();
        this.corruptSnapshot = true;
        this.setAside.push(this.snapshotPath);
        warnings.push(
          `state file ${this.snapshotPath} is corrupt (${(error as Error).message}); it is moved to ` +
            `${this.snapshotPath}.bad (kept for a post-mortem) and the cursors the journals do not hold start ` +
            'again from the first-run lookback: points in that window may be sent a second time',
        );
      }
    }
    const replay = await this.journal.replay(this.corruptSnapshot ? 0 : fromGeneration, (id, value, at) => {
      const cursor = parseCursorValue(value);
      if (cursor) this.set(id, cursor.w, cursor.seen.length > 0 ? cursor.seen : NOTHING_SEEN, at);
    });
    warnings.push(...replay.warnings);
    this.setAside.push(...replay.unreadable);
    if ((await this.journal.generations()).length > 0) this.compactSoon = true;
    for (const entryId of this.entries.keys()) this.legacy.noteKept(entryId);
    const at = this.options.clock.now();
    const imported = await this.legacy.importFiles((id, w, seen) =>
      this.set(id, w, seen.length > 0 ? seen : NOTHING_SEEN, at),
    );
    if (imported) this.compactSoon = true;
    return warnings;
  }

  /** Moves unusable state files to `<file>.bad`, kept for a post-mortem. */
  private async moveAsideUnusable(): Promise<void> {
    for (const path of this.setAside.splice(0)) {
      const aside = `${path}.bad`;
      try {
        await this.files.remove(aside);
        await this.files.rename(path, aside);
        this.options.logger.warn(`moved the unusable ${path} to ${aside}`);
      } catch {
        // gone already, or cannot be moved: the next snapshot or append replaces it
      }
    }
  }

  private async compactOnce(): Promise<void> {
    const wasFailing = this.failure;
    const generation = this.journal.rotate();
    const now = this.options.clock.now();
    // Copies, as they are at the rotation: the snapshot's header counts them before they are written.
    const list: CursorEntry[] = [];
    let dropped = 0;
    let scanned = 0;
    for (const entry of this.entries.entries()) {
      if (now - entry.at > this.graceMs) {
        this.entries.delete(entry.id);
        this.legacy.forget(entry.id);
        dropped++;
      } else list.push(entry);
      if (++scanned % CHUNK_ENTRIES === 0) await new Promise((resolve) => setImmediate(resolve));
    }
    try {
      this.snapshotBytes = await this.files.writeAtomically(
        this.snapshotPath,
        crashingMidWrite(snapshotChunks(list, list.length, generation), this.crashPoint),
      );
      this.crashPoint('after-state-rename');
    } catch (error) {
      throw new StateWriteError(`${this.snapshotPath}.tmp`, this.options.stateDir, error);
    }
    // The snapshot holds everything in memory, including what the failed appends could not write.
    if (this.failure === wasFailing) this.failure = undefined;
    this.compactSoon = false;
    await this.journal.removeBefore(generation);
    await this.legacy.removeImportedFiles();
    if (dropped > 0)
      this.options.logger.debug(
        `dropped ${dropped} cursor(s) nothing recorded for ${this.graceMs / 3_600_000} h`,
      );
  }
}

/** The restart tests' `mid-state-write` crash point: after the first chunks of a snapshot. */
async function* crashingMidWrite(
  chunks: AsyncIterable<string>,
  crashPoint: (name: string) => void,
): AsyncIterable<string> {
  let n = 0;
  for await (const chunk of chunks) {
    yield chunk;
    if (++n === 2) crashPoint('mid-state-write');
  }
  crashPoint('mid-state-write');
}
