import { appendFileSync } from 'node:fs';
import { mkdir, open, readFile, rename, rm, truncate } from 'node:fs/promises';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { join } from 'node:path';
import type { Logger } from '../log/logger.js';
import { crashPoint } from '../runtime/crash-points.js';

/**
 * Progress of one query (series × statistic): `w` is the end of its last settled period (ms); `emitted`
 * lists period starts ≥ w already sent (points that arrived while an earlier period is still awaited).
 */
export interface QueryProgress {
  readonly w: number;
  readonly emitted: readonly number[];
}

type Serialized = [number, ...number[]];

const SNAPSHOT_VERSION = 2;
/** Entries serialised or parsed between two yields to the event loop. */
const CHUNK_ENTRIES = 5_000;

/**
 * Durable watermarks of one instance: `<state>/<instance>.json` (snapshot, written to a temp file then
 * renamed) plus `<instance>.journal` (one JSON line per flushed batch, appended after the batch's points
 * were handed to the sink). Replaying the journal over the snapshot on start means a crash at any point
 * neither loses nor repeats a batch: a batch is either in the journal (sent) or not (fetched again).
 */
export class WatermarkStore {
  private readonly progress = new Map<string, QueryProgress>();
  private readonly snapshotPath: string;
  private readonly journalPath: string;
  private loaded = false;
  private journalLines = 0;
  private journalBytes = 0;
  private snapshotBytes = 0;
  private compactSoon = false;
  private lastCompactionAt: number | undefined;

  constructor(
    private readonly stateDir: string,
    instanceId: string,
    private readonly logger: Logger,
  ) {
    const safe = instanceId.replace(/[^A-Za-z0-9_.-]/g, '_');
    this.snapshotPath = join(stateDir, `${safe}.json`);
    this.journalPath = join(stateDir, `${safe}.journal`);
  }

  /**
   * Reads snapshot and journal. A corrupt or unreadable file is moved aside with a warning, and the
   * series it held start again with the first-run lookback: a safe start, never a crash loop. Throws
   * (before anything is sent) only when the state cannot be written, see below.
   */
  async load(): Promise<string | undefined> {
    if (this.loaded) return undefined;
    await this.writable(() => mkdir(this.stateDir, { recursive: true }));
    const warnings: string[] = [];
    const snapshot = await this.readStateFile(this.snapshotPath, warnings);
    if (snapshot !== undefined) {
      try {
        this.snapshotBytes = snapshot.length;
        await this.applySnapshot(snapshot);
      } catch (error) {
        this.progress.clear();
        warnings.push(await this.setAside(this.snapshotPath, 'is corrupt', error));
      }
    }
    const journal = await this.readStateFile(this.journalPath, warnings);
    if (journal) {
      // A journal left by an earlier process is folded into the snapshot at the first opportunity.
      this.journalBytes = journal.length;
      this.journalLines = 1;
      this.compactSoon = true;
      let torn = 0;
      for (const line of journal.split('\n')) {
        if (!line) continue;
        try {
          this.applyEntries(JSON.parse(line) as Record<string, unknown>);
        } catch {
          torn++;
        }
      }
      // A torn last line: the process was killed while appending it. Its batch is fetched again.
      if (torn > 0) this.logger.warn(`ignored ${torn} torn line(s) in ${this.journalPath}`);
    }
    await this.writable(async () => (await open(this.journalPath, 'a')).close());
    this.loaded = true;
    for (const warning of warnings) this.logger.warn(warning);
    return warnings.length > 0 ? warnings.join('; ') : undefined;
  }

  /**
   * Checked before the first run sends anything: progress is recorded right after each batch is sent,
   * and a batch sent but not recorded would be sent again on every run.
   */
  private async writable(write: () => Promise<unknown>): Promise<void> {
    try {
      await write();
    } catch (error) {
      throw new Error(
        `cannot write the state directory ${this.stateDir} (${errorText(error)}). dogwatch records ` +
          'there which points it sent, so that none is sent twice; nothing is collected until it is ' +
          'writable. Fix: point state_dir (DOGWATCH_STATE_DIR, --state-dir) at a writable directory ' +
          '(in a container, a mounted volume)',
        { cause: error },
      );
    }
  }

