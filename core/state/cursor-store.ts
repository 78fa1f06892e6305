import { join } from 'node:path';
import type { Clock } from '../clock.js';
import type { Logger } from '../log/logger.js';
import { crashPoint } from '../runtime/crash-points.js';
import { CursorJournal, StateWriteError } from './cursor-journal.js';
import {
  CHUNK_ENTRIES,
  type CursorEntry,
  cursorValue,
  parseCursorValue,
  readLegacyState,
  readSnapshot,
  snapshotChunks,
} from './cursor-snapshot.js';
import { nodeStateFiles, type StateFiles } from './state-files.js';

export { StateWriteError } from './cursor-journal.js';
export type { CursorEntry } from './cursor-snapshot.js';

/** The `seen` list of almost every cursor: shared, so settled cursors allocate nothing. */
export const NOTHING_SEEN: readonly never[] = Object.freeze([]);

/** Cursors nothing recorded for this long are dropped at the next compaction. */
const DEFAULT_GRACE_MS = 7 * 86_400_000;
/** Compaction runs when the journal outgrew the snapshot (and this), or this often. */
const COMPACT_AT_BYTES = 1 << 20;
const COMPACT_EVERY_MS = 600_000;
/** After a failed compaction, the next attempt waits this long (the journal still holds everything). */
const COMPACT_RETRY_MS = 60_000;
/** Legacy cursors are kept under `legacy|<old state file>|<old id>` until a query adopts them. */
const LEGACY = 'legacy|';

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
}

/** Where a query looks for the cursor it had in a state file written before cursors were shared. */
export interface LegacyOwner {
  /** The old file's base name for this instance's current ID (it is the same if the config did not change). */
  readonly instanceFile: string;
  /** Old files of the same check and instance name, with any config hash. */
  readonly sameCheck: RegExp;
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
  private readonly entries = new Map<string, CursorEntry>();
  private readonly legacyFiles = new Set<string>();
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
  /** Old per-instance files, removed once a snapshot holds what they held. */
  private readonly pendingLegacyRemoval: string[] = [];

