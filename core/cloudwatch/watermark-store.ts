import * as crypto from 'node:crypto';
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

/** The `emitted` list of almost every query: shared, so settled queries allocate nothing. */
export const NOTHING_PENDING: readonly number[] = Object.freeze([]);

/**
 * The id a query's progress is stored under: `<region>|<16 base64url characters>` (96 bits of the
 * SHA-1 of the query key `region|MetricName|dims|stat|period`). Keys are ~100 characters and every
 * query's key was held by the plan, the store and every journal line; the id is a quarter of that.
 * 96 bits: two distinct keys share an id with probability ~n²/2⁹⁷ (≈ 10⁻¹⁸ at a million queries).
 * The region prefix keeps `retainOnly` per region.
 */
export function stateId(queryKey: string): string {
  const bar = queryKey.indexOf('|');
  const region = bar === -1 ? '' : queryKey.slice(0, bar);
  // join, not a template: a flat string, not a rope of three (ids live as long as the plan).
  return [region, sha1Base64url(queryKey).slice(0, 16)].join('|');
}

/**
 * One-shot `crypto.hash` (Node ≥ 20.12) where there is one: a plan rebuild hashes every query's key, and
 * a Hash object per key was a third of the rebuild's CPU at 265,000 queries. Same digest either way.
 */
const oneShotHash = (crypto as { hash?: (algorithm: string, data: string, encoding: 'base64url') => string })
  .hash;
const sha1Base64url = (text: string): string =>
  oneShotHash
    ? oneShotHash('sha1', text, 'base64url')
    : crypto.createHash('sha1').update(text).digest('base64url');

/** Ids written by versions before snapshot version 3 were the full query key (several `|`). */
function isLegacyKey(key: string): boolean {
  const bar = key.indexOf('|');
  return bar !== -1 && key.indexOf('|', bar + 1) !== -1;
}

/** The store's own entry: updated in place by `record`, so a settled run allocates no progress objects. */
interface Entry {
  /** The key's own string, so that a rebuilt plan can share it (see canonicalId). */
  readonly id: string;
  w: number;
  emitted: readonly number[];
}

/**
 * What one flushed batch settled: parallel lists (no object per query), appended by the engine while it
 * emits a batch and handed to `record` once the batch has left the process.
 */
export class ProgressUpdates {
  readonly ids: string[] = [];
  readonly w: number[] = [];
  readonly emitted: (readonly number[])[] = [];
  get size(): number {
    return this.ids.length;
  }
  add(id: string, w: number, emitted: readonly number[]): void {
    this.ids.push(id);
    this.w.push(w);
    this.emitted.push(emitted.length === 0 ? NOTHING_PENDING : emitted);
  }
}

/** Snapshot format 3: ids (see stateId). Format 2 (full keys) is still read, and converted. */
const SNAPSHOT_VERSION = 3;
const READABLE_VERSIONS = new Set([2, 3]);
/** Entries serialised, parsed or scanned between two yields to the event loop. */
const CHUNK_ENTRIES = 5_000;

/**
 * Durable watermarks of one instance: `<state>/<instance>.json` (snapshot, written to a temp file then
 * renamed) plus `<instance>.journal` (one JSON line per flushed batch, appended after the batch's points
 * were handed to the sink). Replaying the journal over the snapshot on start means a crash at any point
 * neither loses nor repeats a batch: a batch is either in the journal (sent) or not (fetched again).
 */