  /** The file's text; undefined when it does not exist or could not be read (then set aside, warned). */
  private async readStateFile(path: string, warnings: string[]): Promise<string | undefined> {
    try {
      return await readFile(path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      warnings.push(await this.setAside(path, 'is unreadable', error));
      return undefined;
    }
  }

  /** Moves a bad state file to `<path>.bad` (kept for a post-mortem, replaced by the next one). */
  private async setAside(path: string, what: string, error: unknown): Promise<string> {
    const aside = `${path}.bad`;
    let where: string;
    try {
      await rm(aside, { recursive: true, force: true });
      await rename(path, aside);
      where = `moved to ${aside}`;
    } catch (moveError) {
      where = `could not be moved aside (${errorText(moveError)})`;
    }
    return (
      `state file ${path} ${what} (${errorText(error)}); ${where}. The series it held start again ` +
      'from the first-run lookback: points in that window may be sent a second time, older unsent ' +
      'ones are not fetched'
    );
  }

  private applyEntries(entries: Record<string, unknown>): void {
    for (const [key, value] of Object.entries(entries)) {
      if (!Array.isArray(value) || value.length === 0 || !value.every((n) => Number.isFinite(n))) continue;
      const [w, ...emitted] = value as Serialized;
      this.progress.set(key, { w, emitted });
    }
  }

  get(key: string): QueryProgress | undefined {
    return this.progress.get(key);
  }

  get size(): number {
    return this.progress.size;
  }

  /**
   * Applies progress of a flushed batch and appends it to the journal. Synchronous on purpose: called
   * in the same continuation as the sink's flush, nothing can interleave between "batch handed to the
   * socket" and "batch recorded", so a crash cannot fall between the two.
   */
  record(updates: ReadonlyMap<string, QueryProgress>): void {
    if (updates.size === 0) return;
    const line: Record<string, Serialized> = {};
    for (const [key, p] of updates) {
      this.progress.set(key, p);
      line[key] = [p.w, ...p.emitted];
    }
    const text = `${JSON.stringify(line)}\n`;
    appendFileSync(this.journalPath, text);
    this.journalLines++;
    this.journalBytes += text.length;
    crashPoint('after-journal');
  }

  /**
   * Compacts when it is worth it: the journal outgrew the snapshot (and 1 MiB), it was left by an
   * earlier process, or 10 minutes passed. Rewriting the whole state every run would cost more than the
   * run itself at 100,000 series.
   */
  async compactIfDue(nowMs: number): Promise<void> {
    this.lastCompactionAt ??= nowMs;
    const due =
      this.compactSoon ||
      this.journalBytes >= Math.max(1 << 20, this.snapshotBytes) ||
      (this.journalLines > 0 && nowMs - this.lastCompactionAt >= 600_000);
    if (!due) return;
    await this.compact();
    this.lastCompactionAt = nowMs;
  }

  /**
   * Snapshot format (version 2): a JSON header line, then one JSON line per query
   * `["<key>", w, ...emitted]`. Written and read in chunks, yielding to the event loop in between: at
   * 100,000 queries one JSON document took ~0.6 s of synchronous work and stalled the daemon.
   */
  private async applySnapshot(text: string): Promise<void> {
    const lines = text.split('\n');
    const header = JSON.parse(lines[0] ?? '') as { version?: number; entries?: number };
    if (header.version !== SNAPSHOT_VERSION || typeof header.entries !== 'number')
      throw new Error('unexpected format');
    let count = 0;
    for (let i = 1; i < lines.length; i++) {
      const line = lines[i]!;
      if (!line) continue;
      const entry = JSON.parse(line) as unknown;
      if (!Array.isArray(entry) || typeof entry[0] !== 'string')
        throw new Error(`bad entry on line ${i + 1}`);
      this.applyEntries({ [entry[0]]: entry.slice(1) });
      count++;
      if (count % CHUNK_ENTRIES === 0) await yieldToEventLoop();
    }
    if (count !== header.entries) throw new Error(`truncated: ${count} of ${header.entries} entries`);
  }

  /** Folds the journal into a new snapshot: temp file, fsync, rename, then truncate the journal. */
  async compact(): Promise<void> {
    if (this.journalLines === 0) return;
    await mkdir(this.stateDir, { recursive: true });
    const tmp = `${this.snapshotPath}.tmp`;
    const file = await open(tmp, 'w');
    let bytes = 0;
    try {
      const header = `${JSON.stringify({ version: SNAPSHOT_VERSION, savedAt: new Date().toISOString(), entries: this.progress.size })}\n`;
      await file.write(header);
      bytes += header.length;
      let chunk: string[] = [];
      let chunks = 0;
      for (const [key, p] of this.progress) {
        chunk.push(JSON.stringify([key, p.w, ...p.emitted]));
        if (chunk.length === CHUNK_ENTRIES) {
          const text = `${chunk.join('\n')}\n`;
          await file.write(text);
          bytes += text.length;
          chunk = [];
          if (++chunks === 1) crashPoint('mid-state-write');
        }
      }
      if (chunk.length > 0) {
        const text = `${chunk.join('\n')}\n`;
        await file.write(text);
        bytes += text.length;
      }
      crashPoint('mid-state-write');
      await file.sync();
    } finally {
      await file.close();
    }
    await rename(tmp, this.snapshotPath);
    crashPoint('after-state-rename');
    await truncate(this.journalPath, 0);
    this.journalLines = 0;
    this.journalBytes = 0;
    this.snapshotBytes = bytes;
    this.compactSoon = false;
  }

  /** Drops progress of queries no longer planned (series gone), so state stays bounded. */
  retainOnly(keys: ReadonlySet<string>, prefix: string): void {
    for (const key of this.progress.keys()) {
      if (key.startsWith(prefix) && !keys.has(key)) this.progress.delete(key);
    }
  }
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