  constructor(private readonly options: CursorStoreOptions) {
    this.files = options.files ?? nodeStateFiles;
    this.journal = new CursorJournal(options.stateDir, this.files);
    this.snapshotPath = join(options.stateDir, 'cursors.json');
    this.graceMs = options.graceMs ?? DEFAULT_GRACE_MS;
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

  /**
   * The cursor of an id. The object is the store's own and `record` updates it in place: read it
   * before the batch holding that id is recorded (the engine does, within the batch).
   */
  get(id: string): CursorEntry | undefined {
    return this.entries.get(id);
  }

  /** The string the store already keys this id under, or `id` itself (a rebuilt plan shares it). */
  canonicalId(id: string): string {
    return this.entries.get(id)?.id ?? id;
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
   * Applies a delivered batch's cursors and appends them to the journal, synchronously: called in the
   * continuation of the batch's delivery, nothing can come between "delivered" and "recorded". While
   * the store is unwritable the cursors are kept in memory only (the next snapshot writes them).
   * Throws StateWriteError when the append fails.
   */
  record(updates: CursorUpdates): void {
    const n = updates.size;
    if (n === 0) return;
    const at = this.options.clock.now();
    let json = `{"t":${at},"c":{`;
    for (let i = 0; i < n; i++) {
      const id = updates.ids[i]!;
      const w = updates.w[i]!;
      const seen = updates.seen[i]!;
      this.set(id, w, seen, at);
      json += `${i === 0 ? '' : ','}${JSON.stringify(id)}:${cursorValue(w, seen)}`;
    }
    json += '}}';
    if (this.failure) return;
    try {
      this.journal.append(json);
      crashPoint('after-journal');
    } catch (error) {
      this.failure =
        error instanceof StateWriteError
          ? error
          : new StateWriteError(this.journal.path(), this.options.stateDir, error);
      this.options.logger.error(this.failure.message);
      throw this.failure;
    }
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
    if (this.legacyFiles.size === 0) return undefined;
    let best: CursorEntry | undefined;
    const candidates: string[] = [];
    for (const file of this.legacyFiles) {
      if (file !== owner.instanceFile && !owner.sameCheck.test(file)) continue;
      const key = `${LEGACY}${file}|${legacyId}`;
      const entry = this.entries.get(key);
      if (!entry) continue;
      candidates.push(key);
      if (best === undefined || entry.w > best.w) best = entry;
    }
    if (remove) for (const key of candidates) this.entries.delete(key);
    return best && { w: best.w, seen: best.seen };
  }

  /** Compacts when it is worth it (see COMPACT_AT_BYTES, COMPACT_EVERY_MS); failures are logged and retried later. */
  async compactIfDue(): Promise<void> {
    if (!this.loaded) return;
    const now = Date.now();
    this.lastCompactionAt ??= now;
    const due =
      this.compactSoon ||
      this.failure !== undefined ||
      this.journal.bytes >= Math.max(COMPACT_AT_BYTES, this.snapshotBytes) ||
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
    const entry = this.entries.get(id);
    if (entry) {
      entry.w = w;
      entry.seen = seen;
      entry.at = at;
    } else {
      this.entries.set(id, { id, w, seen, at });
    }
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
    for (const entryId of this.entries.keys()) {
      if (entryId.startsWith(LEGACY)) this.legacyFiles.add(legacyFileOf(entryId));
    }
    warnings.push(...(await this.importLegacyFiles()));
    return warnings;
  }

  /** Per-instance state files of earlier versions: their cursors are kept for the queries to adopt. */
  private async importLegacyFiles(): Promise<string[]> {
    const names = await this.files.list(this.options.stateDir);
    const bases = new Set<string>();
    for (const name of names) {
      const match = /^(.+)\.(json|journal)$/.exec(name);
      if (!match || name === 'cursors.json' || /^cursors-\d+\.journal$/.test(name)) continue;
      bases.add(match[1]!);
    }
    const at = this.options.clock.now();
    let imported = 0;
    for (const base of bases) {
      const dir = this.options.stateDir;
      const read = async (file: string): Promise<string | undefined> => {
        try {
          return await this.files.readText(join(dir, file));
        } catch {
          return undefined;
        }
      };
      const legacy = await readLegacyState(await read(`${base}.json`), await read(`${base}.journal`));
      for (const [oldId, cursor] of legacy) {
        this.set(
          `${LEGACY}${base}|${oldId}`,
          cursor.w,
          cursor.seen.length > 0 ? cursor.seen : NOTHING_SEEN,
          at,
        );
        imported++;
      }
      this.legacyFiles.add(base);
      this.pendingLegacyRemoval.push(join(dir, `${base}.json`), join(dir, `${base}.journal`));
    }
    if (bases.size === 0) return [];
    this.compactSoon = true;
    this.options.logger.info(
      `state of ${bases.size} instance(s) written by an earlier version: ${imported} cursor(s) kept for their queries (${[...bases].join(', ')})`,
    );
    return [];
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
    const list: CursorEntry[] = [];
    let dropped = 0;
    let scanned = 0;
    for (const [id, entry] of this.entries) {
      if (now - entry.at > this.graceMs) {
        this.entries.delete(id);
        if (id.startsWith(LEGACY)) this.legacyFiles.delete(legacyFileOf(id));
        dropped++;
      } else list.push(entry);
      if (++scanned % CHUNK_ENTRIES === 0) await new Promise((resolve) => setImmediate(resolve));
    }
    try {
      this.snapshotBytes = await this.files.writeAtomically(
        this.snapshotPath,
        crashingMidWrite(snapshotChunks(list, list.length, generation)),
      );
      crashPoint('after-state-rename');
    } catch (error) {
      throw new StateWriteError(`${this.snapshotPath}.tmp`, this.options.stateDir, error);
    }
    // The snapshot holds everything in memory, including what the failed appends could not write.
    if (this.failure === wasFailing) this.failure = undefined;
    this.compactSoon = false;
    await this.journal.removeBefore(generation);
    for (const path of this.pendingLegacyRemoval.splice(0)) await this.files.remove(path);
    if (dropped > 0)
      this.options.logger.debug(
        `dropped ${dropped} cursor(s) nothing recorded for ${this.graceMs / 3_600_000} h`,
      );
  }
}

/** `legacy|<file>|<region>|<hash>` → `<file>`. */
function legacyFileOf(key: string): string {
  return key.slice(LEGACY.length, key.lastIndexOf('|', key.lastIndexOf('|') - 1));
}

/** The restart tests' `mid-state-write` crash point: after the first chunks of a snapshot. */
async function* crashingMidWrite(chunks: AsyncIterable<string>): AsyncIterable<string> {
  let n = 0;
  for await (const chunk of chunks) {
    yield chunk;
    if (++n === 2) crashPoint('mid-state-write');
  }
  crashPoint('mid-state-write');
}