export class WatermarkStore {
  private readonly progress = new Map<string, Entry>();
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
    for (const [key, value] of Object.entries(entries)) this.apply(key, value);
  }

  private apply(key: string, value: unknown): void {
    if (!Array.isArray(value) || value.length === 0 || !value.every((n) => Number.isFinite(n))) return;
    const numbers = value as number[];
    // A journal or snapshot written before ids: the same query, under its id now.
    const id = isLegacyKey(key) ? stateId(key) : key;
    this.set(id, numbers[0]!, numbers.length > 1 ? numbers.slice(1) : NOTHING_PENDING);
  }

  private set(id: string, w: number, emitted: readonly number[]): void {
    const entry = this.progress.get(id);
    if (entry) {
      entry.w = w;
      entry.emitted = emitted;
    } else {
      this.progress.set(id, { id, w, emitted });
    }
  }

  /**
   * The string the store already keys this id under, or `id` itself. A plan rebuilt after a discovery
   * refresh computes every id afresh: without this, the store's keys and the new plan's ids are two
   * copies of the same ~265,000 strings at 100k series (13 MB measured in heap snapshots).
   */
  canonicalId(id: string): string {
    return this.progress.get(id)?.id ?? id;
  }

  /**
   * The progress recorded for a query id. The object is the store's own and `record` updates it in
   * place: read it before the batch holding that id is recorded (the engine does, within the batch).
   */
  get(id: string): QueryProgress | undefined {
    return this.progress.get(id);
  }

  get size(): number {
    return this.progress.size;
  }

  /**
   * Applies progress of a flushed batch and appends it to the journal. Synchronous on purpose: called
   * in the same continuation as the sink's flush, nothing can interleave between "batch handed to the
   * socket" and "batch recorded", so a crash cannot fall between the two.
   */
  record(updates: ProgressUpdates): void {
    const n = updates.size;
    if (n === 0) return;
    // One JSON object per line, `{"<id>":[w,...emitted],…}`, built directly (no object per entry).
    let text = '{';
    for (let i = 0; i < n; i++) {
      const id = updates.ids[i]!;
      const w = updates.w[i]!;
      const emitted = updates.emitted[i]!;
      this.set(id, w, emitted);
      text += `${i === 0 ? '' : ','}${JSON.stringify(id)}:[${w}${emitted.length === 0 ? '' : `,${emitted.join(',')}`}]`;
    }
    text += '}\n';
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
   * Snapshot format (version 3; version 2 is read too): a JSON header line, then one JSON line per
   * query `["<id>", w, ...emitted]` (version 2: the full query key instead of the id). Written and read
   * in chunks, yielding to the event loop in between: at 100,000 queries one JSON document took ~0.6 s
   * of synchronous work and stalled the daemon.
   */
  private async applySnapshot(text: string): Promise<void> {
    const lines = text.split('\n');
    const header = JSON.parse(lines[0] ?? '') as { version?: number; entries?: number };
    if (!READABLE_VERSIONS.has(header.version ?? 0) || typeof header.entries !== 'number')
      throw new Error('unexpected format');
    // A version 2 file is rewritten in the current format at the first opportunity.
    if (header.version !== SNAPSHOT_VERSION) this.compactSoon = true;
    let count = 0;
    for (let i = 1; i < lines.length; i++) {
      const line = lines[i]!;
      if (!line) continue;
      const entry = JSON.parse(line) as unknown;
      if (!Array.isArray(entry) || typeof entry[0] !== 'string')
        throw new Error(`bad entry on line ${i + 1}`);
      this.apply(entry[0], entry.slice(1));
      count++;
      if (count % CHUNK_ENTRIES === 0) await yieldToEventLoop();
    }
    if (count !== header.entries) throw new Error(`truncated: ${count} of ${header.entries} entries`);
  }

  /** Folds the journal into a new snapshot: temp file, fsync, rename, then truncate the journal. */
  async compact(): Promise<void> {
    if (this.journalLines === 0 && !this.compactSoon) return;
    await mkdir(this.stateDir, { recursive: true });
    const tmp = `${this.snapshotPath}.tmp`;
    const file = await open(tmp, 'w');
    let bytes = 0;
    try {
      const header = `${JSON.stringify({ version: SNAPSHOT_VERSION, savedAt: new Date().toISOString(), entries: this.progress.size })}\n`;
      await file.write(header);
      bytes += header.length;
      let chunk = '';
      let inChunk = 0;
      let chunks = 0;
      for (const [id, p] of this.progress) {
        chunk += `[${JSON.stringify(id)},${p.w}${p.emitted.length === 0 ? '' : `,${p.emitted.join(',')}`}]\n`;
        if (++inChunk === CHUNK_ENTRIES) {
          await file.write(chunk);
          bytes += chunk.length;
          chunk = '';
          inChunk = 0;
          if (++chunks === 1) crashPoint('mid-state-write');
        }
      }
      if (inChunk > 0) {
        await file.write(chunk);
        bytes += chunk.length;
      }
      crashPoint('mid-state-write');
      await file.sync();
    } finally {
      await file.close();
    }
    await rename(tmp, this.snapshotPath);
    crashPoint('after-state-rename');
    await truncate(this.journalPath, 0).catch((error: unknown) => {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    });
    this.journalLines = 0;
    this.journalBytes = 0;
    this.snapshotBytes = bytes;
    this.compactSoon = false;
  }

  /**
   * Drops progress of queries no longer planned (series gone), so state stays bounded: every id that
   * starts with `prefix` and is not in `ids`. Yields to the event loop every few thousand entries.
   */
  async retainOnly(ids: ReadonlySet<string>, prefix: string): Promise<void> {
    let scanned = 0;
    for (const id of this.progress.keys()) {
      if (id.startsWith(prefix) && !ids.has(id)) this.progress.delete(id);
      if (++scanned % CHUNK_ENTRIES === 0) await yieldToEventLoop();
    }
  }
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
